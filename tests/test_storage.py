"""The cache (JSON text only, never a pickle), the corpus merge and the tables' escaping."""

from __future__ import annotations

import json
import pickle
import sqlite3
from pathlib import Path

import pytest
from conftest import SAMPLE, invoke, read_jsonl

from pipeline import corpus
from pipeline.cache import SummaryCache, cache_key


def _key(**change: object) -> str:
    base: dict = {"text": "t", "engine": "e", "model": "m", "params": {"a": 1}, "prompt_hash": "p"}
    base.update(change)
    return cache_key(**base)


def test_cache_key_changes_with_everything_that_changes_the_output() -> None:
    keys = {_key(), _key(text="u"), _key(engine="f"), _key(model="n"), _key(params={"a": 2}), _key(prompt_hash="q")}
    assert len(keys) == 6
    assert _key(params={"a": 1, "b": 2}) == _key(params={"b": 2, "a": 1})  # canonical JSON


def test_cache_stores_json_text_and_refuses_other_values(tmp_path: Path) -> None:
    cache = SummaryCache(tmp_path / "c")
    cache.set("k", {"x": [1, "é"]})
    assert cache.get("k") == {"x": [1, "é"]}
    with pytest.raises(TypeError):
        cache._cache.set("raw", object())  # diskcache would pickle it: our Disk refuses


class _Boom:
    def __reduce__(self):  # unpickling this would run code
        return (Path(self.marker).touch, ())

    marker = ""


