"""Any RSS 2.0, RSS 1.0 (RDF) or Atom feed of a journal or a preprint server, read with feedparser.

Each feed is fetched by the shared bounded client (never by feedparser itself) and parsed from those bytes.
HTML in titles and descriptions is reduced to text. A paper's id is its arXiv id or its DOI when the entry's
link, id or DOI fields name one (``arxiv:…``, ``doi:…``), else the hash of its title, as for input files.

A feed that stopped updating is told apart from a quiet day: with ``--date``, a feed whose entries are all older
but whose newest entry is recent is an empty day (ok, no papers); a feed whose newest entry is older than
``stale_days`` is stale (exit 6). One feed that fails (network, not a feed) is reported and the others are read;
one unusable entry costs only itself (an `InputError`).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import feedparser

from pipeline.errors import FetchError, InputError
from pipeline.schema import Paper, SourcedLink
from pipeline.sources.http import Http
from pipeline.sources.identity import arxiv_id, paper_identity
from pipeline.sources.outcome import ITEM_ERRORS, Fetch, note, reason, short, text
from pipeline.values import check_id

MAX_ENTRIES = 5_000  # per feed
_DOI = re.compile(r"\b(10\.\d{4,9}/[^\s\"<>?#]+)", re.IGNORECASE)
_BLOCKS = frozenset("p div br li ul ol tr td th h1 h2 h3 h4 h5 h6 blockquote section article".split())


class _Text(HTMLParser):
    """Text of an HTML fragment: tags dropped, scripts and styles left out, blocks apart, entities decoded."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("script", "style"):
            self.skip += 1
        elif tag in _BLOCKS:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self.skip = max(0, self.skip - 1)
        elif tag in _BLOCKS:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def html_text(value: str) -> str:
    """``value`` (an HTML fragment) as one line of plain text."""
    parser = _Text()
    parser.feed(value)
    parser.close()
    return " ".join("".join(parser.parts).split())


def _plain(detail: Any, fallback: Any) -> str:
    """A feedparser text construct as text: HTML reduced, plain text as given."""
    if isinstance(detail, dict) and isinstance(detail.get("value"), str):
        kind = str(detail.get("type") or "")
        return html_text(detail["value"]) if "html" in kind else " ".join(detail["value"].split())
    return html_text(fallback) if isinstance(fallback, str) else ""


def find_doi(*values: Any) -> str | None:
    """The DOI a link, an id ('doi:…', 'info:doi/…', a doi.org URL) or a DOI field names, lower-cased."""
    for value in values:
        if not isinstance(value, str):
            continue
        if "arxiv.org" in value.lower():
            continue
        found = _DOI.search(value)
        if found:
            return found.group(1).rstrip(".,;)").lower()
    return None


