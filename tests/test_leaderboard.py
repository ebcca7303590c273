"""Leaderboards (issue 32): names that line up across papers, `summarize leaderboard` over both corpus layouts,
its filters and formats, the tables' scores column. The records are those `summarize run` writes for the sample
listing, given the scores the issue's schema v3 defines (tests/scored.py), and a generated corpus like the
benchmark's (bench/leaderboard.py)."""

from __future__ import annotations

import csv
import io
import json
import random
import shutil
from pathlib import Path

import pytest
from conftest import SAMPLE, invoke
from scored import add_sample_scores, read, score, write

from bench.generate import _sentences
from bench.leaderboard import scored_record
from pipeline.leaderboard.board import build
from pipeline.leaderboard.names import HIGHER, LOWER, Names
from pipeline.sections import Leaderboard


@pytest.fixture(scope="module")
def sample_records(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    """The sample listing's records as a run writes them, with their hand-labelled scores."""
    out = tmp_path_factory.mktemp("sample") / "out"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SUMMARIZE_CACHE_DIR", str(out.parent / "cache"))
        invoke("run", str(SAMPLE), "--out", str(out))
    return add_sample_scores(read(out / "corpus.jsonl"))


@pytest.fixture
def sample(sample_records: list[dict], tmp_path: Path) -> Path:
    folder = tmp_path / "scored"
    write(folder / "corpus.jsonl", sample_records)
    return folder


def generated(n: int, shares: str = "dense", seed: int = 3) -> list[dict]:
    rng, pool = random.Random(seed), _sentences()
    return [scored_record(i, rng, pool, shares) for i in range(n)]


def board_json(folder: Path, *args: str) -> dict:
    return json.loads(invoke("leaderboard", str(folder), "--json", *args).stdout)


# --- names -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "names",
    [
        ["ImageNet-1K", "ImageNet-1k", "ImageNet 1k", "imagenet1k", "IMAGENET 1K"],
        ["ImageNet 256x256", "ImageNet 256×256", "ImageNet 256times256", "ImageNet 256 x 256"],
        ["MMLU", "the MMLU benchmark", "MMLU dataset"],
        ["Lunar Lander", "LunarLander", "lunar-lander"],
        ["SWE-bench Verified", "SWE-Bench verified"],
    ],
)
def test_dataset_names_line_up(names: list[str]) -> None:
    keys = {Names.default().dataset(name) for name in names}
    assert len(keys) == 1, keys


@pytest.mark.parametrize(
    "names",
    [
        ["top-1 acc.", "top-1 accuracy", "Top-1 Accuracy", "top1 accuracy", "top-1"],
        ["mIoU", "mean IoU", "MIoU", "mean intersection over union"],
        ["FID", "Frechet inception distance (FID)", "Fréchet Inception Distance"],
        ["WER", "word error rate", "Word Error Rate (WER)"],
        ["F1", "F1-score", "F1 score"],
        ["MOTA", "Multi-Object Tracking Accuracy (MOTA)"],
        ["perplexity", "PPL"],
    ],
)
def test_metric_names_line_up(names: list[str]) -> None:
    keys = {Names.default().metric(name) for name in names}
    assert len(keys) == 1, keys


@pytest.mark.parametrize(
    "pair", [("CIFAR-10", "CIFAR-100"), ("ImageNet-1K", "ImageNet-21K"), ("COCO", "RefCOCO"), ("KITTI", "KITTI-360")]
)
def test_different_datasets_stay_apart(pair: tuple[str, str]) -> None:
    assert Names.default().dataset(pair[0]) != Names.default().dataset(pair[1])


def test_top1_and_top5_and_pass_at_k_stay_apart() -> None:
    names = Names.default()
    assert names.metric("top-1 accuracy") != names.metric("top-5 accuracy")
    assert names.metric("pass@1") != names.metric("pass@10")


@pytest.mark.parametrize(
    "metric",
    ["FID", "top-1 error", "error rate", "latency", "inference latency", "perplexity", "WER", "training loss", "MAE",
     "RMSE", "LPIPS", "training time", "peak memory usage", "Chamfer distance", "bits per dimension"],
)
def test_lower_is_better(metric: str) -> None:
    assert Names.default().direction(metric) == LOWER


@pytest.mark.parametrize(
    "metric",
    ["top-1 accuracy", "BLEU", "mIoU", "success rate", "PSNR", "F1", "speedup", "error reduction", "latency speedup",
     "inception score (IS)", "throughput"],
)
def test_higher_is_better(metric: str) -> None:
    assert Names.default().direction(metric) == HIGHER


