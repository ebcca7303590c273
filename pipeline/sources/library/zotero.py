"""The reader's Zotero library itself, through the Zotero Web API v3: ``--library zotero:USER_ID`` or
``zotero:group:GROUP_ID``, the key from ``ZOTERO_API_KEY`` (the environment only, never a file or a flag).

Items are paged to the end (``Link: rel="next"``, only to the same host; else ``start`` up to
``Total-Results``); notes, attachments and annotations are skipped; ``dateAdded`` is the date added; Extra's
"arXiv: …" (and a preprint's Archive ID) gives the arXiv id, Extra's "DOI: …" the DOI; tags and collection names
become keywords. ``zotero_collections`` / ``zotero_ignore`` keep or leave out items by collection (a name, a path
such as "Thesis/Chapter 2", or a glob; a collection's sub-collections go with it).

The library is cached (``<cache_dir>/zotero/``) with its ``Last-Modified-Version``; the next run asks with
``If-Modified-Since-Version`` and a 304 answer means one request and the cached items. A 403 is Zotero's answer
to a wrong or missing key: the error names ZOTERO_API_KEY. 429 and 5xx are retried by the shared client,
honouring ``Retry-After``; a ``Backoff`` header delays the next request as Zotero asks.

httpx (the shared bounded client) rather than pyzotero: pyzotero brings feedparser, bibtexparser and its own
unbounded requests, hides the version headers the cache depends on behind its own retry logic, and reads the
key from its constructor, where ours must come only from the environment.
"""

from __future__ import annotations

import fnmatch
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson

from pipeline.errors import FetchError, InputError
from pipeline.files import read_regular, write_text_atomic
from pipeline.sources.http import Http
from pipeline.sources.library.model import (
    LibraryEntry,
    build_entry,
    find_arxiv,
    find_doi,
    moment,
    split_keywords,
    year_of,
)

ZOTERO_API_DEFAULT = "https://api.zotero.org"
KEY_VARIABLE = "ZOTERO_API_KEY"
SKIPPED = frozenset({"note", "attachment", "annotation"})
PAGE = 100  # the API's largest page
MAX_PAGES = 1_000  # 100,000 items
MAX_CACHE_BYTES = 256 * 2**20
_SPEC = re.compile(r"^zotero:(?:(?P<kind>user|group):)?(?P<id>\d{1,20})$", re.IGNORECASE)
_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')
_KEPT = ("key", "itemType", "title", "creators", "abstractNote", "date", "DOI", "url", "extra", "archiveID")
_KEPT += ("tags", "collections", "dateAdded", "volume")

Found = LibraryEntry | InputError


def is_zotero(name: str | Path) -> bool:
    """Whether a library name is a Zotero library (``zotero:…``) rather than a file."""
    return str(name).lower().startswith("zotero:")


@dataclass(frozen=True)
class Spec:
    """A Zotero library: ``users/<id>`` or ``groups/<id>``."""

    kind: str
    id: str
    text: str

    @property
    def prefix(self) -> str:
        return f"{self.kind}/{self.id}"


def parse_spec(text: str) -> Spec:
    """``zotero:123`` (a user), ``zotero:user:123`` or ``zotero:group:456``; InputError for anything else."""
    found = _SPEC.match(text.strip())
    if not found:
        raise InputError(
            "a Zotero library is zotero:USER_ID or zotero:group:GROUP_ID (the numbers zotero.org/settings/keys shows)",
            path=text,
        )
    kind = "groups" if (found.group("kind") or "").lower() == "group" else "users"
    return Spec(kind, found.group("id"), text.strip())


