"""Reading papers: the listing format, JSONL and CSV lists, ids, and bad input named by file and line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import SAMPLE

from pipeline.errors import InputError
from pipeline.schema import Paper
from pipeline.sources.files import read_inputs
from pipeline.sources.identity import paper_identity, title_key


def _split(items: list) -> tuple[list[Paper], list[InputError]]:
    return [i for i in items if isinstance(i, Paper)], [i for i in items if isinstance(i, InputError)]


def test_sample_listing_yields_exactly_its_69_papers() -> None:
    papers, errors = _split(list(read_inputs([str(SAMPLE)])))
    assert errors == []
    assert len(papers) == 69
    assert papers[0].title.startswith("Effect Heterogeneity with Earth Observation")
    assert papers[-1].title == "ComCLIP: Training-Free Compositional Image and Text Matching"
    assert all(len(p.abstract) > 200 and "\n" not in p.abstract for p in papers)
    assert len({p.id for p in papers}) == 69


@pytest.mark.parametrize(
    ("given", "url", "expected"),
    [
        ("2403.12345v3", None, ("arxiv:2403.12345", 3)),
        ("arxiv:2403.12345", None, ("arxiv:2403.12345", None)),
        (None, "https://arxiv.org/abs/2403.12345v2", ("arxiv:2403.12345", 2)),
        (None, "https://arxiv.org/pdf/2403.12345v1.pdf", ("arxiv:2403.12345", 1)),
        (None, "http://arxiv.org/abs/hep-th/9901001v1", ("arxiv:hep-th/9901001", 1)),
        ("doi:10.1/x", None, ("doi:10.1/x", None)),
    ],
)
def test_ids_follow_the_contract(given: str | None, url: str | None, expected: tuple) -> None:
    assert paper_identity(given, url, "Any title") == expected


def test_title_ids_ignore_case_and_punctuation() -> None:
    assert paper_identity(None, None, "Hello, World!")[0] == paper_identity(None, None, "hello world")[0]
    assert title_key("A  B-C") == "a b c"


def test_jsonl_and_csv_lists(tmp_path: Path) -> None:
    j = tmp_path / "a.jsonl"
    j.write_text(
        json.dumps({"title": "T1", "abstract": "A1.", "authors": ["X", "Y"], "published": "2024-01-01", "upvotes": 3})
        + "\n\n"
    )
    c = tmp_path / "b.csv"
    c.write_text('Title,Abstract,Authors,id\nT2,A2.,"P; Q",my-id\n')
    papers, errors = _split(list(read_inputs([str(j), str(c)])))
    assert errors == []
    assert [(p.title, p.authors) for p in papers] == [("T1", ["X", "Y"]), ("T2", ["P", "Q"])]
    assert papers[0].meta == {"upvotes": 3} and papers[1].id == "my-id"


def test_bad_lines_are_named_and_the_rest_is_read(tmp_path: Path) -> None:
    f = tmp_path / "bad.jsonl"
    f.write_bytes(
        b'{"title": "ok", "abstract": "fine."}\n'
        b"{not json\n"
        b'{"abstract": "no title"}\n'
        b'{"title": "no abstract", "abstract": "  "}\n'
        b'{"title": "latin-1 \xe9", "abstract": "x"}\n'
        b'{"title": "nul \x00", "abstract": "x"}\n'
        b"[1, 2]\n"
        b'{"title": "also ok", "abstract": "fine too."}\n'
    )
    papers, errors = _split(list(read_inputs([str(f)])))
    assert [p.title for p in papers] == ["ok", "also ok"]
    assert [(e.line, e.path) for e in errors] == [(n, str(f)) for n in (2, 3, 4, 5, 6, 7)]
    messages = [str(e) for e in errors]
    assert "malformed JSON" in messages[0] and "missing title" in messages[1]
    assert "empty abstract" in messages[2] and "not UTF-8" in messages[3] and "NUL" in messages[4]
    assert all(m.startswith(f"{f}:") for m in messages)


def test_csv_without_required_columns_is_one_clear_error(tmp_path: Path) -> None:
    f = tmp_path / "x.csv"
    f.write_text("name,summary\na,b\n")
    papers, errors = _split(list(read_inputs([str(f)])))
    assert papers == [] and len(errors) == 1
    assert "missing column(s) title, abstract" in str(errors[0]) and errors[0].line == 1


def test_csv_rows_report_their_own_line_numbers(tmp_path: Path) -> None:
    f = tmp_path / "x.csv"
    f.write_text('title,abstract\n"multi\nline title",ok.\nT,\n')
    papers, errors = _split(list(read_inputs([str(f)])))
    assert [p.title for p in papers] == ["multi line title"]
    assert [e.line for e in errors] == [4]


def test_listing_problems_name_their_lines(tmp_path: Path) -> None:
    f = tmp_path / "l.txt"
    f.write_text(
        "new\n\nSubscribe\n\nFirst Title\n\nFirst abstract is long enough to be one. It has two sentences.\n\n"
        "Orphan Title\n\nSecond Title\n\nSecond abstract, also a paragraph of prose. Indeed.\n"
    )
    papers, errors = _split(list(read_inputs([str(f)])))
    assert [p.title for p in papers] == ["First Title", "Second Title"]
    assert [(e.line, "no abstract" in str(e)) for e in errors] == [(9, True)]


def test_listing_without_papers_says_so(tmp_path: Path) -> None:
    f = tmp_path / "empty.txt"
    f.write_text("new\n\nSubscribe\n")
    papers, errors = _split(list(read_inputs([str(f)])))
    assert papers == [] and "no papers found" in str(errors[0])


def test_missing_file_is_an_error_for_that_input_only(tmp_path: Path) -> None:
    good = tmp_path / "g.jsonl"
    good.write_text(json.dumps({"title": "T", "abstract": "A."}) + "\n")
    papers, errors = _split(list(read_inputs([str(tmp_path / "nope.txt"), str(good)])))
    assert len(papers) == 1 and "cannot read" in str(errors[0])
