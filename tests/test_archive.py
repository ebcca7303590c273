"""The partitioned corpus and its archive (issue 27): migration from a single corpus.jsonl, the digest per run
and the archive per period, only changed periods and partitions rewritten, a crash between partition writes,
shards and merge over partitions, export, and the page's archive links in Chromium."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from conftest import SAMPLE, invoke, read_jsonl

from pipeline import archive
from pipeline.archive import store, write
from pipeline.sources.files import read_inputs


@pytest.fixture
def partitioned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUMMARIZE_CORPUS_LAYOUT", "partitioned")


def _day(monkeypatch: pytest.MonkeyPatch, day: str) -> None:
    monkeypatch.setattr(archive, "today", lambda: day)


def _run_on(monkeypatch: pytest.MonkeyPatch, day: str, papers: Path, out: Path) -> dict:
    """``summarize run papers --out out`` as if today were ``day``; the run's JSON report."""
    _day(monkeypatch, day)
    return json.loads(invoke("run", str(papers), "--out", str(out), "--json").stdout)


def _papers(path: Path, start: int, stop: int, edit: int | None = None) -> Path:
    """The sample's papers ``start:stop`` as JSONL; ``edit``: that paper's abstract gains a sentence (same id)."""
    papers = list(read_inputs([str(SAMPLE)]))[start:stop]
    with path.open("w") as fh:
        for n, paper in enumerate(papers, start=start):
            abstract = paper.abstract + (
                " We also release a second version with 12.5% fewer errors." if n == edit else ""
            )
            fh.write(json.dumps({"title": paper.title, "abstract": abstract}) + "\n")
    return path


def _all_lines(out: Path) -> list[dict]:
    return [json.loads(line.text) for line in store.read_lines(out)]


def _ids_in_partitions(out: Path) -> list[str]:
    found = []
    for name in store.partitions(out):
        found += [record["id"] for record in read_jsonl(out / "corpus" / f"{name}.jsonl")]
    return found


def _manifest_matches_disk(out: Path) -> None:
    manifest = json.loads((out / "corpus" / "manifest.json").read_text())
    assert set(manifest["partitions"]) == set(store.partitions(out))
    for name, entry in manifest["partitions"].items():
        data = (out / "corpus" / f"{name}.jsonl").read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest() and entry["bytes"] == len(data)
        assert entry["records"] == data.count(b"\n")
    assert manifest["records"] == len(_ids_in_partitions(out))


def test_a_single_corpus_is_migrated_without_loss_and_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    invoke("run", str(SAMPLE), "--out", str(out))
    single = (out / "corpus.jsonl").read_text().splitlines()
    with (out / "corpus.jsonl").open("a") as fh:
        fh.write('{"id": "broken", "title": 3}\n')  # an invalid line: kept aside, never dropped
    monkeypatch.setenv("SUMMARIZE_CORPUS_LAYOUT", "partitioned")
    _day(monkeypatch, "2026-03-12")
    report = json.loads(invoke("run", str(SAMPLE), "--out", str(out), "--json").stdout)
    assert not (out / "corpus.jsonl").exists()
    assert report["corpus_total"] == 69 and report["corpus_unchanged"] == 69 and report["corpus_added"] == 0
    # Every record of the single file, byte for byte, in the partition of the month its summary was made.
    partition_lines = [
        line for name in store.partitions(out) for line in (out / "corpus" / f"{name}.jsonl").read_text().splitlines()
    ]
    assert sorted(partition_lines) == sorted(single)
    assert "broken" in (out / "corpus.rejected.jsonl").read_text()
    _manifest_matches_disk(out)
    # And back to one file: the same records.
    monkeypatch.setenv("SUMMARIZE_CORPUS_LAYOUT", "single")
    invoke("run", str(SAMPLE), "--out", str(out))
    assert sorted((out / "corpus.jsonl").read_text().splitlines()) == sorted(single)
    assert store.partitions(out) == [] and not (out / "corpus" / "manifest.json").exists()


