"""The reader's library: every export format read into entries with the corpus's ids, bad entries reported by file
and line while the rest are used, and files that cannot be read refused by name."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.errors import InputError
from pipeline.sources.library import Library, Limits, read_library

FIXTURES = Path(__file__).parent / "fixtures" / "library"


def read_one(name: str | Path) -> Library:
    return read_library([FIXTURES / name if isinstance(name, str) else name])


def by_id(library: Library) -> dict:
    return {entry.id: entry for entry in library.entries}


def problems(library: Library) -> list[tuple[str, int | None, str]]:
    return [(Path(p.path).name, p.line, p.reason) for p in library.problems]


def assert_zotero_nerf(library: Library, added: datetime) -> None:
    """The NeRF preprint as Zotero exports it (RIS, CSL-JSON, CSV): its arXiv id, three authors, its dates."""
    nerf = by_id(library)["arxiv:2003.08934"]
    assert nerf.authors == ["Ben Mildenhall", "Pratul P. Srinivasan", "Matthew Tancik"]
    assert nerf.added == added and nerf.year == 2020
    assert nerf.abstract.startswith("We present a method that achieves state-of-the-art results")


def test_zotero_bibtex_export() -> None:
    library = read_one("zotero.bib")
    entries = by_id(library)
    assert list(entries) == ["arxiv:2003.08934", "doi:10.1145/3592433", "arxiv:2201.05989"]
    nerf = entries["arxiv:2003.08934"]
    assert nerf.title == "NeRF: Representing Scenes as Neural Radiance Fields for View Synthesis"  # braces gone
    assert nerf.authors[:2] == ["Ben Mildenhall", "Pratul P. Srinivasan"]
    assert nerf.year == 2020 and nerf.added == datetime(2024, 1, 15, tzinfo=UTC)  # urldate: the day it was saved
    assert nerf.published == datetime(2020, 8, 1, tzinfo=UTC)  # year + month = aug
    assert "Computer Science - Graphics" in nerf.keywords
    assert nerf.abstract.startswith("We present a method") and nerf.vote == "more"
    gaussian = entries["doi:10.1145/3592433"]
    assert gaussian.authors[2] == "Thomas Leimkühler"  # {\"u} decoded
    instant = entries["arxiv:2201.05989"]  # eprint + archivePrefix, BibDesk's date-added
    assert instant.added == datetime(2024, 5, 20, 9, 30, tzinfo=UTC)
    assert instant.keywords == ["nerf", "hash encoding"] and instant.line == 41
    assert [(f, line) for f, line, _ in problems(library)] == [("zotero.bib", 35)]
    assert "malformed BibTeX entry" in library.problems[0].reason
    assert str(library.problems[0]).startswith(f"{FIXTURES / 'zotero.bib'}:35: ")


def test_google_scholar_bibtex_without_abstracts() -> None:
    library = read_one("scholar.bib")
    titles = [e.title for e in library.entries]
    assert titles == [
        "Nerf: Representing scenes as neural radiance fields for view synthesis",
        "Prolificdreamer: High-fidelity and diverse text-to-3d generation with variational score distillation",
        "Mip-nerf 360: Unbounded anti-aliased neural radiance fields",
    ]
    # 'arXiv preprint arXiv:2305.16213' in the journal field is an arXiv id; the others are known by title.
    assert [e.id.split(":")[0] for e in library.entries] == ["title", "arxiv", "title"]
    assert library.entries[1].id == "arxiv:2305.16213"
    assert library.lacking_abstract() == library.entries  # counted by their titles
    assert library.entries[0].year == 2021 and library.entries[0].added is None
    assert library.entries[0].when == datetime(2021, 1, 1, tzinfo=UTC)
    assert [(f, line) for f, line, _ in problems(library)] == [("scholar.bib", 19)]
    assert "comma after entry key" in library.problems[0].reason


def test_mendeley_bibtex_with_keywords_and_groups() -> None:
    library = read_one("mendeley.bib")  # Mendeley's header text before the first entry is skipped
    entries = by_id(library)
    assert list(entries) == ["arxiv:2302.04264", "doi:10.5555/1390681.1442802"]
    studio = entries["arxiv:2302.04264"]
    assert studio.title == "Nerfstudio: A Modular Framework for Neural Radiance Field Development"
    assert studio.keywords == ["Neural Radiance Fields", "framework", "open source", "Thesis/3D reconstruction"]
    tsne = entries["doi:10.5555/1390681.1442802"]
    assert tsne.authors == ["Laurens van der Maaten", "Geoffrey Hinton"]
    assert tsne.keywords == ["dimensionality reduction", "visualization"]  # a tag repeated in mendeley-tags once
    assert [(f, line) for f, line, _ in problems(library)] == [("mendeley.bib", 19)]


def test_ris_export() -> None:
    library = read_one("zotero.ris")
    entries = by_id(library)
    assert list(entries) == ["arxiv:2003.08934", "doi:10.1145/3592433"]
    assert_zotero_nerf(library, datetime(2024, 1, 15, 10, 31, 2, tzinfo=UTC))  # Y2
    nerf = entries["arxiv:2003.08934"]
    assert nerf.published == datetime(2020, 8, 3, tzinfo=UTC)  # DA
    assert nerf.keywords == [
        "Computer Science - Computer Vision and Pattern Recognition",
        "Computer Science - Graphics",
    ]
    gaussian = entries["doi:10.1145/3592433"]
    assert gaussian.abstract.endswith("of scenes captured with multiple photos or videos.")  # a continued line
    assert gaussian.line == 24
    assert problems(library) == [
        ("zotero.ris", 18, "RIS record without its closing 'ER  -' line"),
        ("zotero.ris", 41, "missing title"),
    ]


def test_csl_json_export() -> None:
    library = read_one("zotero-csl.json")
    entries = by_id(library)
    assert list(entries) == ["arxiv:2003.08934", "doi:10.1145/3592433"]  # Zotero's item URI is not the id
    assert_zotero_nerf(library, datetime(2024, 1, 15, tzinfo=UTC))  # accessed
    assert entries["arxiv:2003.08934"].published == datetime(2020, 8, 3, tzinfo=UTC)  # issued
    gaussian = entries["doi:10.1145/3592433"]
    assert gaussian.authors == ["Bernhard Kerbl", "Thomas Leimkühler", "Inria"]
    assert gaussian.keywords == ["gaussian splatting", "real-time rendering"]
    assert gaussian.line == 28 and gaussian.format == "csl-json"
    assert problems(library) == [("zotero-csl.json", 21, "'author' must be a list of names")]


def test_feedback_export_votes() -> None:
    library = read_one("feedback.json")
    assert [(e.id, e.vote) for e in library.entries] == [
        ("arxiv:2401.00001", "more"),  # the version the page showed is not part of the id
        ("arxiv:2401.00002", "less"),
        ("title:5a1c0f2e9d3b7a61", "more"),  # the corpus id the page exported, kept
    ]
    assert [e.id for e in library.negatives] == ["arxiv:2401.00002"]
    assert library.entries[2].added == datetime(2026, 3, 13, 7, 0, tzinfo=UTC)
    assert problems(library) == [("feedback.json", 7, "'vote' must be \"more\" or \"less\", not 'meh'")]


def test_a_feedback_export_from_a_newer_summarize_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "feedback.json"
    path.write_text(json.dumps({"format": "summarize-feedback", "version": 2, "items": []}))
    with pytest.raises(InputError, match="version 2; this summarize reads version 1") as caught:
        read_library([path])
    assert caught.value.path == str(path)
    path.write_text('{"items": [], "format": "summarize-feedback"}')
    with pytest.raises(InputError, match="version None"):
        read_library([path])
    path.write_text('{"items": [{"title": "Kept", "vote": "less"}], "version": 1, "format": "summarize-feedback"}')
    assert [e.vote for e in read_library([path]).entries] == ["less"]  # keys in any order


def test_the_same_paper_in_two_files_is_one_entry_and_the_later_vote_counts(tmp_path: Path) -> None:
    feedback = tmp_path / "votes.json"
    item = {"id": "https://arxiv.org/abs/2003.08934v2", "title": "NeRF", "vote": "less", "at": "2026-03-12T09:00:00Z"}
    feedback.write_text(json.dumps({"format": "summarize-feedback", "version": 1, "items": [item]}))
    library = read_library([FIXTURES / "zotero.bib", FIXTURES / "scholar.bib", feedback])
    nerf = [e for e in library.entries if "NeRF" in e.title or "Nerf:" in e.title]
    assert len(nerf) == 1  # Zotero's arXiv entry, Scholar's title-only one and the vote: one paper
    assert nerf[0].id == "arxiv:2003.08934" and nerf[0].vote == "less"
    assert nerf[0].abstract.startswith("We present")  # what the Zotero entry knew is kept
    assert nerf[0].added == datetime(2026, 3, 12, 9, tzinfo=UTC)  # the latest date: the vote
    assert library.describe()["negatives"] == 1
    # The vote counts whichever file comes first; of two votes, the later one.
    assert [e.vote for e in read_library([feedback, FIXTURES / "zotero.bib"]).entries if "NeRF" in e.title] == ["less"]
    later = tmp_path / "later.json"
    item |= {"vote": "more", "at": "2026-03-20T09:00:00Z"}
    later.write_text(json.dumps({"format": "summarize-feedback", "version": 1, "items": [item]}))
    assert [e.vote for e in read_library([later, feedback]).entries] == ["more"]


def test_our_own_jsonl_csv_json_lists_and_a_corpus(tmp_path: Path) -> None:
    jsonl = tmp_path / "mine.jsonl"
    jsonl.write_text(
        json.dumps({"id": "2401.00005", "title": "Scene Reconstruction", "keywords": ["slam"], "vote": "more"})
        + "\n{not json\n"
        + json.dumps({"title": "Tumour Segmentation", "abstract": "We segment.", "vote": "less", "added": "2025-01-02"})
        + "\n"
    )
    csv = tmp_path / "titles.csv"
    csv.write_text('title,authors\n"Only a Title","Ada Lovelace"\n,"No title here"\n')
    array = tmp_path / "papers.json"
    array.write_text(
        json.dumps([{"title": "A JSON Paper", "abstract": "Text.", "url": "https://arxiv.org/abs/2402.00009"}])
    )
    corpus = tmp_path / "corpus.jsonl"
    record = {"schema_version": 2, "id": "arxiv:2403.00001", "title": "From the Corpus", "abstract": "We do.",
              "authors": ["B. C."], "published": "2024-03-01", "source": "hf-daily", "tldr": "We do."}  # fmt: skip
    corpus.write_text(json.dumps(record) + "\n")
    library = read_library([jsonl, csv, array, corpus])
    entries = by_id(library)
    assert entries["arxiv:2401.00005"].keywords == ["slam"] and entries["arxiv:2401.00005"].abstract == ""
    negative = next(e for e in library.entries if e.title == "Tumour Segmentation")
    assert negative.vote == "less" and negative.added == datetime(2025, 1, 2, tzinfo=UTC)
    assert next(e for e in library.entries if e.title == "Only a Title").authors == ["Ada Lovelace"]
    assert "arxiv:2402.00009" in entries and entries["arxiv:2403.00001"].year == 2024
    assert entries["arxiv:2403.00001"].when == datetime(2024, 3, 1, tzinfo=UTC)  # published, when never added
    assert [f.format for f in library.files] == ["jsonl", "csv", "json", "jsonl"]
    assert [(f, line) for f, line, _ in problems(library)] == [("mine.jsonl", 2), ("titles.csv", 3)]


def test_formats_are_told_apart_by_content(tmp_path: Path) -> None:
    bib = tmp_path / "export.txt"
    bib.write_text((FIXTURES / "zotero.bib").read_text())
    ris = tmp_path / "export"
    ris.write_text((FIXTURES / "zotero.ris").read_text())
    votes = tmp_path / "votes.txt"
    votes.write_text((FIXTURES / "feedback.json").read_text())
    csl = tmp_path / "items.json"
    csl.write_text((FIXTURES / "zotero-csl.json").read_text())
    library = read_library([bib, ris, votes, csl])
    assert [f.format for f in library.files] == ["bibtex", "ris", "feedback", "csl-json"]
    notes = tmp_path / "notes.txt"
    notes.write_text("Some notes about papers I liked.\n")
    with pytest.raises(InputError, match="not a library format"):
        read_library([notes])


def test_files_that_cannot_be_read_are_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read the library file") as caught:
        read_library([tmp_path / "missing.bib"])
    assert caught.value.path.endswith("missing.bib")
    with pytest.raises(InputError, match="is a folder"):
        read_library([tmp_path])
    fifo = tmp_path / "pipe.bib"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="not a regular file"):  # never blocks waiting for a writer
        read_library([fifo])
    latin = tmp_path / "latin.bib"
    latin.write_bytes(b"@article{a,\n  title = {Caf\xe9},\n}\n")
    with pytest.raises(InputError, match="not UTF-8") as caught:
        read_library([latin])
    assert caught.value.line == 2
    big = tmp_path / "big.ris"
    big.write_bytes(b"TY  - JOUR\n" + b"N1  - " + b"x" * 2048 + b"\nER  - \n")
    with pytest.raises(InputError, match="larger than"):
        read_library([big], limits=Limits(max_bytes=1024))
    broken = tmp_path / "broken.json"
    broken.write_text('[{"title": "a"},\n {"title": ')
    with pytest.raises(InputError, match="malformed JSON") as caught:
        read_library([broken])
    assert caught.value.line == 2


def test_the_library_is_bounded(tmp_path: Path) -> None:
    path = tmp_path / "many.jsonl"
    path.write_text("".join(json.dumps({"title": f"Paper number {i}"}) + "\n" for i in range(30)))
    library = read_library([path], limits=Limits(max_entries=10, max_problems=5))
    assert len(library.entries) == 10
    assert "the library is full (10 entries)" in library.problems[-1].reason
    deep = tmp_path / "deep.json"
    nested: object = "x"
    for _ in range(40):
        nested = {"a": nested}
    deep.write_text(json.dumps([{"title": "Deep", "extra": nested}, {"title": "Shallow"}]))
    library = read_library([deep])
    assert [e.title for e in library.entries] == ["Shallow"]
    assert problems(library)[0][:2] == ("deep.json", 1) and "nested deeper" in problems(library)[0][2]
    flood = tmp_path / "flood.bib"
    flood.write_text("@misc{\n" * 50)
    with pytest.raises(InputError, match="50 BibTeX blocks, more than the 10 entries"):
        read_library([flood], limits=Limits(max_entries=10))
    ris = tmp_path / "control.ris"
    ris.write_text("TY  - JOUR\nTI  - Fine\nER  - \n\nTY  - JOUR\nTI  - Odd\nDO  - 10.1/a\x01b\nER  - \n")
    library = read_library([ris])
    assert [e.title for e in library.entries] == ["Fine"]
    assert problems(library) == [("control.ris", 5, "the id holds the control character U+0001")]
    noisy = tmp_path / "noisy.jsonl"
    noisy.write_text("{bad\n" * 50)
    library = read_library([noisy], limits=Limits(max_problems=5))
    assert len(library.problems) == 5 and library.describe()["problems"] == 51  # 50 lines + "no entries found"


def test_interests_from_config_and_flags(tmp_path: Path) -> None:
    from pipeline.errors import ConfigError
    from pipeline.settings import load_settings

    config = tmp_path / "config.toml"
    config.write_text(
        '[summarize]\nmodel = "embedded"\n\n[interests]\nlibrary = ["~/zotero.bib"]\n'
        'keywords = ["nerf", "gaussian  splatting"]\nauthors = ["Ben Mildenhall"]\ntop = 5\n'
    )
    interests = load_settings(config, environ={}).interests
    assert interests.keywords == {"nerf": 1.0, "gaussian splatting": 1.0}
    assert interests.library == [Path.home() / "zotero.bib"] and interests.top == 5
    assert interests.judge_top_k == 50 and interests.threshold is None and interests.rank_model is None
    # A flag sets one key of the section; the file's others stay.
    flagged = load_settings(config, overrides={"interests": {"top": 3, "exclude": ["medical"]}}, environ={}).interests
    assert (flagged.top, flagged.exclude, flagged.authors) == (3, ["medical"], ["Ben Mildenhall"])

    config.write_text('[interests.keywords]\n"nerf" = 2.0\n"slam" = 0.5\n')
    assert load_settings(config, environ={}).interests.keywords == {"nerf": 2.0, "slam": 0.5}
    for bad, message in (
        ('[interests.keywords]\n"nerf" = 50\n', "weight must be a number above 0 and at most 10"),
        ("[interests]\ntop = 0\n", "interests.top"),
        ('[interests]\nkeywordz = ["x"]\n', "interests.keywordz"),
        ("[interests]\njudge_top_k = 100000\n", "interests.judge_top_k"),
    ):
        config.write_text(bad)
        with pytest.raises(ConfigError, match=message):
            load_settings(config, environ={})


class _Store(dict):
    def set(self, key: str, value: dict) -> None:
        self[key] = value


def test_resolve_fills_entries_known_by_their_title_from_arxiv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from fake_scholar import Scholar

    from pipeline.settings import Settings
    from pipeline.sources.enrich import Enricher
    from pipeline.sources.http import http_for
    from pipeline.sources.library.resolve import resolve_library

    nerf_title = "Nerf: Representing scenes as neural radiance fields for view synthesis"
    papers = {"2003.08934": nerf_title, "2305.16213": "ProlificDreamer: high-fidelity text-to-3D generation"}
    with Scholar(
        papers, decoys={"Mip-nerf 360: Unbounded anti-aliased neural radiance fields": ["Mip-NeRF"]}
    ) as server:
        monkeypatch.setenv("HF_ENDPOINT", server.url)
        monkeypatch.setenv("SUMMARIZE_ARXIV_API", server.url + "/api/query")
        store = _Store()
        library = read_one("scholar.bib")  # no abstracts: one arXiv id, two titles
        assert len(library.lacking_abstract()) == 3

        def resolve() -> object:
            http = http_for(Settings())
            return resolve_library(library, Enricher(store, hub=http, arxiv=http))

        report = resolve()
        entries = by_id(library)
        # The Scholar title is arXiv's NeRF exactly: it takes the arXiv id and arXiv's abstract.
        assert entries["arxiv:2003.08934"].abstract == "We study it." and entries["arxiv:2003.08934"].year == 2021
        assert entries["arxiv:2305.16213"].abstract == "We study it."  # looked up by the id it had
        mip = next(e for e in library.entries if e.title.startswith("Mip-nerf"))
        assert mip.id.startswith("title:") and mip.abstract == ""  # only a near match: left as it was
        assert (report.wanting, report.filled, report.resolved) == (3, 2, 1)
        before = len(server.log)
        report = resolve()  # every lookup is cached: nothing is sent again
        assert len(server.log) == before and (report.wanting, report.filled) == (1, 0)


def test_votes_find_their_papers_text_in_the_corpus() -> None:
    from pipeline.schema import Paper

    library = read_one("feedback.json")
    day = [
        Paper(id="arxiv:2401.00001", title="Phone-Video Gaussian Splatting", abstract="We splat.", source="x"),
        Paper(id="title:0", title="Casual multi-view reconstruction!", abstract="We reconstruct.", source="x"),
        Paper(id="arxiv:2409.99999", title="Unrelated", abstract="Other.", source="x"),
    ]
    day.insert(0, Paper(id="arxiv:2401.00001", title="Phone-Video Gaussian Splatting", abstract="", source="x"))
    assert library.fill_from(day) == 2
    assert [e.abstract for e in library.entries] == ["We splat.", "", "We reconstruct."]
    assert [e.id for e in library.lacking_abstract()] == ["arxiv:2401.00002"]
    record = {"id": "arxiv:2401.00002", "title": "Segmenting Tumours", "abstract": "We segment.", "authors": ["A B"]}
    assert library.fill_from([record]) == 1  # corpus records as dicts too
    assert library.entries[1].abstract == "We segment." and library.entries[1].authors == ["A B"]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (r"{NeRF}: {Representing} {Scenes}", "NeRF: Representing Scenes"),
        (r"M{\"u}ller and Leimk\"{u}hler, caf\'e", "Müller and Leimkühler, café"),
        (
            r"We present \textbf{EulerESG}, 50\% better~results --- on $\alpha$-nets",
            "We present EulerESG, 50% better results — on α-nets",
        ),
        (r"Smith \& Jones, \emph{unbalanced", "Smith & Jones, unbalanced"),
        (r"see \href{https://example.org}", "see https://example.org"),  # pylatexenc raises on this one: kept as text
        (r"GS\^{}2 and \textbackslash{}ell\textasciitilde{}4 \{x\}", "GS^2 and \\ell~4 {x}"),  # Zotero's escapes
    ],
)
def test_latex_in_bibtex_values_is_read_as_text(value: str, text: str) -> None:
    from pipeline.sources.library.latex import latex_text

    assert latex_text(value) == text


def test_an_entry_whose_latex_pylatexenc_cannot_read_is_still_read(tmp_path: Path) -> None:
    path = tmp_path / "odd.bib"
    path.write_text("@misc{a,\n  title = {Links \\href{https://example.org}},\n  abstract = {Code at \\href{x}.},\n}\n")
    library = read_library([path])
    assert [(e.title, e.abstract) for e in library.entries] == [("Links https://example.org", "Code at x.")]
    assert library.problems == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-01-15 10:00:00 +0000", datetime(2024, 1, 15, 10, tzinfo=UTC)),  # BibDesk
        ("2024/01/15/10:31:02", datetime(2024, 1, 15, 10, 31, 2, tzinfo=UTC)),  # RIS Y2
        ("2024/01/15/", datetime(2024, 1, 15, tzinfo=UTC)),  # RIS DA
        ("2026-03-13T08:00:00+01:00", datetime(2026, 3, 13, 7, tzinfo=UTC)),  # the feedback export
        ({"date-parts": [["2024", "2"]]}, datetime(2024, 2, 1, tzinfo=UTC)),  # CSL, digits as text
        ("2024-02-30", None),
        ("9999-01-01", None),
        ("yesterday", None),
    ],
)
def test_dates_exports_write(value: object, expected: datetime | None) -> None:
    from pipeline.sources.library.model import moment

    assert moment(value) == expected


def _zotero_escaped(text: str) -> str:
    """Text as Zotero's BibTeX export escapes it (its special-character table)."""
    table = {"\\": "\\textbackslash{}", "{": "\\{", "}": "\\}", "%": "\\%", "&": "\\&", "$": "\\$", "#": "\\#"}
    table |= {"_": "\\_", "~": "\\textasciitilde{}", "^": "\\^{}"}
    return "".join(table.get(c, c) for c in text)


