"""The sciences beyond CS: numbers written in TeX math and unicode are the numbers they are (validators, grounding,
the embedded engine), a physics measurement is a finding, a problem the engine is unsure of stays empty, and
`summarize eval --llm-fields --by categories` breaks every table down by field group."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import REPO, invoke
from pydantic import ValidationError

from pipeline.claims import name_grounded, numbers_in, numbers_stated
from pipeline.engines.embedded import EmbeddedEngine
from pipeline.grounding import terms
from pipeline.schema import Paper, Summary

SCIENCES = REPO / "data" / "sciences"


def _record(group: str, split: str, arxiv_id: str) -> dict[str, str]:
    for line in (SCIENCES / f"{group}.{split}.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record["id"] == arxiv_id:
            return record
    raise AssertionError(f"{arxiv_id} is not in data/sciences/{group}.{split}.jsonl")


def _validate(abstract: str, title: str, claim: str) -> Summary:
    opening = abstract.split(". ")[0]
    return Summary.model_validate(
        {"tldr": opening, "problem": opening, "method": opening, "results": [claim]},
        context={"abstract": abstract, "text": f"{title}\n{abstract}"},
    )


# Real abstracts of four fields that write their numbers in TeX, with the LLM's own result in unicode: every one
# was refused before ("cites 0.145, which the abstract does not state").
REAL = [
    ("quantph", "dev", "2508.14142", "0.145"),  # $5.25\pm0.145$ → "5.25±0.145"
    ("astro", "train", "2602.21725", "10"),  # 6.8x10^{-9} M_sun/yr → "6.8×10⁻⁹"
    ("physics", "train", "2510.15062", "3"),  # $9\pm3~\mu$m → "9±3 μm"
    ("hep_grqc_nucl", "train", "2510.25534", "0.0009"),  # \pm0.0009 → "γ≈0.1977±0.0009"
    ("condmat", "dev", "2506.08398", "24"),  # $N\le24$ → "N≤24"
]


@pytest.mark.parametrize(("group", "split", "arxiv_id", "number"), REAL)
def test_an_llm_result_in_unicode_is_grounded_in_a_tex_abstract(
    group: str, split: str, arxiv_id: str, number: str
) -> None:
    record = _record(group, split, arxiv_id)
    assert number in numbers_in(record["result"])
    assert _validate(record["abstract"], record["title"], record["result"]).results == [record["result"]]


def test_a_changed_number_is_still_refused_in_tex() -> None:
    record = _record("quantph", "dev", "2508.14142")
    changed = record["result"].replace("0.145", "0.147")
    with pytest.raises(ValidationError, match="0.147"):
        _validate(record["abstract"], record["title"], changed)


def test_tex_and_unicode_write_the_same_numbers() -> None:
    assert "0.2" in numbers_in(r"an eccentricity $e\sim0.2$")
    assert numbers_in(r"$10^{-3}$") == numbers_in("10⁻³") == {"10", "3"}
    assert numbers_in(r"$20$-$80\,M_\odot$") == {"20", "80"}
    assert numbers_in(r"$0.24 \pm 0.04$") == numbers_in("0.24 ± 0.04") == numbers_in("0.24 +/- 0.04")
    assert numbers_in(r"$\lesssim1.5$ and $\approx2$") == {"1.5", "2"}
    # A list's markers count items; they are no quantities a claim cites.
    assert numbers_in("Found: 1) a peak at 4.5 Gyr, (2) a tail.") == {"4.5"}


def test_spelled_out_numbers_are_stated() -> None:
    abstract = "We identify five stars in a two-dimensional map, twice as bright as expected."
    assert {"5", "2"} <= numbers_stated(abstract)
    record = _record("math", "dev", "2506.17731")  # the LLM writes "in 2D and 3D" for the abstract's words
    assert "3" in numbers_in(record["result"])
    assert _validate(record["abstract"], record["title"], record["result"]).results


def test_names_and_words_read_through_tex() -> None:
    assert terms(r"a $3\sigma$ detection at $T=10$~K") >= terms("a 3σ detection")
    assert name_grounded("M☉", r"masses of $20$-$80\,M_\odot$")
    assert not name_grounded("M☉ 90", r"masses of $20$-$80\,M_\odot$")


MEASUREMENT = (
    "The neutron lifetime anomaly has been debated for two decades. "
    "Beam and bottle experiments disagree at the level of four standard deviations. "
    "We use a new magneto-gravitational trap with an in situ detector to count surviving neutrons. "
    r"We measure the lifetime to be $877.8 \pm 0.3$ s, consistent with earlier bottle results. "
    "The trap design can be extended to other precision experiments."
)


def test_a_physics_measurement_is_the_key_result() -> None:
    paper = Paper(id="x", title="A neutron lifetime measurement", abstract=MEASUREMENT, source="test")
    out = EmbeddedEngine().summarize(paper)
    assert out.summary.results and out.summary.results[0].startswith("We measure the lifetime")
    assert "We measure" not in out.summary.method


def test_a_proof_is_a_finding_in_mathematics() -> None:
    abstract = (
        "The porous medium equation with a nonlocal pressure arises in models of crowd motion. "
        "We work in the framework of viscosity solutions on bounded domains. "
        "We then prove the existence and uniqueness of a non-negative continuous solution to the problem."
    )
    out = EmbeddedEngine().summarize(Paper(id="x", title="Nonlocal porous media", abstract=abstract, source="t"))
    assert out.summary.results and out.summary.results[0].startswith("We then prove")


def test_no_problem_cell_holds_another_cells_sentence_on_the_sample_listing() -> None:
    from pipeline.sources.files import read_inputs

    engine = EmbeddedEngine()
    papers = list(read_inputs([str(REPO / "data" / "hf-papers-listing-2026-03-12.txt")]))
    empty = 0
    for paper in papers:
        out = engine.summarize(paper)
        e = out.evidence
        held = set(e.tldr) | set(e.method) | {i for group in e.results for i in group}
        assert not set(e.problem) & held, paper.title
        empty += not out.summary.problem
        assert bool(out.summary.problem) == bool(e.problem), paper.title
    # Some papers state no gap (VAR, Grad-CAM, the Open Images licence): those cells are empty, most are not.
    assert 0 < empty < len(papers) // 2


def test_an_empty_problem_reads_not_stated_in_the_tables(tmp_path: Path) -> None:
    from pipeline.table import Row, _md_line

    row = Row(id="x", title="T", url=None, tldr="L", problem="", method="M", key_result="K", code=None, links=())
    assert "| not stated |" in _md_line(row)


def test_an_llm_must_still_state_a_problem() -> None:
    with pytest.raises(ValidationError, match="must state something"):
        Summary.model_validate(
            {"tldr": "A b c.", "problem": "", "method": "A b c.", "results": ["A b c d."]},
            context={"abstract": "A b c d.", "text": "A b c d."},
        )


def _dev(path: Path, category: str, n: int) -> None:
    record = {
        "title": "T",
        "abstract": "Stars form in clouds. However, their masses are unknown. We measure them. "
        "We find masses of $0.2 \\pm 0.1$ solar masses.",
        "categories": [category],
        "tldr": "We measure star masses.",
        "motivation": "Star masses are unknown.",
        "method": "We measure them.",
        "result": "Masses are 0.2 ± 0.1 solar masses.",
    }
    path.write_text("".join(json.dumps({**record, "id": f"{i}"}) + "\n" for i in range(n)), encoding="utf-8")


def test_eval_llm_fields_by_categories_gives_a_table_per_field_group(tmp_path: Path) -> None:
    _dev(tmp_path / "astro.dev.jsonl", "astro-ph.SR", 3)
    _dev(tmp_path / "math.dev.jsonl", "math.AP", 2)
    _dev(tmp_path / "math.train.jsonl", "math.AP", 7)  # a folder's train files are not scored
    result = invoke("eval", "--llm-fields", str(tmp_path), "--by", "categories", "--json")
    scored = json.loads(result.output)
    assert scored["papers"] == 5
    assert {name: g["papers"] for name, g in scored["groups"].items()} == {"astro": 3, "math": 2}
    for group in scored["groups"].values():
        assert set(group["fields"]) == {"tldr", "problem", "method", "key_result"}
        assert all("empty" in cell and "shown" in cell for cell in group["fields"].values())
    text = invoke("eval", "--llm-fields", str(tmp_path), "--by", "categories").output
    assert "by field group" in text and "astro" in text and "math" in text


def test_the_vendored_sciences_sets_load_and_keep_their_attribution() -> None:
    from pipeline.evaluate.data import field_group, load_llm_fields

    sources = (SCIENCES / "SOURCES.md").read_text(encoding="utf-8")
    assert "daily-arXiv-ai-enhanced" in sources and "Apache" in sources
    for dev in sorted(SCIENCES.glob("*.dev.jsonl")):
        group = dev.name.split(".")[0]
        papers = load_llm_fields(dev)
        assert papers and (SCIENCES / f"{group}.train.jsonl").exists()
        # Each file's papers are its group's by their primary category.
        assert sum(field_group(p.categories) == group for p in papers) >= 0.9 * len(papers), group


def test_the_page_says_not_stated_for_an_empty_problem(tmp_path: Path) -> None:
    from test_page import CHROMIUM, _act

    from pipeline.table import TableWriter

    if CHROMIUM is None:
        pytest.skip("needs Debian's chromium (apt-get install chromium)")
    writer = TableWriter(tmp_path)
    for i, problem in ((1, ""), (2, "Masses of old stars are unknown.")):
        writer.add(
            {
                "id": f"arxiv:2401.0000{i}",
                "title": f"Paper {i}",
                "abstract": "We measure star masses. They are 0.2 solar masses.",
                "tldr": "We measure star masses.",
                "problem": problem,
                "method": "We measure star masses.",
                "results": ["They are 0.2 solar masses."],
                "metrics": [],
                "datasets": [],
                "links": [],
                "tasks": [],
                "evidence": {"tldr": [0], "problem": [], "method": [0], "results": [[1]]},
            }
        )
    writer.close()
    seen = _act(
        tmp_path / "comparison.html",
        tmp_path,
        "out.problems = Array.prototype.map.call(document.querySelectorAll('article.paper'), function (a) {"
        " a.querySelector('button.fold').click();"
        " var dts = a.querySelectorAll('.fold-out dt');"
        " for (var i = 0; i < dts.length; i++) { if (dts[i].textContent === 'Problem') return dts[i].nextElementSibling.textContent; }"
        " return null; });",
    )
    assert sorted(seen["problems"]) == ["Masses of old stars are unknown.", "not stated"]