def test_the_digest_holds_this_run_and_the_archive_one_file_set_per_day(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, partitioned: None
) -> None:
    out = tmp_path / "out"
    _run_on(monkeypatch, "2026-03-30", _papers(tmp_path / "a.jsonl", 0, 40), out)
    first = {p: (out / "archive" / f"2026-03-30.{p}").stat().st_mtime_ns for p in ("md", "csv", "html", "json")}
    _run_on(monkeypatch, "2026-04-02", _papers(tmp_path / "b.jsonl", 40, 69), out)
    # The corpus: two partitions by first-seen month, every paper once.
    assert store.partitions(out) == ["2026-03", "2026-04"]
    ids = _ids_in_partitions(out)
    assert len(ids) == len(set(ids)) == 69
    _manifest_matches_disk(out)
    # The digest is the second run's 29 papers; the first day's files were not written again.
    digest = (out / "comparison.csv").read_text().splitlines()
    assert len(digest) == 1 + 29
    assert {p: (out / "archive" / f"2026-03-30.{p}").stat().st_mtime_ns for p in first} == first
    index = json.loads((out / "archive" / "index.json").read_text())
    assert index["periods"] == {"2026-03-30": 40, "2026-04-02": 29} and index["records"] == 69
    assert len(json.loads((out / "archive" / "2026-03-30.json").read_text())) == 40
    page = (out / "comparison.html").read_text()
    assert 'href="archive/2026-03-30.html"' in page and 'href="archive/index.html"' in page
    # Export gives the whole table on demand.
    assert len(invoke("export", str(out), "--format", "csv").stdout.splitlines()) == 1 + 69
    invoke("export", str(out), "--format", "jsonl", "--out", str(tmp_path / "all.jsonl"))
    assert len(read_jsonl(tmp_path / "all.jsonl")) == 69


def test_an_update_stays_in_its_partition_and_renders_its_period_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, partitioned: None
) -> None:
    out = tmp_path / "out"
    _run_on(monkeypatch, "2026-03-30", _papers(tmp_path / "a.jsonl", 0, 10), out)
    report = _run_on(monkeypatch, "2026-04-02", _papers(tmp_path / "b.jsonl", 5, 15, edit=6), out)
    # (the five seen before are rewritten: their place in this listing, source_meta.position, changed)
    assert report["corpus_added"] == 5 and report["corpus_replaced"] + report["corpus_unchanged"] == 5
    march = read_jsonl(out / "corpus" / "2026-03.jsonl")
    assert len(march) == 10 and any("second version" in r["abstract"] for r in march)
    assert len(read_jsonl(out / "corpus" / "2026-04.jsonl")) == 5
    assert (
        "second version" in (out / "archive" / "2026-03-30.csv").read_text()
        or "12.5%" in (out / "archive" / "2026-03-30.html").read_text()
    )
    assert len((out / "comparison.csv").read_text().splitlines()) == 1 + 10  # every paper this run wrote


def test_a_hand_edited_partition_is_read_by_its_ids_and_its_bad_line_kept_aside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, partitioned: None
) -> None:
    out = tmp_path / "out"
    _run_on(monkeypatch, "2026-03-30", _papers(tmp_path / "a.jsonl", 0, 10), out)
    path = out / "corpus" / "2026-03.jsonl"
    lines = path.read_text().splitlines()
    edited = json.loads(lines[0])
    reordered = {key: edited[key] for key in reversed(list(edited))}  # "id" no longer first: read in full
    path.write_text("\n".join([json.dumps(reordered), *lines[1:], "not json at all"]) + "\n")
    report = _run_on(monkeypatch, "2026-03-31", _papers(tmp_path / "b.jsonl", 0, 12), out)
    assert report["corpus_added"] == 2 and report["corpus_total"] == 12
    ids = _ids_in_partitions(out)
    assert len(ids) == len(set(ids)) == 12 and edited["id"] in ids
    assert "not json at all" in (out / "corpus.rejected.jsonl").read_text()
    _manifest_matches_disk(out)