@dataclass
class Zotero:
    """Reads Zotero libraries through one bounded client, each cached by its version."""

    http: Http
    base: str = ZOTERO_API_DEFAULT
    cache_dir: Path | None = None
    include: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    max_pages: int = MAX_PAGES
    requests: int = 0  # of the last read
    _resume: float = 0.0  # no request before this (monotonic time): Zotero's Backoff header

    def _headers(self, version: int | None = None) -> dict[str, str]:
        headers = {"Zotero-API-Version": "3"}
        key = os.environ.get(KEY_VARIABLE, "").strip()
        if key:  # Authorization is dropped by httpx on a redirect to another host; a custom header would not be
            headers["Authorization"] = f"Bearer {key}"
        if version is not None:
            headers["If-Modified-Since-Version"] = str(version)
        return headers

    def _get(self, spec: Spec, url: str, params: dict[str, Any] | None, version: int | None) -> Any:
        wait = self._resume - time.monotonic()
        if wait > 0:  # the server asked for a pause (Backoff) before the next request
            time.sleep(wait)
        try:
            answer = self.http.get(url, params, headers=self._headers(version))
        except FetchError as exc:
            raise _explained(exc, spec) from exc
        backoff = _number(answer.headers.get("backoff"))
        if backoff:
            self._resume = time.monotonic() + min(backoff, 120)
        return answer

    def _listing(self, spec: Spec, path: str, version: int | None) -> tuple[list[Any] | None, int | None]:
        """Every object of ``path`` (None when unchanged since ``version``) and the library's version."""
        url = f"{self.base.rstrip('/')}/{spec.prefix}/{path}"
        host = urlsplit(url).netloc
        params: dict[str, Any] | None = {"format": "json", "limit": PAGE, "start": 0}
        found: list[Any] = []
        latest: int | None = None
        for _page in range(self.max_pages):
            answer = self._get(spec, url, params, version)
            if answer.status_code == 304:
                return None, version
            latest = _number(answer.headers.get("last-modified-version")) or latest
            page = answer.json()
            if not isinstance(page, list):
                raise FetchError(f"{answer.url}: expected a JSON list of objects", url=answer.url)
            found.extend(page)
            total = _number(answer.headers.get("total-results"))
            following = _NEXT.search(answer.headers.get("link", ""))
            version = None  # the following pages are asked for whole
            if following and urlsplit(following.group(1)).netloc == host:
                url, params = following.group(1), None
            elif page and total is not None and len(found) < total and params is not None:
                params = {**params, "start": len(found)}
            else:
                return found, latest
        raise FetchError(f"{url}: more than {self.max_pages} pages of {PAGE}; refused", url=url)

    def _cached(self, spec: Spec) -> dict[str, Any] | None:
        path = self._cache_path(spec)
        if path is None or not path.is_file():
            return None
        try:
            value = orjson.loads(read_regular(path, limit=MAX_CACHE_BYTES, follow=False))
        except (OSError, orjson.JSONDecodeError):
            return None
        return value if isinstance(value, dict) and isinstance(value.get("items"), list) else None

    def _cache_path(self, spec: Spec) -> Path | None:
        return self.cache_dir / "zotero" / f"{spec.kind}-{spec.id}.json" if self.cache_dir else None

    def fetch(self, spec: Spec) -> tuple[list[dict[str, Any]], dict[str, str], int]:
        """The library's items, its collections' paths by key (when a collection filter needs them), and the
        requests it took: one when nothing changed (two with a collection filter: items and collections)."""
        before = self.http.requests
        cached = self._cached(spec) or {}
        found, version = self._listing(spec, "items", _number(cached.get("version")) if cached else None)
        items = (
            cached["items"] if found is None else [_kept(item) if isinstance(item, dict) else None for item in found]
        )
        names = cached.get("collections") if isinstance(cached.get("collections"), dict) else None
        names_version = _number(cached.get("collections_version")) if names is not None else None
        if self.include or self.ignore:
            listed, names_version = self._listing(spec, "collections", names_version)
            names = names if listed is None else _collection_paths(listed)
        if found is not None or names != cached.get("collections"):
            self._store(
                spec, {"version": version, "items": items, "collections": names, "collections_version": names_version}
            )
        return items, names or {}, self.http.requests - before

    def _store(self, spec: Spec, value: dict[str, Any]) -> None:
        path = self._cache_path(spec)
        if path is None or value.get("version") is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        write_text_atomic(path, orjson.dumps(value).decode())

    def read(self, name: str) -> tuple[str, Iterator[Found]]:
        """``("zotero", entries)`` of the library ``name`` names; the fetch happens here, the entries come lazily."""
        spec = parse_spec(name)
        warning = None
        try:
            items, collections, self.requests = self.fetch(spec)
        except FetchError as exc:
            cached = self._cached(spec)
            if exc.status in (403, 404) or cached is None:
                raise
            items, collections = cached["items"], cached.get("collections") or {}
            warning = InputError(f"the Zotero API could not be read ({exc}); the cached copy is used", path=spec.text)
        return "zotero", self._entries(spec, items, collections, warning)

    def _entries(
        self, spec: Spec, items: list[Any], collections: dict[str, str], warning: InputError | None = None
    ) -> Iterator[Found]:
        if warning is not None:
            yield warning
        for line, item in enumerate(items, start=1):
            data = item.get("data", item) if isinstance(item, dict) else None
            if not isinstance(data, dict):
                yield InputError("not a Zotero item", path=spec.text, line=line)
                continue
            if data.get("itemType") in SKIPPED:
                continue
            paths = [collections[k] for k in data.get("collections") or [] if isinstance(k, str) and k in collections]
            if not self._wanted(paths):
                continue
            yield entry_of(data, spec.text, line, paths)

    def _wanted(self, paths: list[str]) -> bool:
        if self.ignore and any(_matches(p, self.ignore) for p in paths):
            return False
        return not self.include or any(_matches(p, self.include) for p in paths)


