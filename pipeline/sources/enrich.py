"""Who a paper is and where its code lives: ``--resolve`` and ``--full-text``.

``--resolve``: a paper without an arXiv id is looked up by title, first in the Hub's paper search
(``GET {HF_ENDPOINT}/api/papers/search?q=``), then in the arXiv API with several titles per request
(``ti:"…" OR ti:"…"``: arXiv asks for one request every 3 s). Only a match of the *normalised* title is accepted;
anything less stays unresolved and is counted, never guessed. Every arXiv paper then gets arXiv's metadata
(authors, dates, version, categories; 50 ids a request) and the Hub's (``GET /api/papers/<id>``: code and project
links, upvotes, stars, keywords; a 404 means "not on the Hub" and is remembered).

``--full-text``: the links a paper itself gives for its code, data, project page, demo or video, from its arXiv
HTML (``/html/<id>v<n>``) or, when there is none, its PDF (``/pdf/<id>v<n>``, read with pypdf), each kind decided
from the URL and the sentence around it. References and organisations' homepages stay out.

Every lookup is cached by its key (title → id, id → arXiv record, id → Hub record, id+version → links), misses
included, so a rerun sends nothing; a lookup that fails leaves the paper as it was and is counted, never fatal.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol
from urllib.parse import quote

from pipeline.errors import FetchError
from pipeline.links import merge as merge_links
from pipeline.schema import Paper, SourcedLink
from pipeline.sources.fulltext import MAX_HTML_CHARS, links_from_html, links_from_jats, links_from_pdf
from pipeline.sources.http import Http, metadata_value
from pipeline.sources.identity import arxiv_id, title_key
from pipeline.sources.remote import ARXIV_API_DEFAULT, HF_DEFAULT, arxiv_entry, parse_xml

ARXIV_HTML_DEFAULT = "https://arxiv.org/html"
ARXIV_PDF_DEFAULT = "https://arxiv.org/pdf"
TITLES_PER_REQUEST = 10
IDS_PER_REQUEST = 50


class Store(Protocol):
    """Where lookups are remembered (a JSON-only cache): ``get`` returns None for a miss."""

    def get(self, key: str) -> dict[str, Any] | None: ...

    def set(self, key: str, value: dict[str, Any]) -> None: ...


@dataclass
class EnrichReport:
    """What enrichment did, for run.json and the report."""

    resolved: int = 0
    unresolved: int = 0
    unresolved_titles: list[str] = field(default_factory=list)
    on_hub: int = 0
    not_on_hub: int = 0
    full_text_papers: int = 0
    full_text_links: int = 0
    lookups_cached: int = 0
    requests: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["unresolved_titles"] = self.unresolved_titles[:50]
        data["errors"] = self.errors[:20]
        return data


class Enricher:
    def __init__(self, store: Store, hub: Http, arxiv: Http) -> None:
        self.store = store
        self.hub = hub
        self.arxiv = arxiv
        self.report = EnrichReport()
        self.hub_base = os.environ.get("HF_ENDPOINT", HF_DEFAULT).rstrip("/")
        self.api = os.environ.get("SUMMARIZE_ARXIV_API", ARXIV_API_DEFAULT)
        self.html_base = os.environ.get("SUMMARIZE_ARXIV_HTML", ARXIV_HTML_DEFAULT).rstrip("/")
        self.pdf_base = os.environ.get("SUMMARIZE_ARXIV_PDF", ARXIV_PDF_DEFAULT).rstrip("/")

    # --- bookkeeping -------------------------------------------------------------------------------------------

    def _cached(self, key: str) -> dict[str, Any] | None:
        value = self.store.get(key)
        if value is not None:
            self.report.lookups_cached += 1
        return value

    def _failed(self, what: str, exc: Exception) -> None:
        self.report.failed += 1
        self.report.errors.append(f"{what}: {exc}")

    def _get(self, http: Http, url: str, params: dict[str, Any] | None = None) -> Any:
        self.report.requests += 1
        return http.get(url, params)

    # --- titles → arXiv ids ------------------------------------------------------------------------------------

    def resolve_titles(self, papers: list[Paper]) -> dict[str, str | None]:
        """``{title_key: arxiv id or None}`` for every paper without an arXiv id (None: no exact match)."""
        wanted = {title_key(p.title): p.title for p in papers if not p.id.startswith("arxiv:") and title_key(p.title)}
        found: dict[str, str | None] = {}
        for key in list(wanted):
            cached = self._cached("title:" + key)
            if cached is not None:
                found[key] = cached.get("arxiv")
        hub_misses = [key for key in wanted if key not in found]
        for key in hub_misses:
            try:
                items = self._get(self.hub, f"{self.hub_base}/api/papers/search", {"q": wanted[key]}).json()
            except FetchError as exc:
                self._failed(f"Hub search for {wanted[key][:80]!r}", exc)
                continue
            ids = {
                pid for pid, title in _hub_candidates(items) if title_key(title) == key and arxiv_id(pid) is not None
            }
            if len(ids) == 1:  # two different papers with the same title: ambiguous, not guessed
                found[key] = arxiv_id(ids.pop())[0]  # type: ignore[index]
        rest = [key for key in wanted if key not in found]
        for start in range(0, len(rest), TITLES_PER_REQUEST):
            batch = rest[start : start + TITLES_PER_REQUEST]
            query = " OR ".join(f'ti:"{_phrase(wanted[key])}"' for key in batch)
            try:
                response = self._get(
                    self.arxiv, self.api, {"search_query": query, "max_results": 5 * len(batch), "start": 0}
                )
                entries = parse_xml(response, self.api).findall("{http://www.w3.org/2005/Atom}entry")
            except FetchError as exc:
                self._failed(f"arXiv title search ({len(batch)} titles)", exc)
                for key in batch:  # not remembered: a rerun asks again
                    wanted.pop(key, None)
                continue
            by_title: dict[str, set[str]] = {}
            for entry in entries:
                paper = arxiv_entry(entry)
                if paper is not None:
                    by_title.setdefault(title_key(paper.title), set()).add(paper.id.removeprefix("arxiv:"))
            for key in batch:
                ids = by_title.get(key, set())
                found[key] = ids.pop() if len(ids) == 1 else None
        for key in wanted:
            if key in found:
                self.store.set("title:" + key, {"arxiv": found[key]})
        return found

    # --- arXiv metadata ------------------------------------------------------------------------------------------

    def arxiv_records(self, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """arXiv's record (title, abstract, authors, published, version, categories) of each id, 50 ids a request."""
        out: dict[str, dict[str, Any]] = {}
        missing = []
        for pid in dict.fromkeys(ids):
            cached = self._cached("arxiv:" + pid)
            if cached is not None:
                out[pid] = cached
            else:
                missing.append(pid)
        for start in range(0, len(missing), IDS_PER_REQUEST):
            batch = missing[start : start + IDS_PER_REQUEST]
            try:
                response = self._get(
                    self.arxiv, self.api, {"id_list": ",".join(batch), "max_results": len(batch), "start": 0}
                )
                entries = parse_xml(response, self.api).findall("{http://www.w3.org/2005/Atom}entry")
            except FetchError as exc:
                self._failed(f"arXiv metadata ({len(batch)} ids)", exc)
                continue
            for entry in entries:
                paper = arxiv_entry(entry)
                if paper is None:
                    continue
                pid = paper.id.removeprefix("arxiv:")
                value = {
                    "title": paper.title,
                    "abstract": paper.abstract,  # what a library entry known by its title only is read by
                    "authors": paper.authors,
                    "published": paper.published,
                    "version": paper.version,
                    "categories": paper.meta.get("categories", []),
                    "primary_category": paper.meta.get("primary_category"),
                }
                out[pid] = value
                self.store.set("arxiv:" + pid, value)
        return out

    # --- the Hub -------------------------------------------------------------------------------------------------

    def hub_record(self, pid: str) -> dict[str, Any] | None:
        """The Hub's paper page data, ``{"found": False}`` when the Hub does not know the paper; None on failure."""
        cached = self._cached("hub:" + pid)
        if cached is not None:
            return cached
        try:
            item = self._get(self.hub, f"{self.hub_base}/api/papers/{quote(pid)}").json()
        except FetchError as exc:
            if exc.status == 404:
                value: dict[str, Any] = {"found": False}
                self.store.set("hub:" + pid, value)
                return value
            self._failed(f"Hub record of {pid}", exc)
            return None
        if not isinstance(item, dict):
            self._failed(f"Hub record of {pid}", ValueError("not a JSON object"))
            return None
        value = {"found": True}
        for name in ("githubRepo", "projectPage", "upvotes", "githubStars", "ai_keywords"):
            kept = metadata_value(item.get(name)) if item.get(name) is not None else None
            if kept is not None:  # absent, or nested too deep or too large to keep: left out
                value[name] = kept
        self.store.set("hub:" + pid, value)
        return value

    # --- full text -----------------------------------------------------------------------------------------------

    def full_text_links(self, pid: str, version: int | None) -> list[SourcedLink] | None:
        """The paper's own links from its arXiv HTML, else its PDF; None when neither could be read."""
        tag = f"{pid}v{version}" if version else pid
        cached = self._cached("links:" + tag)
        if cached is not None:
            return [SourcedLink(**link, origin="full_text") for link in cached.get("links", [])]
        links: list[tuple[str, str]] | None = None
        try:
            response = self._get(self.arxiv, f"{self.html_base}/{tag}")
            links = links_from_html(response.content[:MAX_HTML_CHARS].decode("utf-8", "replace"))  # bytes capped too
        except FetchError as exc:
            if exc.status != 404:
                self._failed(f"HTML of {tag}", exc)
                return None
        if links is None:
            try:
                response = self._get(self.arxiv, f"{self.pdf_base}/{tag}")
                links = links_from_pdf(response.content)
            except FetchError as exc:
                self._failed(f"PDF of {tag}", exc)
                return None
            except ValueError as exc:  # not a PDF pypdf can read
                self._failed(f"PDF of {tag}", exc)
                return None
        self.store.set("links:" + tag, {"links": [{"url": u, "kind": k} for u, k in links]})
        return [SourcedLink(url=u, kind=k, origin="full_text") for u, k in links]  # type: ignore[arg-type]

    def source_links(self, url: str) -> list[SourcedLink] | None:
        """The links of a full text the source names (bioRxiv's JATS XML, OpenReview's PDF, an HTML page);
        None when it could not be read. Cached by its URL like the arXiv ones."""
        cached = self._cached("links:url:" + url)
        if cached is not None:
            return [SourcedLink(**link, origin="full_text") for link in cached.get("links", [])]
        try:
            data = self._get(self.hub, url).content
            head = data[:2048].lstrip()
            if head.startswith(b"%PDF"):
                links = links_from_pdf(data)
            elif head.startswith(b"<?xml") or b"<article" in head:
                links = links_from_jats(data)
            else:
                links = links_from_html(data[:MAX_HTML_CHARS].decode("utf-8", "replace"))
        except (FetchError, ValueError) as exc:
            self._failed(f"full text {url}", exc)
            return None
        self.store.set("links:url:" + url, {"links": [{"url": u, "kind": k} for u, k in links]})
        return [SourcedLink(url=u, kind=k, origin="full_text") for u, k in links]  # type: ignore[arg-type]

    def _own_text(self, paper: Paper) -> Paper:
        """A paper with no arXiv id, with the links of the full text its source named (``full_text_url``)."""
        url = paper.meta.get("full_text_url")
        own = self.source_links(url) if isinstance(url, str) and url.startswith(("https://", "http://")) else None
        if own is None:
            return paper
        self.report.full_text_papers += 1
        self.report.full_text_links += len(own)
        return paper.model_copy(update={"links": merge_links([*paper.links, *own])})

    # --- everything ----------------------------------------------------------------------------------------------

    def enrich(self, papers: list[Paper], *, resolve: bool, full_text: bool) -> tuple[list[Paper], dict[str, str]]:
        """The papers with what could be learnt about them, and the ids that resolved papers replace (old id →
        the arXiv record's id: the old record goes only once the new one exists)."""
        superseded: dict[str, str] = {}
        found = self.resolve_titles(papers) if resolve else {}
        ids: dict[str, str] = {}
        for paper in papers:
            resolved = found.get(title_key(paper.title))
            if paper.id.startswith("arxiv:"):
                ids[paper.id] = paper.id.removeprefix("arxiv:")
            elif resolved:
                ids[paper.id] = resolved
        records = self.arxiv_records(ids.values()) if resolve else {}
        out = []
        for paper in papers:
            pid = ids.get(paper.id)
            if pid is None:
                if resolve and not paper.id.startswith("arxiv:"):
                    self.report.unresolved += 1
                    self.report.unresolved_titles.append(paper.title)
                out.append(self._own_text(paper) if full_text else paper)
                continue
            record = records.get(pid)
            if not paper.id.startswith("arxiv:"):
                if record is None or title_key(record["title"]) != title_key(paper.title):
                    self.report.unresolved += 1  # the Hub's match is not confirmed by arXiv: never a wrong id
                    self.report.unresolved_titles.append(paper.title)
                    out.append(paper)
                    continue
                superseded[paper.id] = f"arxiv:{pid}"
                self.report.resolved += 1
            out.append(self._update(paper, pid, record, resolve=resolve, full_text=full_text))
        return out, superseded

    def _update(
        self, paper: Paper, pid: str, record: dict[str, Any] | None, *, resolve: bool, full_text: bool
    ) -> Paper:
        meta = dict(paper.meta)
        changes: dict[str, Any] = {"id": f"arxiv:{pid}", "url": paper.url or f"https://arxiv.org/abs/{pid}"}
        if not paper.id.startswith("arxiv:"):
            meta["resolved_from"] = paper.id
            changes["url"] = f"https://arxiv.org/abs/{pid}"
        if record is not None:
            changes["authors"] = paper.authors or list(record.get("authors") or [])
            changes["published"] = paper.published or record.get("published")
            changes["version"] = paper.version or record.get("version")
            meta.setdefault("categories", record.get("categories") or [])
            if record.get("primary_category"):
                meta.setdefault("primary_category", record["primary_category"])
        links = list(paper.links)
        if resolve:
            hub = self.hub_record(pid)
            if hub is not None and hub.get("found"):
                self.report.on_hub += 1
                for name in ("upvotes", "githubStars", "ai_keywords"):
                    kept = metadata_value(hub.get(name))  # a cached row is checked like a response
                    if kept is not None:
                        meta.setdefault(name, kept)
                for name, kind in (("githubRepo", "code"), ("projectPage", "project")):
                    url = hub.get(name)
                    if isinstance(url, str) and url.lower().startswith(("http://", "https://")):
                        links.append(SourcedLink(url=url, kind=kind, origin="metadata"))  # type: ignore[arg-type]
            elif hub is not None:
                self.report.not_on_hub += 1
        if full_text:
            own = self.full_text_links(pid, changes.get("version") or paper.version)
            if own is not None:
                self.report.full_text_papers += 1
                self.report.full_text_links += len(own)
                links.extend(own)
        changes["links"] = merge_links(links)
        changes["meta"] = meta
        return paper.model_copy(update=changes)


def _hub_candidates(items: Any) -> list[tuple[str, str]]:
    """(id, title) of each result of the Hub's paper search, whichever of its two shapes it takes."""
    out = []
    for item in items if isinstance(items, list) else []:
        paper = item.get("paper", item) if isinstance(item, dict) else None
        if isinstance(paper, dict) and isinstance(paper.get("id"), str):
            out.append((paper["id"], str(paper.get("title") or (item.get("title") if isinstance(item, dict) else ""))))
    return out


def _phrase(title: str) -> str:
    """A title as an arXiv phrase query: words only (quotes, colons and brackets would end or break it)."""
    return " ".join(re.sub(r"[^\w\s-]", " ", title).split())