def test_a_bibtex_library_reads_the_same_papers_as_jsonl(tmp_path: Path) -> None:
    papers = [
        ("2604.00001", "PAR$^2$-RAG: Planned Retrieval", "Error below 1.0% on 50_000 cases & more; cost ~3x."),
        ("2604.00002", "GS^2: Compact {3D} Gaussians", r"We bound $\ell^4$-norms of $f^{-1}(\sigma)$ in #steps."),
        ("2604.00003", "Café: Müller's Œuvre", "Naïve façade — unicode stays unicode."),
    ]
    jsonl = tmp_path / "library.jsonl"
    jsonl.write_text("".join(json.dumps({"id": i, "title": t, "abstract": a}) + "\n" for i, t, a in papers))
    bib = tmp_path / "library.bib"
    bib.write_text(
        "".join(
            f"@misc{{k{n},\n\ttitle = {{{_zotero_escaped(t)}}},\n\tabstract = {{{_zotero_escaped(a)}}},\n"
            f"\turl = {{http://arxiv.org/abs/{i}}},\n}}\n\n"
            for n, (i, t, a) in enumerate(papers)
        )
    )
    from_jsonl, from_bib = read_library([jsonl]), read_library([bib])
    assert from_bib.problems == [] and len(from_bib.entries) == 3
    assert [(e.id, e.title, e.abstract) for e in from_bib.entries] == [
        (e.id, e.title, e.abstract) for e in from_jsonl.entries
    ]


