"""What happens when things go wrong: kills, concurrent runs, huge or hostile input, arbitrary text."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import REPO, SAMPLE, invoke, read_jsonl
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.links import extract_links
from pipeline.sources.files import read_listing
from pipeline.extractive.text import split_sentences


def _many_papers(path: Path, n: int) -> Path:
    with path.open("w") as fh:
        for i in range(n):
            fh.write(
                json.dumps(
                    {
                        "id": f"p{i:05d}",
                        "title": f"Paper {i}",
                        "abstract": f"Deep models fail on case {i}. We propose fix {i}. "
                        f"It improves accuracy by {i % 50}.{i % 10} points.",
                    }
                )
                + "\n"
            )
    return path


def _cached_rows(cache_dir: Path) -> int:
    """Summaries the cache holds now, read straight from diskcache's SQLite file (0 before it exists)."""
    db = cache_dir / "cache.db"
    if not db.exists():
        return 0
    try:
        with contextlib.closing(sqlite3.connect(str(db), timeout=10)) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM Cache").fetchone()[0])
    except sqlite3.OperationalError:  # the table is not created yet
        return 0


def _kill_when(proc: subprocess.Popen, ready: Callable[[], bool], *, limit: float = 120.0) -> None:
    """SIGKILL ``proc`` as soon as ``ready()`` holds (polled every few ms, at most ``limit`` seconds), or reap it
    if it finished first. No fixed sleep: under load the run is slower, and the wait simply lasts longer."""
    deadline = time.monotonic() + limit
    while proc.poll() is None and not ready():
        assert time.monotonic() < deadline, f"the condition never held within {limit:.0f} s"
        time.sleep(0.002)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def test_kill_9_never_tears_the_corpus_and_the_next_run_resumes(tmp_path: Path) -> None:
    out = tmp_path / "out"
    invoke("run", str(SAMPLE), "--out", str(out))
    before = (out / "corpus.jsonl").read_bytes()
    cache_dir = Path(os.environ["SUMMARIZE_CACHE_DIR"])
    sample_rows = _cached_rows(cache_dir)
    papers = _many_papers(tmp_path / "many.jsonl", 3000)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "pipeline", "run", str(papers), "--out", str(out)]

    def check_corpus() -> None:
        corpus = (out / "corpus.jsonl").read_bytes()
        lines = corpus.decode().splitlines()
        assert corpus == before or len(lines) == 69 + 3000  # the old corpus whole, or the new one whole
        for line in lines:
            json.loads(line)

    # Killed mid-summarising, once some of the new summaries are cached.
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _kill_when(proc, lambda: _cached_rows(cache_dir) > sample_rows)
    check_corpus()
    cached_before_restart = _cached_rows(cache_dir) - sample_rows
    assert cached_before_restart > 0
    # Killed while the corpus is being written (its temporary file is there), or after the run if it won the race.
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _kill_when(proc, lambda: any(out.glob(".corpus.*.tmp")))
    check_corpus()
    report = json.loads(invoke("run", str(papers), "--out", str(out), "--json").stdout)
    assert report["cached"] >= cached_before_restart  # summaries finished before a kill are not redone
    assert report["cached"] + report["new"] == 3000 and report["failed"] == 0
    assert len(read_jsonl(out / "corpus.jsonl")) == 69 + 3000
    assert not list(out.glob(".corpus.*.tmp"))


def test_a_second_run_on_the_same_folder_refuses_clearly(tmp_path: Path) -> None:
    from filelock import FileLock

    out = tmp_path / "out"
    out.mkdir()
    with FileLock(str(out / ".summarize.lock")):
        result = invoke("run", str(SAMPLE), "--out", str(out), expect=4)
    assert "another summarize run is writing to" in result.output
    assert not (out / "corpus.jsonl").exists()
    invoke("run", str(SAMPLE), "--out", str(out))  # free again once the other run is done


def test_an_abstract_over_the_limit_is_refused_by_name_and_the_rest_processed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "big.jsonl"
    huge = "We study scaling. " * 60_000
    data.write_text(
        json.dumps({"title": "Huge", "abstract": huge})
        + "\n"
        + json.dumps({"title": "Small", "abstract": "We study S. S works."})
        + "\n"
    )
    monkeypatch.setenv("SUMMARIZE_MAX_ABSTRACT_CHARS", "500000")
    result = invoke("run", str(data), "--out", str(tmp_path / "out"), expect=1)
    assert "1,079,999 characters" in result.output and "max_abstract_chars" in result.output
    assert [r["title"] for r in read_jsonl(tmp_path / "out" / "corpus.jsonl")] == ["Small"]


def test_a_1_mb_abstract_is_summarised_in_bounded_work(tmp_path: Path) -> None:
    data = tmp_path / "big.jsonl"
    data.write_text(json.dumps({"title": "Huge", "abstract": "We study scaling of models. " * 40_000}) + "\n")
    invoke("run", str(data), "--out", str(tmp_path / "out"))
    record = read_jsonl(tmp_path / "out" / "corpus.jsonl")[0]
    used = [i for field in ("tldr", "problem", "method") for i in record["evidence"][field]]
    used += [i for group in record["evidence"]["results"] for i in group]
    assert used and max(used) < 400  # work bounded to the first sentences


def test_non_utf8_and_nul_bytes_in_a_listing_are_named(tmp_path: Path) -> None:
    data = tmp_path / "l.txt"
    data.write_bytes(
        b"Good Title\n\nA fine abstract. It has sentences.\n\nBad \xff Title\n\nAbstract. More.\n\n"
        b"Nul Title\n\nAbs\x00tract. More.\n\nLast Title\n\nLast abstract. Works.\n"
    )
    result = invoke("run", str(data), "--out", str(tmp_path / "out"), expect=1)
    assert f"{data}:5" in result.output and f"{data}:11" in result.output
    titles = sorted(r["title"] for r in read_jsonl(tmp_path / "out" / "corpus.jsonl"))
    assert titles == ["Good Title", "Last Title"]


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_splitter_never_raises_and_keeps_the_words(text: str) -> None:
    sentences = split_sentences(text)
    assert " ".join(sentences).split() == text.split()


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet=st.characters(codec="utf-8"))
    | st.from_regex(r"(see |at )?(https?://)?[a-z.]{1,12}/[\w./()-]{0,20}[.,;)]?")
)
def test_link_extractor_never_raises_and_only_returns_urls_from_the_text(text: str) -> None:
    from pipeline.claims import url_occurs_in as occurs_in

    for link in extract_links(text):
        assert occurs_in(link.url, text)
        assert link.url.startswith(("http://", "https://"))


@settings(max_examples=200, deadline=None)
@given(st.binary())
def test_listing_parser_never_raises_on_arbitrary_bytes(data: bytes) -> None:
    for item in read_listing(data, "fuzz.txt"):
        assert getattr(item, "title", None) or str(item).startswith("fuzz.txt")