def test_a_crash_between_partition_writes_loses_nothing_and_doubles_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, partitioned: None
) -> None:
    out = tmp_path / "out"
    _run_on(monkeypatch, "2026-03-31", _papers(tmp_path / "a.jsonl", 0, 30), out)
    before = json.loads((out / "corpus" / "manifest.json").read_text())
    _day(monkeypatch, "2026-04-01")
    day2 = _papers(tmp_path / "b.jsonl", 20, 60, edit=25)  # 30 new papers for April, one March paper updated
    real = write.upsert

    def crashing(*args: object, **kwargs: object) -> write.Upsert:
        def cut(name: str) -> None:
            raise RuntimeError(f"power cut after {name}")

        return real(*args, **kwargs, between=cut)  # type: ignore[arg-type]

    monkeypatch.setattr(write, "upsert", crashing)
    with pytest.raises(RuntimeError, match="power cut after 2026-03"):
        invoke("run", str(day2), "--out", str(out))
    # March was renamed into place whole, April never written, the manifest still the old one.
    assert store.partitions(out) == ["2026-03"]
    assert json.loads((out / "corpus" / "manifest.json").read_text()) == before
    assert len(read_jsonl(out / "corpus" / "2026-03.jsonl")) == 30
    monkeypatch.setattr(write, "upsert", real)
    (out / "archive" / ".2026-04-01.html.killed.tmp").write_text("a run killed while it wrote the page")
    report = json.loads(invoke("run", str(day2), "--out", str(out), "--json").stdout)
    ids = _ids_in_partitions(out)
    assert len(ids) == len(set(ids)) == 60 and report["corpus_total"] == 60
    assert len(read_jsonl(out / "corpus" / "2026-04.jsonl")) == 30
    _manifest_matches_disk(out)
    assert not list((out / "corpus").glob(".*.tmp")) and not list((out / "archive").glob(".*.tmp"))
    assert json.loads((out / "archive" / "index.json").read_text())["periods"] == {"2026-03-31": 30, "2026-04-01": 30}


def test_shards_merged_over_partitions_equal_one_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, partitioned: None
) -> None:
    _day(monkeypatch, "2026-03-12")
    a, b, whole, merged = (tmp_path / n for n in ("a", "b", "whole", "merged"))
    invoke("run", str(SAMPLE), "--shard", "0/2", "--out", str(a))
    invoke("run", str(SAMPLE), "--shard", "1/2", "--out", str(b))
    invoke("run", str(SAMPLE), "--out", str(whole))
    assert not (a / "corpus.jsonl").exists() and store.partitions(a) == ["2026-03"]
    _day(monkeypatch, "2026-03-20")  # merged later: the shards' first-seen day is kept
    summary = json.loads(invoke("merge", str(a), str(b), "--out", str(merged), "--json").stdout)
    assert summary["corpus_total"] == 69
    assert _all_lines(merged) == _all_lines(whole)
    assert json.loads((merged / "archive" / "index.json").read_text())["periods"] == {"2026-03-12": 69}
    again = json.loads(invoke("merge", str(b), str(a), "--out", str(merged), "--json").stdout)  # order-free
    assert again["corpus_total"] == 69 and _all_lines(merged) == _all_lines(whole)
    _manifest_matches_disk(merged)
    # A single-layout folder merges partitioned shards too.
    monkeypatch.setenv("SUMMARIZE_CORPUS_LAYOUT", "single")
    invoke("merge", str(a), str(b), "--out", str(tmp_path / "flat"))
    assert len(read_jsonl(tmp_path / "flat" / "corpus.jsonl")) == 69


def test_weeks_and_months_as_periods(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, partitioned: None) -> None:
    out = tmp_path / "out"
    monkeypatch.setenv("SUMMARIZE_ARCHIVE_PERIOD", "week")
    _run_on(monkeypatch, "2026-03-31", _papers(tmp_path / "a.jsonl", 0, 10), out)  # ISO week 14 runs into April
    _run_on(monkeypatch, "2026-04-02", _papers(tmp_path / "b.jsonl", 10, 20), out)
    assert json.loads((out / "archive" / "index.json").read_text())["periods"] == {"2026-W14": 20}
    assert len((out / "archive" / "2026-W14.csv").read_text().splitlines()) == 1 + 20
    monkeypatch.setenv("SUMMARIZE_ARCHIVE_PERIOD", "month")  # another period kind: every period again
    invoke("run", str(_papers(tmp_path / "b.jsonl", 10, 20)), "--out", str(out))
    index = json.loads((out / "archive" / "index.json").read_text())
    assert index["periods"] == {"2026-03": 10, "2026-04": 10}
    assert not (out / "archive" / "2026-W14.html").exists()


