"""Round four of the hostile world (issue 36, classes A, C and D): the LLM judge is bounded like the summarising
engine (one client, one deadline, one budget rule, one error text), the site's state files and file names never
stop a run, and one bad item costs only itself.

Servers are real, on 127.0.0.1 (`fake_openai`, `hostile_server`); a drip's deadline is asserted by what the run
reports (the call failed on the paper's deadline, the others were not sent, the command finished), never by a timer.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import invoke, read_jsonl
from fake_openai import FakeOpenAI, Reply, title_of
from hostile_server import HostileServer, drip, endless, gzip_bomb

# --- Class A: the LLM judge is bounded like the engine -------------------------------------------------------------

N_PAPERS = 8


def _day(tmp_path: Path) -> Path:
    day = tmp_path / "day.jsonl"
    rows = [
        {"title": f"Sparse routing study {i}", "abstract": f"We study sparse routing variant {i} in mixture models."}
        for i in range(N_PAPERS)
    ]
    day.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return day


def _grounded(request: dict, n: int, **usage: object) -> Reply:
    answer = {"relevance": 6, "reason": "studies sparse mixture models"}
    return Reply(arguments=answer, **usage)  # type: ignore[arg-type]


def _rank(tmp_path: Path, base_url: str, *extra: str, model: str = "openai/fake", expect: int = 0):
    result = invoke(
        "rank", str(_day(tmp_path)), "--keywords", "routing", "--json", "--rank-model", model,
        "--api-base", base_url, *extra, expect=expect,
    )  # fmt: skip
    lines = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    return result, lines


@pytest.fixture
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUMMARIZE_MODE", "tools")
    monkeypatch.setenv("SUMMARIZE_TIMEOUT_S", "1")
    monkeypatch.setenv("SUMMARIZE_MAX_RETRIES", "0")


@pytest.mark.parametrize("behaviour", [endless(), gzip_bomb(200)], ids=["endless", "gzip-bomb"])
def test_the_judge_reads_at_most_the_engines_bytes(behaviour, tmp_path: Path, quick: None) -> None:
    with HostileServer(behaviour) as server:
        result, lines = _rank(tmp_path, server.url + "/v1", "--judge-top-k", "1")
    first = lines[0]["judge"]
    assert "larger than 8 MB" in first["error"]  # the engine's cap, on the same client
    assert "embedded score kept" in lines[0]["reasons"][0]
    assert len(lines) == N_PAPERS  # the ranking is still printed whole


def test_a_dripping_judge_server_meets_the_papers_deadline_and_the_rank_finishes(tmp_path: Path, quick: None) -> None:
    with HostileServer(drip(0.1)) as server:  # a byte every 0.1 s: a 1 s read timeout never fires
        result, lines = _rank(tmp_path, server.url + "/v1")
        requests = server.requests
    errors = [line["judge"]["error"] for line in lines]
    assert sum("deadline" in e and not e.startswith("not sent") for e in errors) == 1
    assert sum(e.startswith("not sent: the judge's server let an earlier paper's deadline pass") for e in errors) == 7
    assert requests == 1  # no paper after the first was sent to a server that drips
    assert "kept their embedded score" in result.stderr and "7 after a missed deadline" in result.stderr


@pytest.mark.parametrize("as_json", [False, True], ids=["text-body", "json-body"])
def test_the_judges_failure_note_is_terminal_safe(as_json: bool, tmp_path: Path, quick: None) -> None:
    hostile = "\x1b]0;owned\x07\x1b[2J\x1b[31mboom\u202e"
    body = json.dumps({"error": {"message": hostile, "type": "invalid_request_error"}}) if as_json else hostile

    with FakeOpenAI(lambda request, n: Reply(status=400, body=body)) as server:
        result, lines = _rank(tmp_path, server.base_url, "--judge-top-k", "2")
    assert "boom" in result.stderr and "boom" in lines[0]["judge"]["error"]
    for text in (result.stderr, result.output):
        assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text


@pytest.mark.parametrize(
    "lie",
    [
        {"prompt_tokens": -(10**9), "completion_tokens": -(10**9)},
        {"prompt_tokens": 10**30, "completion_tokens": 0},
        {"prompt_tokens": 100_000, "completion_tokens": -(10**12)},
        {"prompt_tokens": "1e9", "completion_tokens": 2.5},
    ],
    ids=["negative", "absurd", "negative-output", "not-counts"],
)
def test_one_lying_usage_report_never_lifts_max_cost(lie: dict, tmp_path: Path, quick: None) -> None:
    honest = {"prompt_tokens": 100_000, "completion_tokens": 0}  # $0.015 a paper at gpt-4o-mini's list price

    answered: list[str] = []

    def script(request: dict, n: int) -> Reply:
        answered.append(title_of(request))
        return _grounded(request, n, **(lie if len(answered) == 1 else honest))  # the first answer lies

    with FakeOpenAI(script) as server:
        _, lines = _rank(tmp_path, server.base_url, "--max-cost", "0.04", model="openai/gpt-4o-mini")
    not_sent = [line for line in lines if "not sent: --max-cost" in line["judge"].get("error", "")]
    # Honest counts fit 3 papers in $0.04; the lie is estimated from the text (a few hundred tokens), not believed.
    assert 3 <= N_PAPERS - len(not_sent) <= 4
    assert len({title for title in answered}) == N_PAPERS - len(not_sent)  # no paper past the budget was sent


def test_an_answer_without_usage_is_priced_from_its_text(tmp_path: Path, quick: None) -> None:
    def script(request: dict, n: int) -> Reply:
        body = json.dumps({"choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": None, "tool_calls": [{"id": "c", "type": "function", "function": {
                "name": "Judgement", "arguments": json.dumps({"relevance": 6, "reason": "sparse mixture models"})}}]}}],
            "id": "x", "object": "chat.completion", "created": 0, "model": "gpt-4o-mini"})  # fmt: skip
        return Reply(body=body)

    with FakeOpenAI(script) as server:
        _, lines = _rank(tmp_path, server.base_url, "--max-cost", "0.0001", model="openai/gpt-4o-mini")
        sent = len(server.requests)
    assert 1 <= sent < N_PAPERS  # each answer costs its text's estimate: the budget still stops the judge
    assert sum("not sent: --max-cost" in line["judge"].get("error", "") for line in lines) == N_PAPERS - sent


def test_the_engine_uses_the_same_budget_rule(tmp_path: Path, out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUMMARIZE_MODE", "tools")
    papers = tmp_path / "papers.jsonl"
    papers.write_text(
        "".join(
            json.dumps({"title": f"Paper {i}", "abstract": f"We propose M{i}. M{i} improves accuracy on B."}) + "\n"
            for i in range(3)
        )
    )
    with FakeOpenAI(lambda request, n: Reply(prompt_tokens=-(10**9), completion_tokens=-5)) as server:
        invoke("run", str(papers), "--out", str(out), "--model", "openai/gpt-4o-mini", "--api-base",
               server.base_url, "--workers", "1")  # fmt: skip
    report = json.loads((out / "run.json").read_text())
    records = read_jsonl(out / "corpus.jsonl")
    assert report["cost_usd"] > 0 and report["input_tokens"] > 0
    assert all(r["provenance"]["input_tokens"] > 0 and r["provenance"]["output_tokens"] > 0 for r in records)


# --- Class C: the site's state files never stop a run --------------------------------------------------------------


@pytest.fixture
def partitioned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUMMARIZE_CORPUS_LAYOUT", "partitioned")


def _papers(path: Path, start: int = 0, stop: int = 2) -> Path:
    path.write_text(
        "".join(
            json.dumps({"title": f"Routing paper {i}", "abstract": f"Routing fails at scale {i}. We propose R{i}."})
            + "\n"
            for i in range(start, stop)
        )
    )
    return path


def _deep(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.mark.parametrize(
    "manifest",
    [
        '{"partitions": ' + _deep(100_000) + "}",
        '{"partitions": 5}',
        '{"partitions": {"2026-03": {"records": "many", "bytes": []}}}',
        '{"partitions": {"2026-03": [1, 2]}}',
        "not json",
    ],
    ids=["deep", "number", "wrong-types", "list-entry", "garbage"],
)
def test_a_bad_manifest_is_rebuilt_from_the_partitions(manifest: str, tmp_path: Path, out: Path, partitioned) -> None:
    invoke("run", str(_papers(tmp_path / "a.jsonl")), "--out", str(out))
    (out / "corpus" / "manifest.json").write_text(manifest)
    invoke("run", str(_papers(tmp_path / "b.jsonl", 2, 3)), "--out", str(out))
    rebuilt = json.loads((out / "corpus" / "manifest.json").read_text())
    assert rebuilt["records"] == 3
    assert sum(entry["records"] for entry in rebuilt["partitions"].values()) == 3


@pytest.mark.parametrize("name", ["2026-13", "0000-01", "2026-W99", "2026-00", "2026-W00"])
def test_a_file_named_like_an_impossible_partition_is_skipped_with_a_warning(
    name: str, tmp_path: Path, out: Path, partitioned, monkeypatch: pytest.MonkeyPatch
) -> None:
    invoke("run", str(_papers(tmp_path / "a.jsonl")), "--out", str(out))
    stray = out / "corpus" / f"{name}.jsonl"
    stray.write_text('{"not": "a record"}\n')
    result = invoke("run", str(_papers(tmp_path / "b.jsonl", 2, 3)), "--out", str(out))
    said = result.stderr.replace("\n", "")  # the report wraps its lines at the terminal's width
    assert f"{name}.jsonl" in said and "skipped" in said
    report = json.loads((out / "run.json").read_text())
    assert any(f"{name}.jsonl" in warning for warning in report["warnings"])
    assert report["corpus_total"] == 3 and stray.read_text() == '{"not": "a record"}\n'  # left as it was
    # merge reads a shard holding one by the same rule, in either layout
    for layout in ("partitioned", "single"):
        monkeypatch.setenv("SUMMARIZE_CORPUS_LAYOUT", layout)
        result = invoke("merge", str(out), "--out", str(tmp_path / f"merged-{layout}"), "--json")
        assert f"{name}.jsonl" in result.stderr and "skipped" in result.stderr
        assert json.loads(result.stdout)["corpus_total"] == 3


@pytest.mark.parametrize("unit", ["week", "month"])
@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
def test_a_run_on_the_calendars_edge_runs_and_writes_run_json(
    day: str, unit: str, tmp_path: Path, out: Path, partitioned, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUMMARIZE_TODAY", day)
    monkeypatch.setenv("SUMMARIZE_CORPUS_PARTITION", unit)
    monkeypatch.setenv("SUMMARIZE_ARCHIVE_PERIOD", unit)
    invoke("run", str(_papers(tmp_path / "a.jsonl")), "--out", str(out))
    invoke("run", str(_papers(tmp_path / "b.jsonl", 2, 3)), "--out", str(out))
    assert json.loads((out / "run.json").read_text())["corpus_total"] == 3


def test_an_archive_index_naming_other_files_is_rebuilt_never_obeyed(tmp_path: Path, out: Path, partitioned) -> None:
    invoke("run", str(_papers(tmp_path / "a.jsonl")), "--out", str(out))
    victim = tmp_path / "victim.md"
    victim.write_text("mine")
    index = {"period": "week", "periods": {"../../victim": 1, "2026-03-01": "x"}, "records": 1}
    (out / "archive" / "index.json").write_text(json.dumps(index))
    invoke("run", str(_papers(tmp_path / "b.jsonl", 2, 3)), "--out", str(out))
    assert victim.read_text() == "mine"
    rebuilt = json.loads((out / "archive" / "index.json").read_text())
    assert rebuilt["records"] == 3 and all(".." not in name for name in rebuilt["periods"])


def test_an_ids_file_with_an_impossible_day_never_stops_a_run(
    tmp_path: Path, out: Path, partitioned, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUMMARIZE_ARCHIVE_PERIOD", "week")  # a period computed from each day
    invoke("run", str(_papers(tmp_path / "a.jsonl")), "--out", str(out))
    ids = next((out / "corpus").glob("*.ids"))
    ids.write_text("".join(line.rsplit("\t", 1)[0] + "\t2026-13-45\n" for line in ids.read_text().splitlines()))
    invoke("run", str(_papers(tmp_path / "b.jsonl", 2, 3)), "--out", str(out))
    assert json.loads((out / "run.json").read_text())["corpus_total"] == 3


def test_a_shards_run_json_too_deep_to_read_is_a_warning_in_merge(tmp_path: Path) -> None:
    shard = tmp_path / "shard"
    invoke("run", str(_papers(tmp_path / "a.jsonl")), "--out", str(shard))
    (shard / "run.json").write_text(_deep(100_000))
    result = invoke("merge", str(shard), "--out", str(tmp_path / "merged"), "--json")
    assert "run.json" in result.stderr and json.loads(result.stdout)["corpus_total"] == 2


# --- Class D: one bad item costs only itself -----------------------------------------------------------------------

DEEP_ITEM = _deep(5_000)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        (
            "zotero.json",
            '[\n{"title": "Sparse routing for mixtures", "author": [{"family": "Lee", "given": "A"}], "issued": '
            '{"date-parts": [[2024]]}},\n{"title": "deep", "note": ' + DEEP_ITEM + "},\n" + DEEP_ITEM + "\n]",
        ),
        ("papers.json", '[\n{"title": "Sparse routing for mixtures", "abstract": "We route."},\n' + DEEP_ITEM + "\n]"),
        (
            "feedback.json",
            '{"format": "summarize-feedback", "version": 1, "items": [\n{"id": "arxiv:2401.00001", "title": '
            '"Sparse routing for mixtures", "vote": "more"},\n' + DEEP_ITEM + "]}",
        ),
    ],
    ids=["csl-json", "json", "feedback"],
)
def test_a_library_item_nested_thousands_deep_costs_only_itself(name: str, text: str, tmp_path: Path) -> None:
    from pipeline.sources.library import read_library

    path = tmp_path / name
    path.write_text(text)
    library = read_library([str(path)])
    assert [e.title for e in library.entries] == ["Sparse routing for mixtures"]
    assert library.problems and all("nested deeper" in str(p) for p in library.problems)
    assert all(f"{name}:" in str(p) for p in library.problems)  # each names its file and line


def test_bibtex_string_concatenation_is_resolved(tmp_path: Path) -> None:
    from pipeline.sources.library import read_library

    path = tmp_path / "refs.bib"
    path.write_text(
        '@string{nerf = "NeRF: Representing Scenes as Neural Radiance Fields"}\n'
        "@string{deep = {Deep}}\n"
        '@string{both = deep # " " # nerf}\n'
        '@article{a, title = nerf # " for View Synthesis", author = {Mildenhall, Ben}, year = 2020}\n'
        '@article{b, title = "Plain" # { and } # both, year = 2021, month = aug}\n'
        "@article{c, title = {A title with a # sign in braces}, year = 2022}\n"
    )
    library = read_library([str(path)])
    assert [e.title for e in library.entries] == [
        "NeRF: Representing Scenes as Neural Radiance Fields for View Synthesis",
        "Plain and Deep NeRF: Representing Scenes as Neural Radiance Fields",
        "A title with a # sign in braces",
    ]
    assert library.problems == []


@pytest.mark.parametrize("value", ["nan", "NaN", "-nan"])
def test_rank_threshold_nan_is_a_usage_error(value: str, tmp_path: Path) -> None:
    result = invoke("rank", str(_day(tmp_path)), "--keywords", "routing", "--threshold", value, expect=2)
    assert "not a finite number" in result.output


def _ranking_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "cases"
    folder.mkdir()
    papers = [{"id": f"p{i}", "title": f"Routing paper {i}", "abstract": "We route tokens."} for i in range(4)]
    (folder / "papers.jsonl").write_text("".join(json.dumps(p) + "\n" for p in papers))
    case = {"case": "c1", "topic": "t", "library": ["p0"], "candidates": ["p1", "p2", "p3"], "relevant": ["p1"]}
    (folder / "cases.jsonl").write_text(json.dumps(case) + "\n")
    return folder


@pytest.mark.parametrize(
    ("file", "line"),
    [
        ("papers.jsonl", json.dumps({"id": {"an": "object"}, "title": "x"})),
        ("papers.jsonl", json.dumps({"id": ["p9"], "title": "x"})),
        ("papers.jsonl", _deep(100_000)),
        ("cases.jsonl", json.dumps({"case": "c2", "library": [{"id": "p0"}], "candidates": ["p1"], "relevant": []})),
        ("cases.jsonl", '{"case": "c3", "library": ' + _deep(100_000) + "}"),
    ],
    ids=["object-id", "list-id", "deep-paper", "object-in-case", "deep-case"],
)
def test_eval_ranking_names_the_file_and_line_of_a_bad_one(file: str, line: str, tmp_path: Path) -> None:
    folder = _ranking_folder(tmp_path)
    with (folder / file).open("a") as fh:
        fh.write(line + "\n")
    result = invoke("eval", "--ranking", str(folder), expect=2)
    number = len((folder / file).read_text().splitlines())
    assert f"{file}:{number}:" in result.output


def test_eval_ranking_still_scores_a_good_folder(tmp_path: Path) -> None:
    result = invoke("eval", "--ranking", str(_ranking_folder(tmp_path)), "--json")
    assert json.loads(result.output.splitlines()[0])["cases"] == 1


# The page (pipeline/page.js) in Chromium. First load: vote for the papers whose ids are "__proto__" and
# "constructor"; then another page of the same site writes its own values under our key (a null vote, a number);
# reload. Second load: what the buttons show, and the file "Export feedback" hands to the browser.
PROTO_VOTE = """
if (!sessionStorage.getItem("voted")) {
  document.querySelector('article[data-id="__proto__"] [data-vote="more"]').click();
  document.querySelector('article[data-id="constructor"] [data-vote="less"]').click();
  var stored = JSON.parse(localStorage.getItem("summarize.feedback.v1"));
  stored.elsewhere = null; stored.odd = 5; stored.arr = [1];
  localStorage.setItem("summarize.feedback.v1", JSON.stringify(stored));
  sessionStorage.setItem("voted", "1");
  location.reload();
} else {
  out.pressed = ["__proto__", "constructor"].map(function (id) {
    var art = document.querySelector('article[data-id="' + id + '"]');
    return ["more", "less"].filter(function (v) {
      return art.querySelector('[data-vote="' + v + '"]').getAttribute("aria-pressed") === "true"; });
  });
  var Made = window.Blob, parts = null;
  window.Blob = function (content, options) { parts = content; return new Made(content, options); };
  document.getElementById("export-feedback").click();
  out.button = document.getElementById("export-feedback").textContent;
  out.file = parts ? parts.join("") : null;
}
"""


@pytest.mark.skipif(
    not (__import__("shutil").which("chromium") or __import__("shutil").which("chromium-browser")),
    reason="needs Debian's chromium (apt-get install chromium)",
)
def test_the_page_keeps_a_proto_vote_and_exports_despite_a_null_vote(tmp_path: Path, out: Path) -> None:
    from test_page import _act

    papers = tmp_path / "papers.jsonl"
    papers.write_text(
        json.dumps({"id": "__proto__", "title": "Proto routing", "abstract": "We route tokens. It works."}) + "\n"
        + json.dumps({"id": "constructor", "title": "Constructor routing", "abstract": "We build. It works."}) + "\n"
    )  # fmt: skip
    invoke("run", str(papers), "--out", str(out))
    seen = _act(out / "comparison.html", tmp_path, PROTO_VOTE)
    assert seen["pressed"] == [["more"], ["less"]]
    assert seen["button"] == "Export feedback (2)"
    exported = json.loads(seen["file"])
    votes = {(item["id"], item["vote"]) for item in exported["items"]}
    assert votes == {("__proto__", "more"), ("constructor", "less")}
    (tmp_path / "feedback.json").write_text(seen["file"])
    from pipeline.sources.library import read_library  # the file --library reads

    library = read_library([str(tmp_path / "feedback.json")])
    assert library.problems == [] and len(library.entries) == 2