def test_config_extends_directions_and_synonyms() -> None:
    names = Names.of(
        Leaderboard(lower_is_better=["edit steps"], higher_is_better=["FID"], synonyms={"ImageNet": "ImageNet-1K"})
    )
    assert names.direction("Edit Steps") == LOWER and names.direction("fid") == HIGHER
    assert names.dataset("imagenet") == names.dataset("ImageNet 1k")
    assert Names.default().dataset("imagenet") != Names.default().dataset("ImageNet 1k")  # only where asked


# --- the command on the sample listing ------------------------------------------------------------------------


def test_the_sample_listing_has_one_leaderboard_lower_first(sample: Path) -> None:
    found = board_json(sample)
    assert found["records"] == 69
    assert [(b["dataset"], b["metric"], b["direction"], b["papers"]) for b in found["boards"]] == [
        ("ImageNet 256x256", "FID", "lower", 2)
    ]
    entries = found["boards"][0]["entries"]
    # M-VAR's 1.78 beats VAR's 1.80 (lower is better); the AR baseline's 18.65 is not VAR's own score
    assert [(e["title"][:5], e["value"], e["subject"]) for e in entries] == [("M-VAR", "1.78", "M-VAR-d32"),
                                                                              ("Visua", "1.80", "VAR")]
    assert "registers 1.78 FID on ImageNet 256times256" in entries[0]["sentence"]
    assert entries[1]["sentence"].startswith("On ImageNet 256x256 benchmark, VAR")
    # one paper's inception score, ARFlow's 128x128 FID, a gain, a score without a dataset: no board
    assert all(e["id"] != "title:f83eda59e5c2b1de" for e in entries)


def test_the_engines_own_scores_of_the_sample_listing_make_a_board_best_first(tmp_path: Path) -> None:
    out = tmp_path / "out"
    invoke("run", str(SAMPLE), "--out", str(out))
    found = board_json(out)
    assert found["records"] == 69 and found["boards"], "the embedded engine's scores gave no leaderboard"
    for board in found["boards"]:
        numbers = [float(e["number"]) for e in board["entries"]]
        assert len({e["id"] for e in board["entries"]}) >= 2
        assert numbers == sorted(numbers, reverse=board["direction"] == "higher"), board
    fid = [b for b in found["boards"] if b["metric"] == "FID"]
    assert fid and all(b["direction"] == "lower" for b in fid)


def test_the_text_lists_the_board_best_first_with_its_sentences(sample: Path) -> None:
    text = invoke("leaderboard", str(sample)).stdout
    assert "ImageNet 256x256 · FID  (lower is better, 2 papers)" in text
    first, second = text.index("1.78"), text.index("1.80")
    assert first < second
    assert "M-VAR: Decoupled Scale-wise Autoregressive Modeling" in text and "title:7e4880da5d91899f" in text
    assert "“Moreover, our largest model M-VAR-d32 impressively registers 1.78 FID" in text
    assert "18.65 " not in text.split("“")[0]  # a baseline's number is never an entry


