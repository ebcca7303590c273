"""The main job end to end, through the CLI as a user runs it, on the sample listing."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import SAMPLE, cached_rows, invoke, read_jsonl

from bench.generate import write_papers
from pipeline.schema import Record


def test_sample_listing_gives_69_valid_records_and_tables(out: Path) -> None:
    invoke("run", str(SAMPLE), "--out", str(out))
    records = read_jsonl(out / "corpus.jsonl")
    assert len(records) == 69
    assert [r["id"] for r in records] == sorted(r["id"] for r in records)
    for record in records:
        Record.model_validate(record)
        assert record["schema_version"] == 3
        assert record["tldr"] and record["method"]  # the problem may be "not stated" (empty): below
        assert record["provenance"]["engine"] == "embedded"
        assert all(i < 200 for i in record["evidence"]["tldr"])
    # a problem cell is left empty where no sentence states the gap with confidence: a few, not most
    assert sum(1 for r in records if r["problem"]) >= 60
    # A paper whose abstract states no finding has no key result rather than a wrong one; most state one.
    assert sum(1 for r in records if r["results"]) >= 60
    report = json.loads((out / "run.json").read_text())
    assert (report["total"], report["new"], report["cached"], report["failed"]) == (69, 69, 0, 0)
    assert not (out / "failures.jsonl").exists()
    md = (out / "comparison.md").read_text().splitlines()
    assert len(md) == 2 + 69
    assert all(line.count(" | ") == 6 for line in md[2:])  # seven cells in every row (title, tldr, ..., code, scores)
    rows = list(csv.DictReader((out / "comparison.csv").open(encoding="utf-8")))
    assert len(rows) == 69
    assert sum(1 for r in rows if r["code"].startswith("https://github.com/")) == 14  # every GitHub URL


def test_second_run_is_all_cache_hits_and_corpus_unchanged(out: Path) -> None:
    invoke("run", str(SAMPLE), "--out", str(out))
    first = (out / "corpus.jsonl").read_text()
    result = invoke("run", str(SAMPLE), "--out", str(out), "--json")
    report = json.loads(result.stdout)
    assert (report["cached"], report["new"], report["total"]) == (69, 0, 69)
    second = (out / "corpus.jsonl").read_text()
    strip = [{k: v for k, v in json.loads(x).items() if k != "provenance"} for x in first.splitlines()]
    assert strip == [{k: v for k, v in json.loads(x).items() if k != "provenance"} for x in second.splitlines()]


def test_refresh_ignores_the_cache(out: Path) -> None:
    invoke("run", str(SAMPLE), "--out", str(out))
    report = json.loads(invoke("run", str(SAMPLE), "--out", str(out), "--refresh", "--json").stdout)
    assert (report["new"], report["cached"]) == (69, 0)


def test_upsert_keeps_untouched_records_and_replaces_older_arxiv_versions(out: Path, tmp_path: Path) -> None:
    first = tmp_path / "a.jsonl"
    first.write_text(
        json.dumps({"id": "2401.00001v1", "title": "Old title", "abstract": "We study X. We find Y works."})
        + "\n"
        + json.dumps({"id": "keep-me", "title": "Kept", "abstract": "We study Z. Results show Z helps."})
        + "\n"
    )
    invoke("run", str(first), "--out", str(out))
    second = tmp_path / "b.jsonl"
    second.write_text(
        json.dumps(
            {
                "url": "https://arxiv.org/abs/2401.00001v2",
                "title": "New title",
                "abstract": "We study X again. We find Y works better.",
            }
        )
        + "\n"
    )
    invoke("run", str(second), "--out", str(out))
    records = {r["id"]: r for r in read_jsonl(out / "corpus.jsonl")}
    assert set(records) == {"arxiv:2401.00001", "keep-me"}
    assert records["arxiv:2401.00001"]["title"] == "New title"
    assert records["arxiv:2401.00001"]["source_meta"]["version"] == 2
    # An older version arriving later never replaces the newer one.
    invoke("run", str(first), "--out", str(out))
    assert {r["id"]: r for r in read_jsonl(out / "corpus.jsonl")}["arxiv:2401.00001"]["title"] == "New title"


def test_same_paper_twice_in_one_run_gives_one_record(out: Path, tmp_path: Path) -> None:
    data = tmp_path / "twice.jsonl"
    paper = {"title": "A Paper: On Things", "abstract": "We study things. Things work."}
    data.write_text(json.dumps(paper) + "\n" + json.dumps({**paper, "title": "a paper on things"}) + "\n")
    report = json.loads(invoke("run", str(data), "--out", str(out), "--json").stdout)
    assert report["total"] == 1 and report["duplicates"] == 1
    assert len(read_jsonl(out / "corpus.jsonl")) == 1


def test_stdin_and_csv_inputs_in_one_run(out: Path, tmp_path: Path) -> None:
    table = tmp_path / "list.csv"
    table.write_text('title,abstract,url\n"Pipes | in titles","We propose P. P beats Q by 3%.",\n')
    stdin = json.dumps({"title": "From stdin", "abstract": "We study S. S is fast."}) + "\n"
    invoke("run", str(table), "-", "--out", str(out), input=stdin)
    titles = sorted(r["title"] for r in read_jsonl(out / "corpus.jsonl"))
    assert titles == ["From stdin", "Pipes | in titles"]
    md = (out / "comparison.md").read_text()
    assert "Pipes \\| in titles" in md


def test_source_flag_overrides_the_extension(out: Path, tmp_path: Path) -> None:
    odd = tmp_path / "papers.data"
    odd.write_text(json.dumps({"title": "T", "abstract": "We do T. T works."}) + "\n")
    invoke("run", str(odd), "--source", "jsonl", "--out", str(out))
    assert len(read_jsonl(out / "corpus.jsonl")) == 1


def test_a_bad_paper_fails_alone_with_a_non_zero_exit(out: Path, tmp_path: Path) -> None:
    data = tmp_path / "mixed.jsonl"
    data.write_text(json.dumps({"title": "Good", "abstract": "We do G. G works."}) + "\n{broken\n")
    result = invoke("run", str(data), "--out", str(out), expect=1)
    assert "mixed.jsonl:2" in result.output
    assert [r["title"] for r in read_jsonl(out / "corpus.jsonl")] == ["Good"]
    failures = read_jsonl(out / "failures.jsonl")
    assert failures == [{**failures[0], "stage": "input", "line": 2}]


def test_unknown_config_key_is_an_error_naming_the_key(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[summarize]\nconcurency = 4\n")
    result = invoke("run", str(SAMPLE), "--config", str(config), expect=2)
    assert "concurency" in result.output and str(config) in result.output


def test_settings_precedence_file_then_environment_then_flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.settings import load_settings

    config = tmp_path / "config.toml"
    config.write_text("[summarize]\nconcurrency = 3\nout_dir = 'from-file'\ntimeout_s = 5\n")
    env = {"SUMMARIZE_CONCURRENCY": "5", "SUMMARIZE_OUT_DIR": "from-env"}
    settings = load_settings(config, {"out_dir": Path("from-flag")}, environ=env)
    assert (settings.concurrency, settings.out_dir, settings.timeout_s) == (5, Path("from-flag"), 5.0)


def test_repository_config_toml_is_valid() -> None:
    from conftest import REPO

    from pipeline.settings import load_settings

    assert load_settings(REPO / "config.toml", environ={}).model == "embedded"


def test_schema_command_prints_the_record_json_schema() -> None:
    schema = json.loads(invoke("schema").stdout)
    assert schema["title"] == "Record"
    required = set(schema["required"])
    for key in ("id", "title", "abstract", "tldr", "problem", "method", "results", "links", "evidence", "provenance"):
        assert key in schema["properties"]
    assert {"id", "title", "abstract", "source"} <= required


@pytest.mark.parametrize("command", [[], ["run"], ["schema"], ["eval"], ["config"], ["report"]])
def test_every_command_has_help(command: list[str]) -> None:
    result = invoke(*command, "--help")
    assert "Usage:" in result.output
    assert len(result.output.split("\n\n")[1].strip()) > 20  # a real description, not an empty docstring


def test_help_and_embedded_run_never_import_litellm(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = (
        "import sys\nfrom pipeline.cli import cli\n"
        "try:\n    cli(['--help'])\nexcept SystemExit:\n    pass\n"
        f"try:\n    cli(['run', {str(SAMPLE)!r}, '--out', {str(tmp_path / 'o')!r}])\nexcept SystemExit:\n    pass\n"
        "print('LITELLM' if any(m.startswith(('litellm', 'instructor')) for m in sys.modules) else 'CLEAN')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip().splitlines()[-1] == "CLEAN", result.stderr
    assert (tmp_path / "o" / "corpus.jsonl").exists()


def test_worker_processes_write_the_records_one_process_writes(tmp_path: Path) -> None:
    papers = write_papers(tmp_path / "papers.jsonl", 300)
    one, two = tmp_path / "one", tmp_path / "two"
    invoke("run", str(papers), "--out", str(one), "--workers", "1")
    # A fresh cache, so every paper is a miss and goes to the two workers.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SUMMARIZE_CACHE_DIR", str(tmp_path / "cache-two"))
        invoke("run", str(papers), "--out", str(two), "--workers", "2")
        report = json.loads((two / "run.json").read_text())
        assert (report["new"], report["cached"], report["failed"]) == (300, 0, 0)
        assert report["executor"] == {"executor": "processes", "workers": 2, "papers_sent": 300, "given_up": None}
        invoke("run", str(papers), "--out", str(two), "--workers", "2")  # every answer was cached as it came back
        rerun = json.loads((two / "run.json").read_text())
        assert rerun["cached"] == 300 and rerun["executor"]["papers_sent"] == 0

    def records(folder: Path) -> list[dict]:
        rows = read_jsonl(folder / "corpus.jsonl")
        for row in rows:
            row["provenance"].pop("created_at")
        return rows

    assert records(one) == records(two)
    assert len(records(two)) == 300


def test_a_killed_worker_loses_nothing(tmp_path: Path) -> None:
    papers = write_papers(tmp_path / "papers.jsonl", 3000)
    out = tmp_path / "out"
    run, said = _start_run(papers, out)
    workers = _wait_for_workers(run, said)
    os.kill(workers[0][0], signal.SIGKILL)
    assert run.wait(timeout=300) == 0, said.read_text()
    report = json.loads((out / "run.json").read_text())
    assert (report["new"], report["failed"]) == (3000, 0)
    assert "BrokenProcessPool" in report["executor"]["given_up"]
    assert report["executor"]["papers_sent"] < 3000
    assert len(read_jsonl(out / "corpus.jsonl")) == 3000


def test_workers_leave_when_their_run_is_killed(tmp_path: Path) -> None:
    papers = write_papers(tmp_path / "papers.jsonl", 3000)
    run, said = _start_run(papers, tmp_path / "out")
    workers = _wait_for_workers(run, said)
    run.send_signal(signal.SIGKILL)
    run.wait()
    deadline = time.monotonic() + 60  # a bound for a loaded machine: a worker checks its parent every 0.5 s
    while any(_alive(worker) for worker in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [worker for worker in workers if _alive(worker)]
    for pid, _ in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, "worker processes outlived their killed run"


def _start_run(papers: Path, out: Path) -> tuple[subprocess.Popen, Path]:
    """``summarize run`` of ``papers`` with two workers in a process of its own, and the file its stderr goes to."""
    said = out.parent / "run.stderr"
    with said.open("wb") as stderr:
        run = subprocess.Popen(
            [sys.executable, "-m", "pipeline", "run", str(papers), "--out", str(out), "--workers", "2"],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    return run, said


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state first, start time 20th), None once it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None


def _alive(worker: tuple[int, str]) -> bool:
    """Whether a worker (pid, start time) still runs: not a zombie, and its pid not since reused by another."""
    fields = _stat(worker[0])
    return fields is not None and fields[0] != "Z" and fields[19] == worker[1]


def _wait_for_workers(run: subprocess.Popen, said: Path) -> list[tuple[int, str]]:
    """``run``'s two worker processes (pid, start time) once they are summarising: its first answers are in the
    cache. Polled under a generous deadline; a run that ends first fails the test with what it said."""
    cache = Path(os.environ["SUMMARIZE_CACHE_DIR"])  # the test's own (conftest), which the run inherits

    def workers() -> list[tuple[int, str]]:
        found = []  # the run is not reaped before `run.poll()` says it ended: its /proc entry is there
        for pid in Path(f"/proc/{run.pid}/task/{run.pid}/children").read_text().split():
            try:
                spawned = b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()
            except (FileNotFoundError, ProcessLookupError):
                continue
            fields = _stat(int(pid))
            if spawned and fields is not None:
                found.append((int(pid), fields[19]))
        return found

    deadline = time.monotonic() + 120  # a bound for a loaded machine, not a wait: it ends at the first answers
    while time.monotonic() < deadline:
        if run.poll() is not None:
            pytest.fail(f"the run ended (exit {run.returncode}) before its workers summarised: {said.read_text()}")
        found = workers()
        if len(found) == 2 and cached_rows(cache) > 0:
            return found
        time.sleep(0.05)
    run.kill()
    pytest.fail(f"no two workers summarising within 120 s: {said.read_text()}")


def test_a_worker_whose_run_died_before_it_started_leaves_at_once() -> None:
    # Spawned after its run was killed, a worker's parent is already someone else: it must not wait for work.
    code = "from pipeline.dispatch.processes import _exit_with_driver; _exit_with_driver(2**22 + 1)"
    assert subprocess.run([sys.executable, "-c", code], timeout=30).returncode == 1  # a hang would time out