def _when(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = entry.get(key)
        if parsed:
            try:
                return datetime(*parsed[:6], tzinfo=UTC)
            except (TypeError, ValueError):
                continue
    return None


def entry_paper(entry: Any, feed_url: str, feed_title: str) -> Paper:
    """One feed entry as a `Paper`; ValueError (and friends) when it is not usable."""
    title = text(_plain(entry.get("title_detail"), entry.get("title")), "the title")
    contents = entry.get("content") or []
    body = _plain(entry.get("summary_detail"), entry.get("summary"))
    if not body and contents:
        body = _plain(contents[0], None)
    abstract = text(body, "the description")
    link = entry.get("link") if isinstance(entry.get("link"), str) else None
    ids = [entry.get("id"), link, entry.get("prism_doi"), entry.get("dc_identifier"), entry.get("prism_url")]
    ids += [x.get("href") for x in entry.get("links") or [] if isinstance(x, dict)]
    arxiv = next((found for found in map(arxiv_id, (i for i in ids if isinstance(i, str))) if found), None)
    doi = None if arxiv else find_doi(*ids)
    given = f"arxiv:{arxiv[0]}" if arxiv else f"doi:{doi}" if doi else None
    pid, version = paper_identity(given, None, title)
    check_id(pid)
    names = [a.get("name") for a in entry.get("authors") or [] if isinstance(a, dict)]
    if not any(names) and isinstance(entry.get("author"), str):
        names = re.split(r";|,| and ", entry["author"])
    when = _when(entry)
    meta: dict[str, Any] = {"feed": feed_url, "feed_title": feed_title[:300]}
    if doi:
        meta["doi"] = doi
    if arxiv:
        version = arxiv[1]
    links = [SourcedLink(url=link, kind="paper", origin="metadata")] if link and link.startswith("http") else []
    return Paper(
        id=pid,
        title=title,
        abstract=abstract,
        url=link if link and link.startswith(("https://", "http://")) else None,
        authors=[" ".join(n.split()) for n in names if isinstance(n, str) and n.strip()][:500],
        published=when.isoformat().replace("+00:00", "Z") if when else None,
        source="feed",
        version=version,
        meta=meta,
        links=links,
    )


@dataclass
class FeedFetch(Fetch):
    """The fetch of several feeds: each one's outcome, and stale when any stopped updating."""

    feeds: list[dict[str, Any]] = field(default_factory=list)

    @property
    def status(self) -> str:
        if self.error:
            return "failed"
        if any(f["status"] == "stale" for f in self.feeds):
            return "stale"
        return "ok"

    def summary(self) -> dict[str, Any]:
        out = super().summary()
        out["feeds"] = self.feeds
        stale = [f for f in self.feeds if f["status"] == "stale"]
        if stale and out["status"] == "stale":  # the report names the feed that stopped, and when
            out["newest"] = min((f["newest"] for f in stale if f["newest"]), default=out["newest"])
        return out


def _parse(data: bytes, url: str) -> Any:
    parsed = feedparser.parse(io.BytesIO(data))  # from the bytes we fetched: feedparser never fetches itself
    version = parsed.get("version") or ""
    if not version and not parsed.entries:
        problem = parsed.get("bozo_exception")
        detail = f" ({short(str(problem), 200)})" if problem else ""
        raise FetchError(f"{url}: not an RSS or Atom feed{detail}", url=url)
    return parsed


def read_feeds(
    http: Http, urls: Sequence[str], *, day: str | None = None, stale_days: float = 14.0
) -> tuple[FeedFetch, Iterator[Paper | InputError]]:
    """The entries of every feed in ``urls`` (of ``day`` only, when given), one feed after another."""
    if not urls:
        raise InputError("--source feed needs at least one feed URL (or [[feeds]] in config.toml)")
    for url in urls:
        if not url.startswith(("https://", "http://")):
            raise InputError(f"feed {url[:200]!r}: give an http(s) URL")
    wanted = date.fromisoformat(day) if day else None
    fetch = FeedFetch("feed", urls[0] if len(urls) == 1 else ", ".join(urls), expect_papers=False)

    def papers() -> Iterator[Paper | InputError]:
        errors = []
        for url in urls:
            outcome: dict[str, Any] = {"url": url, "status": "ok", "entries": 0, "papers": 0, "newest": None}
            fetch.feeds.append(outcome)
            try:
                parsed = _parse(http.get(url).content, url)
            except FetchError as exc:
                outcome.update(status="failed", error=str(exc))
                errors.append(str(exc))
                fetch.error = "; ".join(errors)
                continue
            finally:
                fetch.requests = http.requests
            yield from _entries(fetch, parsed, url, wanted, outcome, stale_days)

    return fetch, papers()


def _entries(
    fetch: FeedFetch, parsed: Any, url: str, wanted: date | None, outcome: dict[str, Any], stale_days: float
) -> Iterator[Paper | InputError]:
    """The entries of one parsed feed (of ``wanted`` only, when given); its outcome (stale, empty) noted."""
    title = short(parsed.feed.get("title")) if isinstance(parsed.get("feed"), dict) else ""
    newest: datetime | None = None
    for number, entry in enumerate(parsed.entries[:MAX_ENTRIES], start=1):
        outcome["entries"] += 1
        when = _when(entry)
        newest = max(newest, when) if newest and when else newest or when
        if wanted and when and when.date() != wanted:
            continue
        try:
            paper = entry_paper(entry, url, title)
        except ITEM_ERRORS as exc:
            yield InputError(
                f"entry {number}: not a usable paper ({reason(exc)})",
                path=url,
                line=number,
                title=short(entry.get("title")),
            )
            continue
        outcome["papers"] += 1
        yield note(fetch, paper)
    if newest is None and parsed.feed.get("updated_parsed"):
        newest = datetime(*parsed.feed["updated_parsed"][:6], tzinfo=UTC)
    outcome["newest"] = newest.isoformat() if newest else None
    reference = datetime.combine(wanted, datetime.max.time(), UTC) if wanted else datetime.now(UTC)
    if newest is None and not outcome["entries"]:
        outcome["status"] = "empty"
    elif newest is not None and reference - newest > timedelta(days=stale_days):
        outcome["status"] = "stale"
