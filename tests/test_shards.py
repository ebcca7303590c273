"""Shards and merge: K/N of the papers per run, merged back into one corpus equal to a single run's."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import SAMPLE, invoke, read_jsonl

from pipeline.intake import shard_of

EXPECTED = [1, 0, 1, 1, 0, 3]  # computed once: must never change, or shards of old runs stop lining up


def _comparable(records: list[dict]) -> list[dict]:
    for record in records:
        record["provenance"].pop("created_at")
    return records


def test_shard_ids_are_stable_across_processes_and_versions() -> None:
    # SHA-256 of the id: fixed values, the same on every machine and Python (hash() would change per process).
    assert [shard_of(f"arxiv:2401.0000{i}", 4) for i in range(6)] == EXPECTED
    assert shard_of("arxiv:2401.00001", 1) == 0
    assert {shard_of(f"title:{i}", 3) for i in range(100)} == {0, 1, 2}


def test_two_shards_merged_equal_one_run(tmp_path: Path) -> None:
    whole, a, b, merged = (tmp_path / name for name in ("whole", "a", "b", "merged"))
    invoke("run", str(SAMPLE), "--out", str(whole))
    ra = json.loads(invoke("run", str(SAMPLE), "--shard", "0/2", "--out", str(a), "--json").stdout)
    rb = json.loads(invoke("run", str(SAMPLE), "--shard", "1/2", "--out", str(b), "--json").stdout)
    assert ra["total"] + rb["total"] == 69 and ra["other_shards"] == rb["total"] and 0 < ra["total"] < 69
    summary = json.loads(invoke("merge", str(a), str(b), "--out", str(merged), "--json").stdout)
    assert summary["corpus_total"] == 69 and summary["total"] == 69
    assert _comparable(read_jsonl(merged / "corpus.jsonl")) == _comparable(read_jsonl(whole / "corpus.jsonl"))
    assert (merged / "comparison.html").exists() and (merged / "feed.xml").exists()
    md = (merged / "comparison.md").read_text().splitlines()
    assert len(md) == 2 + 69
    # Idempotent and order-free: merging again, or the other way round, changes nothing.
    before = (merged / "corpus.jsonl").read_bytes()
    invoke("merge", str(b), str(a), "--out", str(merged))
    assert (merged / "corpus.jsonl").read_bytes() == before
    other = tmp_path / "other"
    invoke("merge", str(b), str(a), "--out", str(other))
    assert (other / "corpus.jsonl").read_bytes() == before


def test_merge_keeps_the_newest_arxiv_version(tmp_path: Path) -> None:
    old, new, out = tmp_path / "old", tmp_path / "new", tmp_path / "out"
    for folder, version in ((old, 1), (new, 3)):
        data = tmp_path / f"v{version}.jsonl"
        data.write_text(
            json.dumps({"id": f"2401.00001v{version}", "title": "T", "abstract": f"We study v{version}. It works."})
            + "\n"
        )
        invoke("run", str(data), "--out", str(folder))
    invoke("merge", str(new), str(old), "--out", str(out))
    assert [r["source_meta"]["version"] for r in read_jsonl(out / "corpus.jsonl")] == [3]
    invoke("merge", str(old), "--out", str(out))
    assert [r["source_meta"]["version"] for r in read_jsonl(out / "corpus.jsonl")] == [3]


def test_merge_names_a_folder_without_a_corpus(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = invoke("merge", str(tmp_path / "empty"), "--out", str(tmp_path / "out"), expect=2)
    assert "no corpus.jsonl" in result.output


def test_a_bad_shard_is_a_usage_error(out: Path) -> None:
    for bad in ("2/2", "1-2", "x/3"):
        result = invoke("run", str(SAMPLE), "--shard", bad, "--out", str(out), expect=2)
        assert "shard" in result.output


def test_merge_sorts_an_edited_shard_instead_of_writing_an_unsorted_corpus(tmp_path: Path) -> None:
    a, b, merged = tmp_path / "a", tmp_path / "b", tmp_path / "merged"
    invoke("run", str(SAMPLE), "--shard", "0/2", "--out", str(a))
    invoke("run", str(SAMPLE), "--shard", "1/2", "--out", str(b))
    lines = (b / "corpus.jsonl").read_text().splitlines()
    (b / "corpus.jsonl").write_text("\n".join(reversed(lines)) + "\n")  # edited by hand: out of order
    invoke("merge", str(a), str(b), "--out", str(merged))
    ids = [r["id"] for r in read_jsonl(merged / "corpus.jsonl")]
    assert len(ids) == 69 and ids == sorted(ids)
    assert not list(merged.glob(".spool-*"))
