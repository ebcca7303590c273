"""The Zotero library through a local stand-in of the Web API v3: pages to the end (Link rel=next, else
Total-Results), notes and attachments skipped, Extra's arXiv id, collections kept or ignored, one request when
nothing changed (If-Modified-Since-Version → 304), 403 naming ZOTERO_API_KEY, 429, and `summarize rank --library
zotero:ID` end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import invoke
from fake_apis import fixture, zotero_item
from fake_sources import FakeSources

from pipeline.errors import FetchError, InputError
from pipeline.rank import load_library
from pipeline.settings import load_settings

KEY = "zk-test-0123456789abcdef"
COLLECTIONS = fixture("zotero-collections.json")  # Thesis (ABCD2345) and Thesis/Chapter 2 (BCDE2345)


class Library:
    """A Zotero library served page by page, versioned, behind a key."""

    def __init__(self, items: list[dict], *, prefix: str = "/users/475425", version: int = 1412) -> None:
        self.items, self.prefix, self.version = items, prefix, version
        self.link_next = True  # a Link header (else only Total-Results tells the size)
        self.link_host = ""  # another host for the Link header's URLs
        self.broken: dict[tuple[str, int], tuple[int, dict, str]] = {}
        self.server = FakeSources(self.handle)

    def handle(self, path: str, query: dict, n: int):
        headers = self.server.headers[-1]
        if (path, n) in self.broken:
            return (*self.broken[(path, n)], 0.0)
        if headers.get("authorization") != f"Bearer {KEY}":
            return 403, {}, "Forbidden", 0.0
        if headers.get("zotero-api-version") != "3":
            return 400, {}, "API version", 0.0
        listing = {f"{self.prefix}/items": self.items, f"{self.prefix}/collections": COLLECTIONS}.get(path)
        if listing is None:
            return 404, {}, "Not found", 0.0
        if headers.get("if-modified-since-version") == str(self.version):
            return 304, {"last-modified-version": str(self.version)}, "", 0.0
        start, limit = int(query.get("start", ["0"])[0]), int(query.get("limit", ["25"])[0])
        out = {"total-results": str(len(listing)), "last-modified-version": str(self.version)}
        if self.link_next and start + limit < len(listing):
            host = self.link_host or self.server.url
            base = f"{host}{path}?format=json&limit={limit}"
            out["link"] = f'<{base}&start={start + limit}>; rel="next", <{base}&start={len(listing) - 1}>; rel="last"'
        return 200, {"content-type": "application/json", **out}, json.dumps(listing[start : start + limit]), 0.0

    def __enter__(self) -> Library:
        self.server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.__exit__(*exc)


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZOTERO_API_KEY", KEY)


@pytest.fixture(autouse=True)
def _cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUMMARIZE_CACHE_DIR", str(tmp_path / "cache"))


def _read(library: Library, name: str = "zotero:475425", **env: str):
    """The library as `rank` reads it, from the stand-in."""
    import os

    settings = load_settings(environ={**os.environ, "SUMMARIZE_ZOTERO_API": library.server.url, **env})
    return load_library(settings.interests.model_copy(update={"library": [Path(name)]}), (), settings)


def test_items_are_paged_to_the_end_by_link_rel_next_and_notes_are_skipped() -> None:
    items = [zotero_item(i) for i in range(230)] + [
        zotero_item(999, item_type="note"),
        zotero_item(998, item_type="attachment"),
    ]
    with Library(items) as library:
        found = _read(library)
    starts = [q.get("start") for p, q, _ in library.server.log]
    assert starts == [["0"], ["100"], ["200"]] and len(found.entries) == 230
    assert found.files[0].format == "zotero" and found.files[0].entries == 230


def test_without_a_link_header_total_results_pages_to_the_end() -> None:
    with Library([zotero_item(i) for i in range(150)]) as library:
        library.link_next = False
        found = _read(library)
    assert len(found.entries) == 150 and len(library.server.log) == 2


def test_a_next_link_to_another_host_is_not_followed() -> None:
    with Library([zotero_item(i) for i in range(150)]) as library:
        library.link_host = "http://elsewhere.invalid:9"
        found = _read(library)
    assert len(found.entries) == 150 and [q.get("start") for _, q, _ in library.server.log] == [["0"], ["100"]]


def test_an_item_maps_date_added_extra_arxiv_id_doi_and_tags() -> None:
    nerf = fixture("zotero-items.json")  # a preprint (arXiv: in Extra and Archive ID) and its child note
    extra_doi = zotero_item(5, extra="Publisher: X\nDOI: 10.4337/9781800880085.00012")
    with Library([*nerf, extra_doi]) as library:
        found = _read(library)
    first, second = found.entries
    assert first.id == "arxiv:2003.08934" and first.authors == ["Ben Mildenhall", "Pratul P. Srinivasan"]
    assert first.added.isoformat() == "2024-01-15T10:00:00+00:00" and "nerf" in first.keywords
    assert second.id == "doi:10.4337/9781800880085.00012"


def test_a_second_run_with_nothing_changed_costs_one_request() -> None:
    with Library([zotero_item(i) for i in range(120)]) as library:
        first = _read(library)
        before = len(library.server.log)
        again = _read(library)
        assert len(library.server.log) == before + 1
        assert library.server.headers[-1]["if-modified-since-version"] == "1412"
        library.version, library.items = 1413, library.items + [zotero_item(500)]  # an item added
        changed = _read(library)
    assert len(first.entries) == len(again.entries) == 120 and len(changed.entries) == 121


def test_collections_are_kept_or_ignored_by_name_path_or_glob() -> None:
    items = [zotero_item(1, collections=("BCDE2345",)), zotero_item(2, collections=("ABCD2345",)), zotero_item(3)]
    with Library(items) as library:
        kept = _read(library, SUMMARIZE_ZOTERO_COLLECTIONS="Thesis")  # and its sub-collection
        chapter = _read(library, SUMMARIZE_ZOTERO_COLLECTIONS="thesis/chap*")
        ignored = _read(library, SUMMARIZE_ZOTERO_IGNORE="Chapter 2")
    title = "Library paper {} on cortical development".format
    assert [e.title for e in kept.entries] == [title(1), title(2)]
    assert [e.title for e in chapter.entries] == [title(1)]
    assert [e.title for e in ignored.entries] == [title(2), title(3)]


def test_a_group_library_is_read_from_groups() -> None:
    with Library([zotero_item(1)], prefix="/groups/4711") as library:
        found = _read(library, "zotero:group:4711")
    assert library.server.log[0][0] == "/groups/4711/items" and len(found.entries) == 1


def test_403_is_a_clear_error_naming_the_setting_and_never_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZOTERO_API_KEY", "zk-wrong-key-000000")
    with Library([zotero_item(1)]) as library, pytest.raises(FetchError) as caught:
        _read(library)
    assert "ZOTERO_API_KEY" in str(caught.value) and "403" in str(caught.value)
    assert "zk-wrong" not in str(caught.value)


def test_429_with_retry_after_is_retried() -> None:
    with Library([zotero_item(1)]) as library:
        library.broken[("/users/475425/items", 1)] = (429, {"retry-after": "1"}, "Too many requests")
        found = _read(library)
    assert len(found.entries) == 1 and library.server.counts["/users/475425/items"] == 2


def test_a_truncated_page_fails_and_a_cached_copy_is_used_when_there_is_one() -> None:
    items = [zotero_item(i) for i in range(3)]
    with Library(items) as library:
        body = json.dumps([zotero_item(9)])
        cut = (200, {"content-length": str(len(body) + 100), "last-modified-version": "1"}, body)
        library.broken = {("/users/475425/items", n): cut for n in range(1, 6)}
        with pytest.raises(FetchError):
            _read(library)
        library.broken = {}
        _read(library)  # now cached
        library.version = 1500
        done = library.server.counts["/users/475425/items"]
        library.broken = {("/users/475425/items", done + n): cut for n in range(1, 6)}
        found = _read(library)
    assert len(found.entries) == 3 and "cached copy" in str(found.problems[0])


def test_a_bad_item_costs_only_itself() -> None:
    with Library([zotero_item(1), zotero_item(2, title=""), "junk", zotero_item(3)]) as library:
        found = _read(library)
    assert len(found.entries) == 2 and [p.line for p in found.problems] == [2, 3]


def test_a_malformed_name_is_refused() -> None:
    with Library([]) as library, pytest.raises(InputError, match="zotero:USER_ID"):
        _read(library, "zotero:me")


def test_rank_day_by_a_zotero_library_end_to_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    day = tmp_path / "day.jsonl"
    papers = [
        {"title": "Timing of cortical layer formation", "abstract": "Signal 7 sets the timing of cortical layers."},
        {"title": "Faster sorting networks", "abstract": "We sort 16 keys with 60 comparators."},
    ]
    day.write_text("".join(json.dumps(p) + "\n" for p in papers))
    with Library([zotero_item(i) for i in range(20)]) as library:
        monkeypatch.setenv("SUMMARIZE_ZOTERO_API", library.server.url)
        result = invoke("rank", str(day), "--library", "zotero:475425", "--json")
    ranked = [json.loads(line) for line in result.stdout.splitlines()]
    assert ranked[0]["title"] == "Timing of cortical layer formation" and ranked[0]["score"] > ranked[1]["score"]
    assert KEY not in result.output