# ---- the page's archive links in a real browser ---------------------------------------------------------------

try:
    from test_page import ACT, CHROMIUM, FLAGS
except ImportError:  # pragma: no cover
    CHROMIUM = None


def _seen(page: Path, tmp_path: Path, script: str) -> dict:
    """``page`` probed where it lies (its relative links resolve as a reader's do), ``script`` allowed by hash."""
    code = ACT % script
    digest = "sha256-" + base64.b64encode(hashlib.sha256(code.encode()).digest()).decode()
    text = page.read_text().replace("script-src '", f"script-src '{digest}' '", 1)
    probe = page.with_name("probe-" + page.name)
    probe.write_text(text.replace("</body>", f"<script>{code}</script></body>"))
    result = subprocess.run(
        [
            CHROMIUM,
            *FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            "--window-size=1400,1000",
            "--virtual-time-budget=5000",
            "--dump-dom",
            probe.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    probe.unlink()
    assert result.returncode == 0, result.stderr[-2000:]
    found = re.search(r'data-result="([^"]*)"', result.stdout)
    assert found, result.stdout[-2000:]
    value = json.loads(html.unescape(found.group(1)))
    assert "error" not in value, value
    return value


LINKS = """
out.links = Array.prototype.map.call(document.querySelectorAll("#archive a"), function (a) {
  var box = a.getBoundingClientRect();
  return {href: a.href, text: a.textContent, visible: box.width > 0 && box.top >= 0 && box.top < 1000};
});
out.rows = document.querySelectorAll("article.paper").length;
out.shown = document.getElementById("shown").textContent;
"""


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install chromium)")
def test_the_page_opens_on_the_digest_with_links_to_earlier_days(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, partitioned: None
) -> None:
    out = tmp_path / "out"
    _run_on(monkeypatch, "2026-03-11", _papers(tmp_path / "a.jsonl", 0, 40), out)
    _run_on(monkeypatch, "2026-03-12", _papers(tmp_path / "b.jsonl", 40, 69), out)
    seen = _seen(out / "comparison.html", tmp_path, LINKS)
    assert seen["shown"] == "29 papers"  # the latest digest, not the corpus
    texts = [link["text"] for link in seen["links"]]
    assert texts == ["← The day before: 2026-03-11", "2026-03-12 (29)", "2026-03-11 (40)", "All 2 periods"], texts
    assert all(link["visible"] for link in seen["links"])
    for link in seen["links"]:  # each resolves to a file that exists, beside the page
        assert Path(link["href"].removeprefix("file://")).is_file(), link
    older = _seen(out / "archive" / "2026-03-11.html", tmp_path, LINKS)
    assert older["shown"] == "40 papers"
    assert [link["text"] for link in older["links"]] == ["Latest digest", "All periods", "Week 2026-W11", "next →"]
    assert all(Path(link["href"].removeprefix("file://").split("#")[0]).is_file() for link in older["links"])


def test_a_reader_ranking_and_the_mail_digest_read_the_partitions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, partitioned: None
) -> None:
    out = tmp_path / "out"
    _run_on(monkeypatch, "2026-03-11", _papers(tmp_path / "a.jsonl", 0, 40), out)
    _day(monkeypatch, "2026-03-12")
    report = json.loads(
        invoke(
            "run", str(_papers(tmp_path / "b.jsonl", 40, 69)), "--out", str(out), "--keywords", "diffusion", "--json"
        ).stdout
    )
    assert report["interests"]  # ranked over the whole corpus, read from its partitions
    ranked = read_jsonl(out / "ranking.jsonl")
    assert len(ranked) == 69
    header, *rows = (out / "comparison.csv").read_text().splitlines()
    assert header.startswith("id,title,score,why") and len(rows) == 29  # the digest, in the reader's order
    invoke("digest", str(out), "--dry-run")
    assert (out / "digest.md").read_text().strip()