def _kept(item: dict[str, Any]) -> dict[str, Any]:
    """The fields of an item's ``data`` that make its entry (what the cache keeps)."""
    data = item.get("data") if isinstance(item.get("data"), dict) else item
    return {"data": {k: data[k] for k in _KEPT if k in data}}


def _collection_paths(listed: list[Any]) -> dict[str, str]:
    """Each collection's path ('Parent/Child') by its key, from the API's collection objects."""
    parents: dict[str, tuple[str, str | None]] = {}
    for item in listed:
        data = item.get("data") if isinstance(item, dict) else None
        if isinstance(data, dict) and isinstance(data.get("key"), str) and isinstance(data.get("name"), str):
            parent = data.get("parentCollection")
            parents[data["key"]] = (data["name"], parent if isinstance(parent, str) else None)
    return {key: _path(key, parents) for key in parents}


def _path(key: str, parents: dict[str, tuple[str, str | None]]) -> str:
    """'Parent/Child' of a collection (a cycle or a missing parent stops the climb)."""
    names, seen = [], set()
    while key in parents and key not in seen:
        seen.add(key)
        name, parent = parents[key]
        names.append(name)
        key = parent or ""
    return "/".join(reversed(names))


def _matches(path: str, patterns: tuple[str, ...]) -> bool:
    """A collection path matches a pattern by its own name, its path or an ancestor's (case aside)."""
    parts = path.split("/")
    candidates = {parts[-1].lower()} | {"/".join(parts[: i + 1]).lower() for i in range(len(parts))}
    candidates |= {p.lower() for p in parts}
    return any(fnmatch.fnmatchcase(c, p.lower()) for c in candidates for p in patterns)


def _number(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _explained(exc: FetchError, spec: Spec) -> FetchError:
    """A refused request as what to do about it (the key itself is never in it)."""
    has_key = bool(os.environ.get(KEY_VARIABLE, "").strip())
    if exc.status == 403:
        what = "refused the key in" if has_key else "needs a key for this library: set"
        return FetchError(
            f"{spec.text}: the Zotero API {what} {KEY_VARIABLE} (HTTP 403); create a key with read access to this "
            "library at https://www.zotero.org/settings/keys and put it in the environment variable "
            f"{KEY_VARIABLE}",
            url=exc.url,
            status=403,
        )
    if exc.status == 404:
        return FetchError(
            f"{spec.text}: no such Zotero library (HTTP 404); the user ID is the number on "
            "https://www.zotero.org/settings/keys, a group's is in its URL",
            url=exc.url,
            status=404,
        )
    return exc


def _creators(value: Any) -> list[str]:
    people = [c for c in value if isinstance(c, dict)] if isinstance(value, list) else []
    authors = [c for c in people if c.get("creatorType", "author") == "author"] or people
    names = []
    for person in authors:
        if isinstance(person.get("name"), str):
            names.append(person["name"])
        else:
            parts = [person.get("firstName"), person.get("lastName")]
            names.append(" ".join(p for p in parts if isinstance(p, str) and p.strip()))
    return names


def entry_of(data: dict[str, Any], path: str, line: int, collections: list[str]) -> Found:
    """One Zotero item's ``data`` as a library entry."""
    extra = data.get("extra") if isinstance(data.get("extra"), str) else ""
    doi = data.get("DOI") if isinstance(data.get("DOI"), str) and data["DOI"].strip() else None
    doi = doi or find_doi(extra)
    tags = [t.get("tag") for t in data.get("tags") or [] if isinstance(t, dict) and isinstance(t.get("tag"), str)]
    url = data.get("url") if isinstance(data.get("url"), str) else None
    date = data.get("date") if isinstance(data.get("date"), str) else None
    return build_entry(
        title=data.get("title"),
        path=path,
        line=line,
        fmt="zotero",
        abstract=data.get("abstractNote") if isinstance(data.get("abstractNote"), str) else "",
        authors=_creators(data.get("creators")),
        arxiv=find_arxiv(extra, data.get("archiveID"), url, doi),
        doi=doi,
        url=url,
        given_id=None,
        year=year_of(date),
        published=moment(date) if date and len(date) >= 10 else None,
        added=moment(data.get("dateAdded")),
        keywords=split_keywords(tags, [c.rsplit("/", 1)[-1] for c in collections]),
        kind=data.get("itemType"),
        volume=data.get("volume"),
        item_key=data.get("key"),
    )