def test_a_pickled_row_is_never_unpickled(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    _Boom.marker = str(marker)
    cache = SummaryCache(tmp_path / "c")
    cache.set("k", {"ok": True})
    cache.close()
    db = sqlite3.connect(tmp_path / "c" / "cache.db")
    db.execute("UPDATE Cache SET value = ?, mode = 4 WHERE key = 'k'", (pickle.dumps(_Boom()),))
    db.commit()
    db.close()
    cache = SummaryCache(tmp_path / "c")
    assert cache.get("k") is None
    assert not marker.exists()
    assert cache.corrupted == 1


def test_a_corrupted_cache_entry_is_a_miss_and_is_replaced(out: Path, tmp_path: Path) -> None:
    invoke("run", str(SAMPLE), "--out", str(out))
    db = sqlite3.connect(tmp_path / "cache" / "cache.db")
    db.execute("UPDATE Cache SET value = '{\"summary\": tru' WHERE rowid IN (SELECT rowid FROM Cache LIMIT 3)")
    db.commit()
    db.close()
    report = json.loads(invoke("run", str(SAMPLE), "--out", str(out), "--json").stdout)
    assert (report["cached"], report["new"], report["failed"]) == (66, 3, 0)
    assert report["cache_corrupted"] == 3
    report = json.loads(invoke("run", str(SAMPLE), "--out", str(out), "--json").stdout)
    assert (report["cached"], report["new"]) == (69, 0)


def test_corpus_with_a_torn_line_keeps_good_records_and_reports_the_line(out: Path) -> None:
    invoke("run", str(SAMPLE), "--out", str(out))
    path = out / "corpus.jsonl"
    lines = path.read_text().splitlines()
    torn = lines[10][: len(lines[10]) // 2]
    path.write_text("\n".join(lines[:10] + [torn] + lines[11:]) + "\n")
    report = json.loads(invoke("run", str(SAMPLE), "--out", str(out), "--json").stdout)
    assert report["corpus_invalid_lines"] == [11]
    assert len(read_jsonl(path)) == 69  # the torn paper is re-made from the cache
    rejected = read_jsonl(out / corpus.REJECTED_NAME)
    assert rejected[0]["line"] == 11 and rejected[0]["text"] == torn


def test_a_hand_edited_unsorted_corpus_still_merges_by_id(out: Path, tmp_path: Path) -> None:
    invoke("run", str(SAMPLE), "--out", str(out))
    path = out / "corpus.jsonl"
    lines = path.read_text().splitlines()
    path.write_text("\n".join(reversed(lines)) + "\n")
    extra = tmp_path / "extra.jsonl"
    extra.write_text(json.dumps({"id": "zzz", "title": "Last", "abstract": "We do Z. Z works."}) + "\n")
    report = json.loads(invoke("run", str(extra), "--out", str(out), "--json").stdout)
    assert (report["corpus_total"], report["corpus_added"]) == (70, 1)
    ids = [r["id"] for r in read_jsonl(path)]
    assert ids == sorted(ids) and len(set(ids)) == 70


def test_tables_escape_pipes_html_and_formulas(out: Path, tmp_path: Path) -> None:
    data = tmp_path / "evil.jsonl"
    data.write_text(
        json.dumps(
            {
                "title": "A | B <script>alert(1)</script> [x](javascript:alert(1))",
                "abstract": '=HYPERLINK("http://evil") We propose <b>bold</b> | things. It works.',
                "url": "javascript:alert(1)",
            }
        )
        + "\n"
    )
    invoke("run", str(data), "--out", str(out))
    md = (out / "comparison.md").read_text().splitlines()[2]
    assert md.count(" | ") == 6 and "<script>" not in md and "[x](javascript" not in md
    html = (out / "comparison.html").read_text()
    assert "<script>alert" not in html and "\\u003cscript\\u003e" in html and '"u":null' in html  # not a link
    csv_text = (out / "comparison.csv").read_text()
    assert ",=HYPERLINK" not in csv_text


def test_a_version_1_corpus_is_upgraded_in_place_not_rejected(out: Path) -> None:
    from conftest import SAMPLE

    invoke("run", str(SAMPLE), "--out", str(out))
    lines = (out / "corpus.jsonl").read_text().splitlines()
    old = []
    for line in lines:
        obj = json.loads(line)
        obj["schema_version"] = 1
        obj["links"] = [{"url": link["url"], "kind": link["kind"]} for link in obj["links"]]
        old.append(json.dumps(obj))
    (out / "corpus.jsonl").write_text("\n".join(old) + "\n")
    invoke("run", str(SAMPLE), "--out", str(out))
    records = [json.loads(line) for line in (out / "corpus.jsonl").read_text().splitlines()]
    assert len(records) == 69 and {r["schema_version"] for r in records} == {3}
    assert all(link["origin"] == "abstract" for r in records for link in r["links"])
    assert not (out / "corpus.rejected.jsonl").exists()


def test_records_and_an_unsorted_corpus_go_through_disk_in_bounded_memory(
    tmp_path: Path, out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline import intake
    from pipeline.corpus import spool

    monkeypatch.setattr(spool, "SPOOL_LINES", 25)  # spill to sorted runs on disk every 25 records
    monkeypatch.setattr(intake, "CHUNK", 40)  # read and summarise 40 papers at a time
    spilled: list[list[str]] = []  # the ids of each sorted run, read back from disk as it was written
    spill = spool.Spool._spill

    def spill_and_note(self: spool.Spool) -> None:
        spill(self)
        spilled.append([json.loads(raw)[0] for raw in self.runs[-1].read_bytes().splitlines()])

    monkeypatch.setattr(spool.Spool, "_spill", spill_and_note)
    data = tmp_path / "many.jsonl"
    rows = [
        {"title": f"Paper {i}", "abstract": f"We study topic {i}. It improves accuracy by {i}.5 points."}
        for i in range(150)
    ]
    rows.append(dict(rows[3]))  # a duplicate in a later chunk
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    report = json.loads(invoke("run", str(data), "--out", str(out), "--json").stdout)
    assert report["total"] == 150 and report["duplicates"] == 1
    records = [json.loads(line) for line in (out / "corpus.jsonl").read_text().splitlines()]
    assert len(records) == 150 and [r["id"] for r in records] == sorted(r["id"] for r in records)
    assert len(spilled) >= 150 // 25 and all(len(run) == 25 and run == sorted(run) for run in spilled)
    assert not list(out.glob(".spool-*"))  # the spilled runs are gone
    spilled.clear()
    # An edited (unsorted) corpus with a duplicate line is sorted through the spool, the duplicate kept aside.
    lines = (out / "corpus.jsonl").read_text().splitlines()
    (out / "corpus.jsonl").write_text("\n".join([*reversed(lines), lines[10]]) + "\n")
    invoke("run", str(data), "--out", str(out))
    again = [json.loads(line) for line in (out / "corpus.jsonl").read_text().splitlines()]
    assert [r["id"] for r in again] == [r["id"] for r in records]
    rejected = [json.loads(line) for line in (out / "corpus.rejected.jsonl").read_text().splitlines()]
    assert len(rejected) == 1 and "duplicate id" in rejected[0]["error"]
    assert len(spilled) >= 2 * (150 // 25)  # the run's records and the unsorted corpus both went to disk
    assert not list(out.glob(".spool-*"))