def test_the_action_publishes_the_digest_the_archive_and_the_partitions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, partitioned: None
) -> None:
    import yaml
    from conftest import REPO

    flow = yaml.safe_load((REPO / ".github" / "workflows" / "daily.yml").read_text())
    publish = flow["jobs"]["publish"]
    assert publish["env"]["SUMMARIZE_CORPUS_LAYOUT"].endswith("'partitioned' }}")
    assert flow["jobs"]["summarize"]["env"]["SUMMARIZE_CORPUS_LAYOUT"] == publish["env"]["SUMMARIZE_CORPUS_LAYOUT"]
    step = next(s["run"] for s in publish["steps"] if s.get("name") == "Prepare the page")
    out = tmp_path / "digest"
    _run_on(monkeypatch, "2026-03-12", _papers(tmp_path / "a.jsonl", 0, 20), out)
    subprocess.run(["bash", "-e", "-c", step], cwd=tmp_path, env={**os.environ, "OUT": str(out)}, check=True)
    site = tmp_path / "_site"
    assert (site / "index.html").read_bytes() == (out / "comparison.html").read_bytes()
    for name in (
        "comparison.html",
        "feed.xml",
        "archive/index.html",
        "archive/2026-03-12.html",
        "corpus/manifest.json",
    ):
        assert (site / name).is_file(), name
    assert not (site / "corpus.jsonl").exists()


def test_weekly_partitions_for_a_busy_category(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, partitioned: None
) -> None:
    out = tmp_path / "out"
    monkeypatch.setenv("SUMMARIZE_CORPUS_PARTITION", "week")
    _run_on(monkeypatch, "2026-03-30", _papers(tmp_path / "a.jsonl", 0, 10), out)  # Monday of ISO week 14
    _run_on(monkeypatch, "2026-04-02", _papers(tmp_path / "b.jsonl", 10, 20), out)  # its Thursday, in April
    assert store.partitions(out) == ["2026-W14"]
    first = (out / "archive" / "2026-03-30.html").stat().st_mtime_ns
    report = _run_on(monkeypatch, "2026-04-06", _papers(tmp_path / "c.jsonl", 15, 30, edit=16), out)
    assert report["corpus_added"] == 10 and report["corpus_total"] == 30
    assert store.partitions(out) == ["2026-W14", "2026-W15"]
    assert len(read_jsonl(out / "corpus" / "2026-W14.jsonl")) == 20  # the updated paper stayed in its week
    assert (out / "archive" / "2026-03-30.html").stat().st_mtime_ns == first
    index = json.loads((out / "archive" / "index.json").read_text())
    assert index["periods"] == {"2026-03-30": 10, "2026-04-02": 10, "2026-04-06": 10}
    _manifest_matches_disk(out)
    ids = _ids_in_partitions(out)
    assert len(ids) == len(set(ids)) == 30


def test_the_default_layout_moves_a_folder_that_outgrew_one_page_once_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pipeline.archive as archive

    out = tmp_path / "out"
    _day(monkeypatch, "2026-03-12")
    first = json.loads(invoke("run", str(SAMPLE), "--out", str(out), "--json").stdout)
    assert first["corpus_layout"] == "single" and first["layout_change"] is None  # small: one file, one page
    assert (out / "corpus.jsonl").exists() and not (out / "archive").exists()
    single = read_jsonl(out / "corpus.jsonl")
    monkeypatch.setattr(archive, "AUTO_RECORDS", 50)  # the folder has outgrown a page (10,000 records for real)
    screen = " ".join(invoke("run", str(SAMPLE), "--out", str(out)).output.split())
    assert "layout the corpus outgrew one page (69 records): moved to the partitioned layout" in screen
    assert not (out / "corpus.jsonl").exists() and len(store.partitions(out)) == 1  # the month it was summarised
    assert _all_lines(out) == single and (out / "archive" / "index.html").exists()
    _manifest_matches_disk(out)
    again = json.loads(invoke("run", str(SAMPLE), "--out", str(out), "--json").stdout)
    assert again["corpus_layout"] == "partitioned" and again["layout_change"] is None  # said once
    # Chosen in config, a layout stays what the reader chose.
    monkeypatch.setenv("SUMMARIZE_CORPUS_LAYOUT", "single")
    kept = json.loads(invoke("run", str(SAMPLE), "--out", str(tmp_path / "mine"), "--json").stdout)
    assert kept["corpus_layout"] == "single" and (tmp_path / "mine" / "corpus.jsonl").exists()
