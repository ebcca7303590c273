"""The hostile world: forged cache rows, bombs and drips, endless paging, escaping everywhere, nothing lost."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import time
from pathlib import Path

import pytest
from conftest import SAMPLE, invoke, read_jsonl
from fake_sources import FakeSources, atom, hf_item, json_body
from hostile_server import HostileServer, drip, endless, fixed, gzip_bomb

from pipeline.cache import SummaryCache
from pipeline.schema import Summary
from pipeline.sources.http import Http
from pipeline.sources.remote import arxiv_api, hf_daily

# --- Security -------------------------------------------------------------------------------------------------


def test_a_forged_cache_row_never_deletes_or_reads_a_file_outside_the_cache(tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    cache = SummaryCache(cache_dir)
    cache.set("k1", {"ok": 1})
    cache.set("k2", {"ok": 2})
    cache.close()
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "important.txt").write_text("keep me")
    (tmp_path / "sibling.txt").write_text("keep me too")
    db = sqlite3.connect(cache_dir / "cache.db")
    db.execute("UPDATE Cache SET mode = 2, filename = ? WHERE key = 'k1'", (str(victim / "important.txt"),))
    db.execute("UPDATE Cache SET mode = 2, filename = '../sibling.txt' WHERE key = 'k2'")
    db.commit()
    db.close()
    cache = SummaryCache(cache_dir)
    assert cache.get("k1") is None and cache.get("k2") is None  # misses, replaced on the next write
    assert cache.corrupted == 2
    cache.set("k1", {"ok": 3})
    cache.close()
    assert (victim / "important.txt").read_text() == "keep me"
    assert (tmp_path / "sibling.txt").read_text() == "keep me too"


def test_a_random_cache_database_is_moved_aside_and_rebuilt(tmp_path: Path, out: Path) -> None:
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir()
    (cache_dir / "cache.db").write_bytes(os.urandom(8192))
    result = invoke("run", str(SAMPLE), "--out", str(out))
    assert "moved aside" in result.output and "rebuilt" in result.output
    assert list(cache_dir.glob("cache.db.broken-*"))
    assert len(read_jsonl(out / "corpus.jsonl")) == 69


@pytest.mark.parametrize(
    ("behaviour", "message"),
    [(gzip_bomb(), "larger than 1 MB"), (endless(), "larger than 1 MB"), (drip(0.3), "not complete after 1 s")],
    ids=["gzip-bomb", "endless-chunked", "drip"],
)
def test_every_response_is_bounded_in_bytes_and_time(behaviour, message: str, monkeypatch, out: Path) -> None:
    monkeypatch.setenv("SUMMARIZE_FETCH_MAX_MB", "1")
    monkeypatch.setenv("SUMMARIZE_FETCH_DEADLINE_S", "1")
    with HostileServer(behaviour) as server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        started = time.monotonic()
        result = invoke("run", "--source", "hf-daily", "--date", "2026-03-12", "--out", str(out), expect=3)
    assert time.monotonic() - started < 20
    assert message in result.output and server.url in result.output


def test_paging_stops_when_a_server_repeats_itself_or_never_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    # The same 100 items on every page: one page of papers, then stop.
    same = [hf_item(i) for i in range(100)]
    with FakeSources(lambda p, q, n: (200, {}, json_body(same), 0.0)) as server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        _, papers = hf_daily(Http(), day="2026-03-12")
        assert len(list(papers)) == 100
        assert server.counts["/api/daily_papers"] == 2
    # New ids on every page, forever: the page cap ends it and the fetch says so.
    with FakeSources(
        lambda p, q, n: (200, {}, json_body([hf_item(int(q["p"][0]) * 100 + i) for i in range(100)]), 0.0)
    ) as server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        fetch, papers = hf_daily(Http(), day="2026-03-12", max_pages=5)
        assert len(list(papers)) == 500 and fetch.truncated and server.counts["/api/daily_papers"] == 5
    # arXiv claiming a billion results but sending the same entry again.
    entry = [("2401.00001v1", "A", "We study a thing. It works.")]
    with FakeSources(lambda p, q, n: (200, {}, atom(entry, total=10**9), 0.0)) as server:
        monkeypatch.setenv("SUMMARIZE_ARXIV_API", server.url + "/api/query")
        _, papers = arxiv_api(Http(), ids="2401.00001")
        assert len(list(papers)) == 1 and server.counts["/api/query"] == 2


@pytest.mark.parametrize(
    ("body", "headers", "needle"),
    [
        (b"{not json", {}, "not JSON"),
        (b"<html>hello</html>", {"content-type": "text/html"}, "not JSON"),
        (b"", {}, "empty body"),
        (b'["a string", 5]', {}, "not a daily-papers item"),
    ],
    ids=["malformed", "html-200", "empty", "wrong-items"],
)
def test_bad_hf_responses_are_exit_3_naming_the_url(body, headers, needle, monkeypatch, out: Path) -> None:
    with HostileServer(fixed(200, body, headers)) as server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        result = invoke("run", "--source", "hf-daily", "--date", "2026-03-12", "--out", str(out), expect=3)
    assert needle in result.output and server.url in result.output


def test_bad_arxiv_totals_and_retry_after_values_are_handled(monkeypatch, out: Path) -> None:
    body = atom([("2401.00001v1", "A", "We study a thing.")]).replace(
        ">1</opensearch:totalResults>", ">many</opensearch:totalResults>"
    )
    with HostileServer(fixed(200, body.encode())) as server:
        monkeypatch.setenv("SUMMARIZE_ARXIV_API", server.url)
        result = invoke("run", "--source", "arxiv", "--ids", "2401.00001", "--out", str(out), expect=3)
    assert "not a number" in result.output
    for value in ("soon", "Wed, 21 Oct 2015 07:28:00 -0000"):
        with FakeSources(
            lambda p, q, n, v=value: (429, {"retry-after": v}, "", 0.0) if n == 1 else (200, {}, json_body([]), 0.0)
        ) as server:
            monkeypatch.setenv("HF_ENDPOINT", server.url)
            _, papers = hf_daily(Http(backoff_s=0.01), day="2026-03-12")
            assert list(papers) == []


def test_an_impossible_date_is_a_usage_error(out: Path) -> None:
    for flag, value in (("--date", "2026-13-45"), ("--week", "2026-W60"), ("--month", "2026-13")):
        result = invoke("run", "--source", "hf-daily", flag, value, "--out", str(out), expect=2)
        assert value in result.output


def test_every_table_and_report_escapes_hostile_fields(tmp_path: Path, out: Path) -> None:
    hostile = tmp_path / "hostile.jsonl"
    rows = [
        {
            "title": "Pipes | and <img src=x onerror=alert(1)>",
            "abstract": "We study pipes. It works by 3%.",
            "url": "https://example.org/a\n| injected | row |",
        },
        {
            "title": "Brackets",
            "abstract": "We study brackets. It works by 4%.",
            "url": "https://example.org/x)<img src=x onerror=alert(1)>",
        },
        {"title": "\x1b[31mRED\x1b[0m title", "abstract": "", "id": "\x1b]0;pwned\x07bad"},
    ]
    hostile.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    result = invoke("run", str(hostile), "--out", str(out), expect=1)
    assert "\x1b" not in result.output and "\x07" not in result.output
    md = (out / "comparison.md").read_text()
    lines = md.splitlines()
    assert len(lines) == 2 + 2 and all(line.count(" | ") == 6 for line in lines[2:])
    assert "<img" not in md and "injected" not in md.split("\n")[-1][:10]
    page = (out / "comparison.html").read_text()
    assert "<img src=x" not in page
    report = invoke("report", str(out)).stdout
    assert "\x1b" not in report and "<img" not in report


def test_urls_a_model_writes_into_free_text_must_occur_in_the_paper() -> None:
    context = {"abstract": "We study X. It improves Y by 3%.", "text": "T\nWe study X. It improves Y by 3%."}
    good = {"tldr": "We study X.", "problem": "We study X.", "method": "We study X.", "results": ["improves Y by 3%"]}
    Summary.model_validate(good, context=context)
    for field in ("tldr", "problem", "method"):
        bad = {**good, field: "We study X at https://evil.example/pwn."}
        with pytest.raises(ValueError, match="evil.example"):
            Summary.model_validate(bad, context=context)
    with pytest.raises(ValueError, match="evil.example"):
        Summary.model_validate({**good, "results": ["Y improves by 3% (www.evil.example)"]}, context=context)


# --- Nothing lost ---------------------------------------------------------------------------------------------


def test_titles_of_only_symbols_keep_distinct_ids(tmp_path: Path, out: Path) -> None:
    data = tmp_path / "emoji.jsonl"
    titles = ["🚀🚀", "🔥", "∑∫"]
    data.write_text(
        "\n".join(json.dumps({"title": t, "abstract": f"We study {i}. It works."}) for i, t in enumerate(titles)) + "\n"
    )
    invoke("run", str(data), "--out", str(out))
    assert len({r["id"] for r in read_jsonl(out / "corpus.jsonl")}) == 3


def test_a_corpus_from_a_newer_schema_is_refused_and_left_alone(out: Path) -> None:
    out.mkdir()
    newer = json.dumps({"schema_version": 99, "id": "arxiv:1", "title": "future"}) + "\n"
    (out / "corpus.jsonl").write_text(newer)
    result = invoke("run", str(SAMPLE), "--out", str(out), expect=2)
    assert "schema version 99" in result.output and "corpus.jsonl:1" in result.output
    assert (out / "corpus.jsonl").read_text() == newer
    assert not (out / "corpus.rejected.jsonl").exists()


def test_kept_aside_lines_are_whole_and_duplicate_ids_are_reported(out: Path) -> None:
    invoke("run", str(SAMPLE), "--out", str(out))
    lines = (out / "corpus.jsonl").read_text().splitlines()
    long_bad = "{" + "x" * 300_000
    (out / "corpus.jsonl").write_text("\n".join([lines[0], lines[0], *lines[1:], long_bad]) + "\n")
    invoke("run", str(SAMPLE), "--out", str(out))
    rejected = read_jsonl(out / "corpus.rejected.jsonl")
    assert any("duplicate id" in r["error"] and r["text"] == lines[0] for r in rejected)
    assert any(r["text"] == long_bad for r in rejected)
    assert len(read_jsonl(out / "corpus.jsonl")) == 69


def test_a_failure_while_writing_tables_leaves_consistent_outputs(out: Path, monkeypatch) -> None:
    invoke("run", str(SAMPLE), "--out", str(out))
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file() and not p.name.startswith(".")}
    from pipeline import table

    def full(self, record):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(table.TableWriter, "add", full)
    result = invoke("run", str(SAMPLE), "--out", str(out), "--refresh", expect=2)
    assert "No space left on device" in result.output
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file() and not p.name.startswith(".")}
    assert after == before
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_temporary_files_of_an_interrupted_run_are_swept(out: Path) -> None:
    out.mkdir()
    for name in (".comparison.md.abc.tmp", ".comparison.html.x.tmp", ".corpus.jsonl.y.tmp", ".run.json.z.tmp"):
        (out / name).write_text("x" * 1000)
    invoke("run", str(SAMPLE), "--out", str(out))
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


# --- Clear errors instead of tracebacks -----------------------------------------------------------------------


def test_wrongly_typed_and_deeply_nested_lines_are_refused_by_name(tmp_path: Path, out: Path) -> None:
    nested: object = "leaf"
    for _ in range(260):
        nested = {"n": nested}
    data = tmp_path / "typed.jsonl"
    data.write_text(
        "\n".join(
            json.dumps(r)
            for r in (
                {"title": "A", "abstract": "We study A. It works.", "authors": 5},
                {"title": "B", "abstract": "We study B. It works.", "url": 12345},
                {"title": "C", "abstract": "We study C. It works.", "extra": nested},
                {"title": "D", "abstract": "We study D. It works."},
            )
        )
        + "\n"
    )
    result = invoke("run", str(data), "--out", str(out), expect=1)
    assert f"{data}:1" in result.output and f"{data}:2" in result.output and f"{data}:3" in result.output
    assert [r["title"] for r in read_jsonl(out / "corpus.jsonl")] == ["D"]
    invoke("run", str(data), "--out", str(out), expect=1)  # the cache was not poisoned


def test_csv_fields_over_128_kb_are_read(tmp_path: Path, out: Path) -> None:
    data = tmp_path / "big.csv"
    data.write_text('title,abstract\nBig,"' + "We study big inputs. " * 10_000 + '"\n')
    invoke("run", str(data), "--out", str(out))
    assert read_jsonl(out / "corpus.jsonl")[0]["title"] == "Big"


def test_a_json_array_file_is_read_as_json(tmp_path: Path, out: Path) -> None:
    data = tmp_path / "papers.json"
    data.write_text(json.dumps([{"title": "A", "abstract": "We study A. It works."}]))
    invoke("run", str(data), "--out", str(out))
    assert read_jsonl(out / "corpus.jsonl")[0]["title"] == "A"
    (tmp_path / "obj.json").write_text(json.dumps({"title": "A"}))
    result = invoke("run", str(tmp_path / "obj.json"), "--out", str(out), expect=1)
    assert "array of paper objects" in result.output


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_folders_are_one_line_errors(tmp_path: Path) -> None:  # pragma: no cover - CI runs as root
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    result = invoke("run", str(SAMPLE), "--out", str(locked / "out"), expect=2)
    assert "choose another --out" in result.output


def test_file_system_mistakes_are_one_line_errors(tmp_path: Path, monkeypatch) -> None:
    a_file = tmp_path / "afile"
    a_file.write_text("x")
    result = invoke("run", str(SAMPLE), "--out", str(a_file), expect=2)
    assert "is a file, not a folder" in result.output
    monkeypatch.setenv("SUMMARIZE_CACHE_DIR", str(a_file))
    result = invoke("run", str(SAMPLE), "--out", str(tmp_path / "o"), expect=2)
    assert "cache folder" in result.output and "SUMMARIZE_CACHE_DIR" in result.output
    monkeypatch.delenv("SUMMARIZE_CACHE_DIR")
    (tmp_path / "bad.toml").write_bytes(b'model = "\xff\xfe"\n')
    result = invoke("config", "--config", str(tmp_path / "bad.toml"), expect=2)
    assert "not UTF-8" in result.output
    monkeypatch.setenv("SUMMARIZE_CONFIG", str(tmp_path))
    result = invoke("config", expect=2)
    assert "is a folder" in result.output
    monkeypatch.delenv("SUMMARIZE_CONFIG")
    for content in ("", "{broken", "[1, 2]"):
        report_dir = tmp_path / f"r{len(content)}"
        report_dir.mkdir()
        (report_dir / "run.json").write_text(content)
        result = invoke("report", str(report_dir), expect=2)
        assert "is not a run report" in result.output


# --- Behaving as users expect ---------------------------------------------------------------------------------


def test_tilde_expands_in_path_settings(tmp_path: Path, monkeypatch) -> None:
    (tmp_path / "work" / "config.toml").write_text('cache_dir = "~/.cache/summarize-test"\nout_dir = "~/digest"\n')
    monkeypatch.delenv("SUMMARIZE_CACHE_DIR")
    invoke("run", str(SAMPLE))
    home = Path(os.environ["HOME"])
    assert (home / "digest" / "corpus.jsonl").exists() and (home / ".cache" / "summarize-test").is_dir()
    assert not (tmp_path / "work" / "~").exists()


def test_outputs_keep_the_users_umask(out: Path) -> None:
    old = os.umask(0o022)
    try:
        invoke("run", str(SAMPLE), "--out", str(out))
        for name in ("corpus.jsonl", "comparison.md", "comparison.csv", "comparison.html", "run.json"):
            assert stat.S_IMODE((out / name).stat().st_mode) == 0o644, name
        os.umask(0o002)
        invoke("run", str(SAMPLE), "--out", str(out), "--refresh")
        assert stat.S_IMODE((out / "corpus.jsonl").stat().st_mode) == 0o664
    finally:
        os.umask(old)


@pytest.mark.parametrize("behaviour", [endless(), gzip_bomb(100)], ids=["endless", "gzip-bomb"])
def test_an_llm_endpoint_cannot_flood_memory(behaviour, tmp_path: Path, out: Path, monkeypatch) -> None:
    monkeypatch.setenv("SUMMARIZE_REQUEST_RETRIES", "1")
    data = tmp_path / "one.jsonl"
    data.write_text(json.dumps({"title": "A", "abstract": "We study A. It improves B by 3%."}) + "\n")
    with HostileServer(behaviour) as server:
        started = time.monotonic()
        invoke("run", str(data), "--out", str(out), "--model", "openai/x", "--api-base", server.url + "/v1", expect=1)
    assert time.monotonic() - started < 60
    failure = read_jsonl(out / "failures.jsonl")[0]
    assert "larger than 8 MB" in failure["error"]
