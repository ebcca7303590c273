"""Real exports' patterns, written here in the exporters' styles: distinct works of one title kept apart (and every
merge reported), Zotero's spaced accents and text symbols, arXiv ids and DOIs where exporters put them, and the
count said once per library in `rank`, `run` and run.json."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import invoke, read_jsonl

from pipeline.sources.library import read_library


def _csl(path: Path, items: list[dict]) -> Path:
    path.write_text(json.dumps(items, indent="\t"))
    return path


def _zotero_csl(n: int, **fields) -> dict:
    """An item as Zotero's "CSL JSON" export writes it: its own item URI as the id."""
    return {"id": f"http://zotero.org/users/7419/items/ITEM{n:04d}", "type": "article-journal", **fields}


def test_volumes_of_one_work_websites_of_one_title_and_a_book_and_a_paper_stay_apart(tmp_path: Path) -> None:
    freud = [{"family": "Freud", "given": "Anna"}]
    volumes = [
        _zotero_csl(
            i,
            type="book",
            title="The Writings",
            author=freud,
            volume=str(i + 1),
            issued={"date-parts": [[str(1968 + i)]]},
        )
        for i in range(13)
    ]
    sites = [
        _zotero_csl(100 + i, type="webpage", title="Online reference", URL=f"https://site{i}.example/")
        for i in range(10)
    ]
    book = _zotero_csl(
        200,
        type="book",
        title="Deep Learning",
        author=[{"family": "Goodfellow", "given": "Ian"}],
        issued={"date-parts": [[2016]]},
    )
    paper = _zotero_csl(
        201, title="Deep Learning", author=[{"family": "LeCun", "given": "Yann"}], issued={"date-parts": [[2015]]}
    )
    library = read_library([_csl(tmp_path / "zotero.json", [*volumes, *sites, book, paper])])
    assert len(library.entries) == 25 and library.merges == []
    assert (
        library.files[0].line
        == f"read 25 entries from {tmp_path / 'zotero.json'} (0 merged as duplicates, 0 without a title)"
    )


def test_the_same_work_in_two_files_is_merged_and_the_merge_reported(tmp_path: Path) -> None:
    bib = tmp_path / "mine.bib"
    bib.write_text(
        "@article{smith2020,\n  title = {Sleep and Memory},\n  author = {Smith, Jane and Doe, Ravi},\n"
        "  year = {2020}\n}\n"
    )
    csl = _csl(
        tmp_path / "lab.json",
        [
            _zotero_csl(
                1,
                title="Sleep and memory",
                author=[{"family": "Smith", "given": "J."}],
                issued={"date-parts": [[2021]]},
            ),
            _zotero_csl(2, title="Untitled draft notes"),
            {"id": "x", "type": "article-journal"},  # no title
        ],
    )
    library = read_library([bib, csl])
    assert [e.title for e in library.entries] == ["Sleep and Memory", "Untitled draft notes"]
    assert library.merges == [{"kept": f"{bib}:1", "merged": f"{csl}:2", "by": "title", "title": "Sleep and memory"}]
    assert library.files[1].line == f"read 3 entries from {csl} (1 merged as duplicates, 1 without a title)"
    assert library.describe()["merged"] == 1


def test_zotero_accents_with_a_space_and_text_symbols_read_as_their_letters(tmp_path: Path) -> None:
    bib = tmp_path / "better.bib"
    bib.write_text(
        "@article{francois_2024,\n"
        "  title = {Effects at p {\\textless} 0.05 and {\\textgreater} 10 {\\textbar} all},\n"
        "  author = {Fran{\\c c}ois, Jean and Mar{\\v c}elja, Stjepan and Erd{\\H o}di, L{\\'a}szl{\\'o} and "
        "Do{\\u g}an, Ay{\\c s}e and W{\\k a}s, Ewa},\n"
        "  year = {2024}\n}\n"
    )
    (entry,) = read_library([bib]).entries
    assert entry.authors == ["Jean François", "Stjepan Marčelja", "László Erdődi", "Ayşe Doğan", "Ewa Wąs"]
    assert entry.title == "Effects at p < 0.05 and > 10 | all"


def test_arxiv_ids_and_dois_where_exporters_put_them(tmp_path: Path) -> None:
    bib = tmp_path / "ids.bib"
    bib.write_text(
        "@misc{a, title = {Via the DOI URL}, url = {https://doi.org/10.48550/arXiv.2502.01229}}\n"
        "@article{b, title = {ADS style}, journal = {arXiv e-prints}, pages = {arXiv:1705.05823}, year = 2017}\n"
        "@book{c, title = {A DOI in the note}, note = {DOI: 10.4337/9781800880085.00012}}\n"
        "@article{d, title = {Pages that are pages}, pages = {1705.0582}}\n"
    )
    csl = _csl(
        tmp_path / "z.json",
        [
            _zotero_csl(
                1, title="Extra as note", note="Publisher: E\nDOI: 10.1000/XYZ.9", issued={"date-parts": [[2020]]}
            )
        ],
    )
    ids = [e.id for e in read_library([bib, csl]).entries]
    assert ids[:3] == ["arxiv:2502.01229", "arxiv:1705.05823", "doi:10.4337/9781800880085.00012"]
    assert ids[3].startswith("title:") and ids[4] == "doi:10.1000/xyz.9"


def test_rank_and_run_say_what_was_read_once_per_library(tmp_path: Path, out: Path) -> None:
    csl = _csl(
        tmp_path / "lib.json",
        [
            _zotero_csl(1, title="Cortical layers form in order", abstract="Layers form in order."),
            _zotero_csl(2, title="Cortical layers form in order", abstract="Layers form in order, again."),
            {"id": "y", "type": "book"},
        ],
    )
    papers = tmp_path / "day.jsonl"
    papers.write_text(json.dumps({"title": "Cortex layers", "abstract": "Cortical layers form in order."}) + "\n")
    said = f"read 3 entries from {csl} (0 merged as duplicates, 1 without a title)"
    result = invoke("rank", str(papers), "--library", str(csl))
    assert result.stderr.count(said) == 1
    result = invoke("run", str(papers), "--library", str(csl), "--out", str(out), "--workers", "1")
    assert said in " ".join(result.output.split())
    report = json.loads((out / "run.json").read_text())
    assert report["interests"]["library"]["files"][0]["read"] == said and len(read_jsonl(out / "corpus.jsonl")) == 1