def test_a_synonym_in_config_joins_a_board(sample: Path, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[leaderboard.synonyms]\n"ImageNet at 128 * 128" = "ImageNet 256x256"\n')
    entries = board_json(sample, "--config", str(config))["boards"][0]["entries"]
    # ARFlow's best own FID of the two it reports (4.34, not 14.08) comes last
    assert [e["value"] for e in entries] == ["1.78", "1.80", "4.34"]
    config.write_text('[leaderboard]\nhigher_is_better = ["FID"]\n')
    assert [e["value"] for e in board_json(sample, "--config", str(config))["boards"][0]["entries"]] == ["1.80", "1.78"]


def test_an_unknown_leaderboard_setting_is_an_error(sample: Path, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[leaderboard]\nlower_is_beter = ["FID"]\n')
    result = invoke("leaderboard", str(sample), "--config", str(config), expect=2)
    assert "lower_is_beter" in result.output


def test_no_corpus_and_no_board_say_so(tmp_path: Path, sample: Path) -> None:
    assert "no corpus.jsonl" in invoke("leaderboard", str(tmp_path / "empty"), expect=2).output
    result = invoke("leaderboard", str(sample), "--dataset", "CIFAR-10")
    assert result.stdout == "" and "no leaderboard for --dataset 'CIFAR-10'" in result.stderr
    assert board_json(sample, "--dataset", "CIFAR-10")["boards"] == []


def test_help() -> None:
    result = invoke("leaderboard", "--help")
    assert "Usage:" in result.output and "--dataset" in result.output and "best first" in result.output


# --- a generated corpus: ordering, filters, formats -------------------------------------------------------


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("many")
    write(folder / "corpus.jsonl", generated(3000))
    return folder


def test_every_board_has_two_papers_or_more_best_first(many: Path) -> None:
    boards = board_json(many)["boards"]
    assert len(boards) >= 20
    directions = {b["direction"] for b in boards}
    assert directions == {"lower", "higher"}
    for b in boards:
        numbers = [e["number"] for e in b["entries"]]
        assert len({e["id"] for e in b["entries"]}) == len(numbers) >= 2  # one entry per paper
        assert numbers == sorted(numbers, reverse=b["direction"] == "higher"), b["key"]
        for e in b["entries"]:
            assert e["value"] in e["sentence"]  # the sentence that states it
    by_metric = {b["key"].split("|")[1]: b["direction"] for b in boards}
    assert by_metric["fid"] == by_metric["wer"] == by_metric["perplexity"] == by_metric["error"] == "lower"
    assert by_metric["top1accuracy"] == by_metric["miou"] == by_metric["score"] == "higher"


def test_names_written_differently_share_a_board(many: Path) -> None:
    boards = board_json(many, "--dataset", "ImageNet 1k", "--metric", "Top-1 Acc.")["boards"]
    assert len(boards) == 1
    written = {(e["dataset"], e["metric"]) for e in boards[0]["entries"]}
    assert {d for d, _ in written} == {"ImageNet-1K", "ImageNet-1k", "ImageNet 1k"}
    assert {m for _, m in written} == {"top-1 accuracy", "top-1 acc.", "Top-1 Accuracy"}


def test_filters_keep_the_boards_they_name(many: Path) -> None:
    everything = board_json(many)["boards"]
    imagenet = board_json(many, "--dataset", "imagenet")["boards"]
    assert {b["key"].split("|")[0] for b in imagenet} == {"imagenet1k", "imagenet256x256"}
    fid = board_json(many, "--metric", "FID")["boards"]
    assert [b["key"] for b in fid] == ["imagenet256x256|fid|"]
    assert fid[0] == next(b for b in everything if b["key"] == fid[0]["key"])  # the same board, unfiltered
    text = invoke("leaderboard", str(many), "--metric", "fid", "--top", "3").stdout
    assert text.count(" · FID ") == 1 and text.count("\n   3. ") == 1 and "\n   4. " not in text


def test_csv_has_one_row_per_entry(many: Path) -> None:
    boards = board_json(many)["boards"]
    rows = list(csv.DictReader(io.StringIO(invoke("leaderboard", str(many), "--csv").stdout)))
    assert len(rows) == sum(b["papers"] for b in boards)
    first = boards[0]["entries"][0]
    assert rows[0]["id"] == first["id"] and rows[0]["rank"] == "1" and float(rows[0]["number"]) == first["number"]
    assert rows[0]["better"] == boards[0]["direction"]


def test_json_and_csv_together_are_refused(many: Path) -> None:
    assert "choose one" in invoke("leaderboard", str(many), "--json", "--csv", expect=2).output


def _hostile(records: list[dict]) -> list[dict]:
    out = []
    for k, record in enumerate(records[:2]):
        value = "=1+2" if k == 0 else "-3.5"
        record = {**record, "title": "\x1b[31mRED\x1b[0m [bold]x[/bold] =HYPERLINK(\"http://evil\")"}
        record["scores"] = [score(value, "BLEU", "WMT14", number=float(k + 1), subject="@SUM(A1)")]
        record["abstract"] = f"We reach {value} BLEU on WMT14. " + record["abstract"]
        out.append(record)
    return out


def test_csv_cells_are_never_formulas(tmp_path: Path) -> None:
    write(tmp_path / "corpus.jsonl", _hostile(generated(2, seed=9)))
    rows = list(csv.reader(io.StringIO(invoke("leaderboard", str(tmp_path), "--csv").stdout)))[1:]
    assert len(rows) == 2
    for row in rows:
        for cell in row:
            assert cell[:1] not in ("=", "+", "@") and not (cell.startswith("-") and not _number(cell)), row
    assert {row[4] for row in rows} == {"'=1+2", "'-3.5"}  # the value as written, made inert
    assert {row[5] for row in rows} == {"2.0", "1.0"}  # the number, a number


def _number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def test_terminal_output_cannot_recolour_or_restyle(tmp_path: Path) -> None:
    write(tmp_path / "corpus.jsonl", _hostile(generated(2, seed=9)))
    text = invoke("leaderboard", str(tmp_path)).stdout
    assert "\x1b" not in text
    assert 'RED[0m [bold]x[/bold] =HYPERLINK("http://evil") (2025-01-01)' in text  # as written, not as markup


# --- both layouts ---------------------------------------------------------------------------------------------


def test_the_partitioned_layout_gives_the_same_boards(
    sample_records: list[dict], sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "partitioned"
    monkeypatch.setenv("SUMMARIZE_CORPUS_LAYOUT", "partitioned")
    invoke("run", str(SAMPLE), "--out", str(out))
    assert not (out / "corpus.jsonl").exists()
    parts = sorted((out / "corpus").glob("*.jsonl"))
    assert len(parts) == 1
    scored = {r["id"]: r for r in sample_records}
    records = [scored[r["id"]] for r in read(parts[0])]  # the run's partition, with the same scores
    half = len(records) // 2  # an older month holds half of them
    write(parts[0], records[half:])
    write(out / "corpus" / "2025-01.jsonl", records[:half])
    assert board_json(out) == board_json(sample)


def test_an_id_in_two_files_counts_once_as_every_reader_keeps_it(sample_records: list[dict], tmp_path: Path) -> None:
    """A migration half done: the same paper in corpus.jsonl and a partition; the newer summary is the one kept."""
    folder = tmp_path / "both"
    var = next(r for r in sample_records if r["id"] == "title:070da6665baabb1f")
    older = {**var, "scores": [], "provenance": {**var["provenance"], "created_at": "2020-01-01T00:00:00+00:00"}}
    write(folder / "corpus.jsonl", [r for r in sample_records if r["id"] != var["id"]] + [older])
    write(folder / "corpus" / "2026-01.jsonl", [var])
    assert [e["value"] for e in board_json(folder)["boards"][0]["entries"]] == ["1.78", "1.80"]
    newer = {**older, "provenance": {**var["provenance"], "created_at": "2999-01-01T00:00:00+00:00"}}
    write(folder / "corpus.jsonl", [r for r in sample_records if r["id"] != var["id"]] + [newer])
    assert board_json(folder)["boards"] == []  # the newer record has no scores: VAR is off the board


def test_a_newer_schema_is_refused(sample_records: list[dict], tmp_path: Path) -> None:
    from pipeline.schema import SCHEMA_VERSION

    write(tmp_path / "corpus.jsonl", [{**sample_records[0], "schema_version": SCHEMA_VERSION + 1}])
    assert "upgrade summarize" in invoke("leaderboard", str(tmp_path), expect=2).output


def test_lines_that_are_not_records_are_passed_over(sample_records: list[dict], sample: Path) -> None:
    before = board_json(sample)
    with (sample / "corpus.jsonl").open("a") as fh:
        fh.write('not json\n{"id": 3}\n\n[1, 2]\n')
    assert board_json(sample)["boards"] == before["boards"]


# --- the tables ---------------------------------------------------------------------------------------------


def test_comparison_md_and_csv_have_a_scores_column(sample_records: list[dict], tmp_path: Path) -> None:
    from pipeline.table import TableWriter

    writer = TableWriter(tmp_path)
    for record in sample_records:
        writer.add(record)
    writer.close()
    md = (tmp_path / "comparison.md").read_text()
    assert md.splitlines()[0] == "| Title | tldr | Problem | Method | Key result | Code | Scores |"
    var = next(line for line in md.splitlines() if "Visual Autoregressive Modeling" in line)
    assert var.rstrip().endswith(
        "| 1.80 Frechet inception distance (FID) on ImageNet 256x256; 356.4 inception score (IS) on ImageNet 256x256; "
        "Δ 20x inference speed on ImageNet 256x256 |"
    )  # the paper's own scores, not the baseline's 18.65 or 80.4
    rows = {r["id"]: r for r in csv.DictReader((tmp_path / "comparison.csv").open())}
    mvar = "1.78 FID on ImageNet 256times256; Δ 0.4 FID on ImageNet 256times256"
    assert rows["title:7e4880da5d91899f"]["scores"] == mvar
    assert rows["title:1cf42be03489cdba"]["scores"] == "Δ +24% on GenEval"
    assert sum(1 for r in rows.values() if r["scores"]) == 5


def test_build_alone_ranks_dicts_from_anywhere() -> None:
    records = generated(400)
    boards = build(records, min_papers=3)
    assert boards and all(len(b.entries) >= 3 for b in boards)
    assert len(build(records)) >= len(boards)


def test_the_bench_corpus_is_read_in_both_layouts(tmp_path: Path) -> None:
    from bench.leaderboard import write_scored
    from pipeline.leaderboard.board import leaderboards

    single, _ = leaderboards(write_scored(tmp_path / "single", 1200, "single"))
    parted, total = leaderboards(write_scored(tmp_path / "parted", 1200, "partitioned"))
    assert total == 1200 and [b.as_dict() for b in single] == [b.as_dict() for b in parted]
    shutil.rmtree(tmp_path / "single")


# --- the page's Scores view, in Chromium ---------------------------------------------------------------------

CHOOSE = """
var chip = document.querySelector('%s');
out.found = !!chip;
if (chip) chip.click();
var rows = document.querySelectorAll("article.paper");
out.ids = Array.prototype.map.call(rows, function (r) { return r.getAttribute("data-id"); }).slice(0, 8);
out.shown = document.getElementById("shown").textContent;
out.hash = location.hash;
out.boards = Array.prototype.map.call(document.querySelectorAll("#boards li.board > button"),
  function (b) { return b.textContent; });
out.open = document.getElementById("boards") ? document.getElementById("boards").open : null;
out.facets = document.getElementById("facets").textContent;
out.chips = Array.prototype.map.call(rows[0] ? rows[0].querySelectorAll(".chip.result") : [],
  function (c) { return [c.textContent, c.tagName, c.getAttribute("data-facet")]; });
"""


def _page(records: list[dict], folder: Path) -> Path:
    from pipeline.table import TableWriter

    folder.mkdir(parents=True, exist_ok=True)
    writer = TableWriter(folder)
    for record in records:
        writer.add(record)
    writer.close()
    return folder / "comparison.html"


def _chromium() -> None:
    from test_page import CHROMIUM

    if CHROMIUM is None:
        pytest.skip("needs Debian's chromium (apt-get install chromium)")


def test_a_benchmark_chip_filters_the_sample_listing_best_first(sample_records: list[dict], tmp_path: Path) -> None:
    _chromium()
    from test_page import _act

    page = _page(sample_records, tmp_path / "page")
    fid = 'article.paper button.chip.bench[data-facet="bench:imagenet256x256|fid|"]'
    seen = _act(page, tmp_path, CHOOSE % fid)
    assert seen["found"] and seen["boards"] == ["ImageNet 256x256 · FID"]
    # M-VAR (1.78) above VAR (1.80): the board's order, lower first
    assert seen["ids"] == ["title:7e4880da5d91899f", "title:070da6665baabb1f"]
    assert seen["shown"] == "2 of 69 papers" and seen["open"] is True
    assert seen["hash"] == "#f=bench%3Aimagenet256x256%7Cfid%7C"
    assert seen["facets"] == "benchmark ImageNet 256x256 · FID ×"
    assert seen["chips"] == [["1.78 FID · ImageNet 256times256", "BUTTON", "bench:imagenet256x256|fid|"],
                             ["0.4 FID · ImageNet 256times256", "SPAN", None]]  # a change is no board's
    # the shared view opens the same; the panel's own chip does the same
    again = _act(page, tmp_path, CHOOSE % "#nothing", fragment=seen["hash"])
    assert again["ids"] == seen["ids"] and again["shown"] == seen["shown"]
    panel = _act(page, tmp_path, CHOOSE % '#boards button[data-facet="bench:imagenet256x256|fid|"]')
    assert panel["ids"] == seen["ids"]


def test_a_benchmark_chip_filters_a_10k_corpus_in_the_leaderboard_s_order(tmp_path: Path) -> None:
    _chromium()
    from test_page import _act

    records = generated(10_000, "labelled", seed=21)
    boards = build(records)
    page = _page(records, tmp_path / "page")
    chosen = next(b for b in boards if b.direction == "lower")  # a lower-is-better board: ascending
    seen = _act(page, tmp_path, CHOOSE % f'#boards button[data-facet="bench:{chosen.key}"]')
    assert seen["found"] and len(seen["boards"]) == len(boards)
    assert seen["shown"] == f"{len(chosen.entries)} of 10000 papers"
    assert seen["ids"] == [e.id for e in chosen.entries[:8]]
    higher = next(b for b in boards if b.direction == "higher")
    seen = _act(page, tmp_path, CHOOSE % f'#boards button[data-facet="bench:{higher.key}"]')
    assert seen["ids"] == [e.id for e in higher.entries[:8]]


def test_an_entry_s_sentence_is_the_engines_sentence(sample_records: list[dict]) -> None:
    """Boards split an abstract only as far as the sentence they show: the same sentences as a whole split."""
    from pipeline.extractive.text import split_sentences

    for record in sample_records:
        whole = split_sentences(record["abstract"])
        for k in (0, 1, len(whole) // 2, len(whole), len(whole) + 2):
            assert split_sentences(record["abstract"], first=k) == whole[:k]