def test_latex_decoding_is_bounded_and_still_reads_the_text() -> None:
    from pipeline.sources.library.latex import Latex

    latex = Latex(budget=2)
    assert latex.text(r"\textbf{one} \textit{two} \emph{three} \textbf{one}") == "one two three one"
    assert latex.budget == 0  # two commands went to pylatexenc; the third kept its text; the repeat was known
    assert Latex().text("\\textbf{" + "x" * 5000 + "}") == "x" * 5000  # too long for pylatexenc: its text kept
    assert Latex().text("A" * 50 + r"\'e", limit=10) == "A" * 10  # a value is read up to its limit


def test_the_page_export_as_the_browser_writes_it(tmp_path: Path) -> None:
    """page.js writes JSON.stringify(export, null, 1): one key a line."""
    items = [
        {"id": "arxiv:2604.00010", "title": "Liked", "vote": "more", "at": "2026-04-01T10:00:00.000Z"},
        {"id": "arxiv:2604.00011", "title": "", "vote": "less", "at": "2026-04-01T10:01:00.000Z"},
    ]
    path = tmp_path / "summarize-feedback.json"
    path.write_text(json.dumps({"format": "summarize-feedback", "version": 1, "items": items}, indent=1) + "\n")
    library = read_library([path])
    assert [(e.id, e.vote, e.line) for e in library.entries] == [("arxiv:2604.00010", "more", 5)]
    assert problems(library) == [("summarize-feedback.json", 11, "missing title")]
    empty = tmp_path / "nothing-yet.json"
    empty.write_text(json.dumps({"format": "summarize-feedback", "version": 1, "items": []}, indent=1))
    assert read_library([empty]).problems == []  # no votes yet is not a problem


