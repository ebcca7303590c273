"""A newcomer's trip-ups (issue 22): each as the user met it, and what they see now."""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO, cached_rows, invoke, read_jsonl

from pipeline.table import TableWriter, md_cell

PAPERS = [
    {
        "id": "2006.11239",
        "title": "Denoising Diffusion Probabilistic Models",
        "abstract": "We present high quality image synthesis results using diffusion probabilistic models. "
        "On CIFAR10 we obtain an FID score of 3.17.",
    },
    {"title": "Paper B", "abstract": "Models fail at task B. We propose MB. MB improves accuracy by 2.5 points."},
    {"title": "Paper C", "abstract": "Models fail at task C. We propose MC. MC improves accuracy by 3.5 points."},
]


def _papers(tmp_path: Path, papers: list[dict] = PAPERS) -> Path:
    path = tmp_path / "papers.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in papers))
    return path


def _run(*args: str, expect: int | None = 0) -> dict:
    return json.loads(invoke("run", *args, "--json", expect=expect).output)


def test_the_same_input_twice_updates_nothing(tmp_path: Path, out: Path) -> None:
    papers = _papers(tmp_path)
    first = _run(str(papers), "--out", str(out))
    assert (first["corpus_added"], first["corpus_replaced"], first["corpus_unchanged"]) == (3, 0, 0)
    before = (out / "corpus.jsonl").read_bytes()
    again = _run(str(papers), "--out", str(out))
    assert (out / "corpus.jsonl").read_bytes() == before
    assert (again["corpus_added"], again["corpus_replaced"], again["corpus_unchanged"]) == (0, 0, 3)
    screen = invoke("run", str(papers), "--out", str(out)).output
    assert "+0 new, 0 updated, 3 unchanged" in screen
    # A paper whose text changed is an update, and only that one.
    changed = [dict(PAPERS[0]), *PAPERS[1:]]
    changed[1] = {**PAPERS[1], "abstract": PAPERS[1]["abstract"] + " It is fast."}
    third = _run(str(_papers(tmp_path, changed)), "--out", str(out))
    assert (third["corpus_added"], third["corpus_replaced"], third["corpus_unchanged"]) == (0, 1, 2)


def test_an_arxiv_id_without_a_url_links_to_its_abs_page(tmp_path: Path, out: Path) -> None:
    papers = [{**PAPERS[0], "id": "2006.11239v2"}, PAPERS[1]]
    _run(str(_papers(tmp_path, papers)), "--out", str(out))
    records = {r["id"]: r for r in read_jsonl(out / "corpus.jsonl")}
    assert records["arxiv:2006.11239"]["url"] == "https://arxiv.org/abs/2006.11239"
    assert records["arxiv:2006.11239"]["source_meta"]["version"] == 2
    assert next(r for r in records.values() if r["title"] == "Paper B")["url"] is None  # no id, no link
    table = (out / "comparison.md").read_text()
    assert "[Denoising Diffusion Probabilistic Models](https://arxiv.org/abs/2006.11239)" in table


def test_failures_name_the_title_when_it_was_known(tmp_path: Path, out: Path) -> None:
    papers = _papers(tmp_path, [PAPERS[1], {"title": "A Paper Without Its Abstract", "abstract": ""}])
    listing = tmp_path / "listing.txt"
    listing.write_text("Paper C\n\n" + PAPERS[2]["abstract"] + "\n\nA Title Left Alone\n")
    _run(str(papers), str(listing), "--out", str(out), expect=1)
    failures = {f["title"]: f for f in read_jsonl(out / "failures.jsonl")}
    assert set(failures) == {"A Paper Without Its Abstract", "A Title Left Alone"}
    assert failures["A Title Left Alone"]["line"] == 5 and failures["A Title Left Alone"]["stage"] == "input"


def _many(path: Path, n: int) -> Path:
    with path.open("w") as fh:
        for i in range(n):
            fh.write(
                json.dumps(
                    {
                        "title": f"Paper {i}",
                        "abstract": f"Deep models fail on case {i}. We propose fix {i}. "
                        f"It improves accuracy by {i % 50}.{i % 10} points.",
                    }
                )
                + "\n"
            )
    return path