def test_zotero_csv_export() -> None:
    library = read_one("zotero.csv")
    entries = by_id(library)
    assert list(entries) == ["arxiv:2003.08934", "doi:10.1145/3592433"]
    assert_zotero_nerf(library, datetime(2024, 1, 15, 10, 31, 2, tzinfo=UTC))  # Date Added
    nerf = entries["arxiv:2003.08934"]
    assert nerf.keywords == ["nerf", "view synthesis", "Computer Science - Graphics"]
    assert nerf.abstract.endswith("novel views of complex scenes.") and nerf.line == 2
    gaussian = entries["doi:10.1145/3592433"]
    assert gaussian.abstract == "" and gaussian.authors == ["Bernhard Kerbl", "Thomas Leimkühler"]
    assert gaussian.line == 5  # after a row whose abstract spans two lines
    assert problems(library) == [("zotero.csv", 4, "missing title")]


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("arXiv:2003.08934 [cs]", "2003.08934"),  # Zotero's note
        ("arXiv: 2003.08934", "2003.08934"),  # Zotero's Extra
        ("arXiv preprint arXiv:2305.16213", "2305.16213"),  # Google Scholar's journal
        ("http://arxiv.org/abs/2003.08934v2", "2003.08934"),
        ("10.48550/arXiv.2003.08934", "2003.08934"),  # arXiv's DOI
        ("2003.08934", "2003.08934"),  # a field holding only the id
        ("Proc. 2021, pp. 2003.08934 and more", None),  # a number in prose is no id
        ("https://doi.org/10.1145/3592433", None),
    ],
)
def test_arxiv_ids_in_free_text(text: str, found: str | None) -> None:
    from pipeline.sources.library.model import find_arxiv

    assert find_arxiv(text) == found


def test_one_json_array_reader_gives_inputs_and_libraries_the_line(tmp_path: Path) -> None:
    from pipeline.sources.files import read_inputs

    path = tmp_path / "papers.json"
    items = [{"title": "Good", "abstract": "We study it."}, {"title": "", "abstract": "No title."}, "text"]
    path.write_text(json.dumps(items, indent=2))
    found = list(read_inputs([str(path)]))
    assert [p.title for p in found if not isinstance(p, InputError)] == ["Good"]
    assert [(e.line, e.reason) for e in found if isinstance(e, InputError)] == [
        (6, "missing title"),
        (10, "expected a JSON object"),
    ]
    assert problems(read_library([path])) == [
        ("papers.json", 6, "missing title"),
        ("papers.json", 10, "expected a JSON object"),
    ]