@pytest.mark.parametrize("workers", ["1", "2"])  # this process; worker processes
def test_ctrl_c_exits_130_saying_what_was_saved_and_a_rerun_resumes(tmp_path: Path, out: Path, workers: str) -> None:
    papers = _many(tmp_path / "many.jsonl", 1500)
    cache = tmp_path / "cache"
    env = {**os.environ, "PYTHONPATH": str(REPO), "SUMMARIZE_CACHE_DIR": str(cache)}
    # The run starts as a shell in a terminal starts it, with Ctrl-C handled, even where pytest itself was started
    # with SIGINT ignored (nohup, a script's background job), which a child would inherit.
    handling = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        run = subprocess.Popen(
            [sys.executable, "-m", "pipeline", "run", str(papers), "--out", str(out), "--workers", workers],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    finally:
        signal.signal(signal.SIGINT, handling)
    deadline = time.monotonic() + 120  # a bound for a loaded machine, not a wait: the loop ends at the first summary
    while cached_rows(cache) == 0 and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert run.poll() is None, f"the run ended before it could be interrupted: {run.communicate()[1]}"
    if cached_rows(cache) == 0:
        run.kill()
        pytest.fail("no summary was cached within 120 s")
    run.send_signal(signal.SIGINT)
    _, stderr = run.communicate(timeout=120)
    assert run.returncode == 130, stderr
    assert "Aborted" not in stderr and "Traceback" not in stderr, stderr
    said = re.search(r"interrupted: (\d+) of (\d+) papers read so far were summarised and saved", stderr)
    assert said, stderr
    saved = int(said.group(1))
    assert 0 < saved < 1500 and saved == cached_rows(cache)
    assert "Run the same command again to resume" in stderr
    assert not (out / "corpus.jsonl").exists()  # the corpus is as it was: none yet
    rerun = _run(str(papers), "--out", str(out), "--workers", workers)
    assert rerun["cached"] == saved and rerun["new"] == 1500 - saved and rerun["failed"] == 0


def test_run_help_lists_every_exit_code_a_run_can_end_with() -> None:
    from pipeline import errors

    shown = invoke("run", "--help").output
    listed = {int(code) for code in re.findall(r"^\s+(\d+)\s{2,}\S", shown, flags=re.MULTILINE)}
    raised_by_run = (
        errors.ConfigError,
        errors.InputError,
        errors.OutputError,
        errors.NewerCorpusError,
        errors.FetchError,
        errors.LockedError,
        errors.Interrupted,
    )
    assert {0, 1, 5, 6} | {error.exit_code for error in raised_by_run} <= listed, shown
    assert {2, 4, 130} <= listed


def test_run_json_says_a_small_run_never_started_a_worker(out: Path) -> None:
    from conftest import SAMPLE

    report = _run(str(SAMPLE), "--out", str(out), "--workers", "2")
    assert report["new"] == 69
    ran = report["executor"]
    assert (ran["executor"], ran["workers"], ran["papers_sent"]) == ("local", 1, 0)
    assert "summarised in this process" in ran["why"]
    # The screen keeps to what a reader acts on: how the work was spread is said under --verbose only.
    screen = invoke("run", str(SAMPLE), "--out", str(out), "--workers", "2", "--refresh").output
    assert "executor" not in screen and "cache misses" not in screen
    screen = invoke("run", str(SAMPLE), "--out", str(out), "--workers", "2", "--refresh", "--verbose").output
    assert "this process: no chunk had 128 cache misses" in " ".join(screen.split())


def test_a_mistyped_input_is_one_line_exit_2_and_the_folder_is_untouched(tmp_path: Path, out: Path) -> None:
    invoke("run", str(_papers(tmp_path)), "--out", str(out))
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    result = invoke("run", str(tmp_path / "nope.txt"), "--out", str(out), expect=2)
    assert result.output.strip().splitlines() == [f"error: {tmp_path / 'nope.txt'}: no such file; check the name"]
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before  # no report, no re-render
    assert not (out / "failures.jsonl").exists()
    # one good input and one typo: still refused before any work
    invoke("run", str(_papers(tmp_path)), str(tmp_path / "nope.txt"), "--out", str(out), expect=2)
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before


def test_a_ranked_run_says_what_the_ranking_did_and_warns_once_of_papers_authors_cannot_match(
    tmp_path: Path, out: Path
) -> None:
    from conftest import SAMPLE

    library = REPO / "tests" / "fixtures" / "library" / "zotero.bib"
    result = invoke("run", str(SAMPLE), "--out", str(out), "--library", str(library), "--authors", "Ho")
    screen = " ".join(result.output.split())
    assert "ranking.jsonl" in screen.partition("outputs")[2]
    assert "ranking 69 papers ranked by 3 library entries (1 without abstract" in screen
    assert "1 author(s) followed; 20 in the digest and feed" in screen
    warning = "69 papers without a link or authors: --authors cannot match; --resolve finds them"
    assert screen.count(warning) == 1
    assert json.loads((out / "run.json").read_text())["warnings"] == [warning]
    # papers with authors: nothing to warn of
    known = _papers(tmp_path, [{**p, "authors": ["A. Author"]} for p in PAPERS])
    report = _run(str(known), "--out", str(tmp_path / "o2"), "--authors", "Ho")
    assert report["warnings"] == [] and report["interests"]["ranked"] == 3


def test_a_dry_run_says_estimate_and_warns_of_the_missing_key(tmp_path: Path, out: Path) -> None:
    papers = str(_papers(tmp_path))
    result = invoke("run", papers, "--out", str(out), "--dry-run", "--model", "openai/gpt-4o-mini")
    screen = " ".join(result.output.split())
    assert "estimate $0.0" in screen and "for the 3 papers not cached" in screen
    assert "cost $" not in screen  # nothing was spent
    assert "warning: the real run will refuse to start: --model openai/gpt-4o-mini needs OPENAI_API_KEY" in screen
    report = _run(papers, "--out", str(out), "--dry-run", "--model", "openai/gpt-4o-mini")
    assert report["dry_run"] and report["estimated_cost_usd"] > 0 and len(report["warnings"]) == 1
    refused = invoke("run", papers, "--out", str(out), "--model", "openai/gpt-4o-mini", expect=2)
    assert "needs OPENAI_API_KEY" in refused.output  # what the warning said the real run does


def test_a_dry_run_with_the_key_set_warns_of_nothing(tmp_path: Path, out: Path, monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-real-key")
    report = _run(str(_papers(tmp_path)), "--out", str(out), "--dry-run", "--model", "openai/gpt-4o-mini")
    assert report["warnings"] == [] and report["new"] == 3


def _entries(feed: Path) -> dict[str, dict]:
    import xml.etree.ElementTree as ET

    ns = {"a": "http://www.w3.org/2005/Atom"}
    entries = {}
    for entry in ET.fromstring(feed.read_bytes()).findall("a:entry", ns):
        links = [link.get("href") for link in entry.findall("a:link", ns)]
        title, entry_id = entry.findtext("a:title", namespaces=ns), entry.findtext("a:id", namespaces=ns)
        entries[title] = {"id": entry_id, "links": links}
    return entries


def test_a_feed_entry_without_a_url_links_to_the_page_or_nowhere(tmp_path: Path, out: Path) -> None:
    papers = str(_papers(tmp_path))
    _run(papers, "--out", str(out))
    entries = _entries(out / "feed.xml")
    paper_b = next(r for r in read_jsonl(out / "corpus.jsonl") if r["title"] == "Paper B")
    assert paper_b["id"].startswith("title:") and paper_b["url"] is None
    # No site_url: no link at all, and an id no reader takes for one.
    assert entries["Paper B"] == {"id": "urn:summarize:" + paper_b["id"], "links": []}
    assert entries["Denoising Diffusion Probabilistic Models"]["links"] == ["https://arxiv.org/abs/2006.11239"]
    # With site_url: the published page, filtered to that paper.
    config = tmp_path / "config.toml"
    config.write_text('[summarize]\nsite_url = "https://example.org/papers/"\n')
    _run(papers, "--out", str(out), "--config", str(config))
    entries = _entries(out / "feed.xml")
    anchor = "https://example.org/papers/#f=id%3A" + paper_b["id"].replace(":", "%3A")
    assert entries["Paper B"]["links"] == [anchor]
    assert entries["Denoising Diffusion Probabilistic Models"]["links"] == ["https://arxiv.org/abs/2006.11239"]


def test_config_prints_toml_to_paste_with_where_each_value_came_from(tmp_path: Path, monkeypatch) -> None:
    import tomllib

    from pipeline.settings import load_settings

    config = tmp_path / "mine.toml"
    config.write_text(
        '[summarize]\nmodel = "openai/gpt-4o-mini"\nconcurrency = 3\n\n'
        '[interests]\nkeywords = ["diffusion", "tab\\tand \\"quotes\\""]\n\n'
        '[delivery]\nwebhook = "https://hooks.example.org/T000/B000/secret"\n'
    )
    monkeypatch.setenv("SUMMARIZE_OUT_DIR", str(tmp_path / "elsewhere"))
    printed = invoke("config", "--config", str(config)).output
    assert "PosixPath(" not in printed and " None" not in printed and "B000" not in printed
    assert f"read {config}" in printed.splitlines()[0]
    lines = printed.splitlines()
    assert f'model = "openai/gpt-4o-mini"  # from {config}' in lines
    assert f'out_dir = "{tmp_path / "elsewhere"}"  # from SUMMARIZE_OUT_DIR' in lines
    assert "max_retries = 2  # default" in lines and "# max_cost_usd = (not set)  # default" in lines
    assert f"# webhook = (set; a secret, not shown)  # from {config}" in lines
    # Pasted into a config file, it gives the same settings, with no environment at all.
    pasted = tmp_path / "pasted.toml"
    pasted.write_text(printed)
    tomllib.loads(printed)
    again, before = load_settings(pasted, environ={}), load_settings(config)
    assert again.interests.keywords == {"diffusion": 1.0, 'tab and "quotes"': 1.0}
    assert again.model_dump(exclude={"delivery"}) == before.model_dump(exclude={"delivery"})


def test_config_says_when_it_read_no_file() -> None:
    printed = invoke("config").output
    assert "no config file read" in printed.splitlines()[0]
    assert 'model = "embedded"  # default' in printed.splitlines()


def test_the_tables_keep_the_listing_order(tmp_path: Path, out: Path) -> None:
    from conftest import SAMPLE

    from pipeline.sources.files import read_listing

    listed = [paper.title for paper in read_listing(SAMPLE.read_bytes(), str(SAMPLE))]
    _run(str(SAMPLE), "--out", str(out))
    corpus = read_jsonl(out / "corpus.jsonl")
    assert [r["id"] for r in corpus] == sorted(r["id"] for r in corpus)  # the corpus stays sorted by id
    assert sorted(r["source_meta"]["position"] for r in corpus) == list(range(1, 70))
    with (out / "comparison.csv").open(newline="") as fh:
        assert [row["title"] for row in csv.DictReader(fh)] == listed
    rows = (out / "comparison.md").read_text().splitlines()[2:]
    assert [row.split(" | ")[0].removeprefix("| ") for row in rows[:3]] == [md_cell(t) for t in listed[:3]]
    # Records of an older corpus, without a position, follow those with one, by id.
    writer = TableWriter(tmp_path)
    for record in ({**corpus[0], "id": "z", "title": "old, z", "source_meta": {}}, *corpus[:3]):
        writer.add({**record, "source_meta": {}} if record["id"] == corpus[0]["id"] else record)
    writer.close()
    with (tmp_path / "comparison.csv").open(newline="") as fh:
        titles = [row["title"] for row in csv.DictReader(fh)]
    in_listing = sorted(corpus[1:3], key=lambda r: r["source_meta"]["position"])
    assert titles == [r["title"] for r in in_listing] + [corpus[0]["title"], "old, z"]  # ids "arxiv:…"/"title:…" < "z"


def test_the_tables_have_a_tldr_column_and_the_csv_holds_whole_values(out: Path) -> None:
    from conftest import SAMPLE

    library = REPO / "tests" / "fixtures" / "library" / "zotero.bib"
    invoke("run", str(SAMPLE), "--out", str(out), "--library", str(library), "--keywords", "diffusion")
    records = {r["id"]: r for r in read_jsonl(out / "corpus.jsonl")}
    ranking = {r["id"]: r for r in read_jsonl(out / "ranking.jsonl")}
    head = (out / "comparison.md").read_text().splitlines()[0]
    assert head == "| Score | Title | Why | tldr | Problem | Method | Key result | Code | Scores |"
    rows = list(csv.DictReader((out / "comparison.csv").open()))
    assert len(rows) == 69 and all(row["tldr"] == records[row["id"]]["tldr"] for row in rows)
    assert all(row["why"] == "; ".join(ranking[row["id"]]["reasons"]) for row in rows)
    assert not any(row["why"].endswith("…") for row in rows)  # whole, however long (the equality above)
    invoke("run", str(SAMPLE), "--out", str(out))
    assert (out / "comparison.md").read_text().startswith("| Title | tldr | Problem | Method | Key result | Code | Scores |\n")
    assert next(csv.reader((out / "comparison.csv").open()))[-1] == "tldr"


def test_the_readme_says_how_to_reach_summarize_and_its_quality_table_reads_plainly() -> None:
    text = (REPO / "README.md").read_text()
    common = text.partition("## Common commands")[2].partition("```bash")[0]
    assert "source .venv/bin/activate" in common  # the quick start's venv is not on PATH: `summarize` alone fails
    tests = " ".join(text.partition("<!-- ci: test command -->")[0].rpartition("## Quick start")[2].split())
    assert "minutes" in tests and "apt-get install chromium" in tests and "skipped" in tests
    quality = text.partition("## Quality, measured on dev")[2].partition("\n## ")[0]
    lines = quality.splitlines()
    heads = {i - 1 for i, line in enumerate(lines) if line.startswith("|---")}  # every table's header row
    rows = [line for i, line in enumerate(lines) if line.startswith("| ") and "---" not in line and i not in heads]
    assert rows and all(row.split(" | ")[1].count(". ") == 0 and row.split(" | ")[1].endswith(".") for row in rows)
    assert not re.search(r"oracle|silver|micro-F1|P@10 /|the gap, not its context", quality)
    ranking = (REPO / "docs" / "ranking.md").read_text()
    assert ranking.index("summarize rank") < ranking.index("```python")  # opens with usage
