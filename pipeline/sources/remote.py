"""Remote sources: Hugging Face daily papers and arXiv (API and announcement feed), fetched politely.

A failed fetch raises `FetchError` naming the URL and status: it is never "0 papers". An empty answer on a day
that should have papers, and a feed whose newest entry is older than expected, are told apart in `Fetch.status`.
One unusable daily-papers item costs only itself: it comes as an `InputError`, reported like a bad input line.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

from pipeline.errors import FetchError, InputError
from pipeline.schema import Paper, SourcedLink
from pipeline.sources.http import Fetched, Http, http_for, metadata_value
from pipeline.sources.identity import arxiv_id
from pipeline.sources.outcome import Fetch, parse_time, reason, text
from pipeline.sources.outcome import note as _note
from pipeline.values import check_id

_parse_time = parse_time  # the names tests and older importers use
_text, _reason = text, reason

HF_DEFAULT = "https://huggingface.co"
ARXIV_API_DEFAULT = "https://export.arxiv.org/api/query"
ARXIV_RSS_DEFAULT = "https://rss.arxiv.org/rss"
MAX_DAYS = 3660  # an arXiv date window: ten years at most
MAX_PAGES = 200  # per fetch: 20,000 papers at 100 a page; a source that pages on forever stops here
_ATOM = {
    "a": "http://www.w3.org/2005/Atom",
    "arxiv": "http://arxiv.org/schemas/atom",
    "os": "http://a9.com/-/spec/opensearch/1.1/",
}


def hf_daily(
    http: Http,
    *,
    day: str | None = None,
    week: str | None = None,
    month: str | None = None,
    limit: int = 100,
    max_pages: int = MAX_PAGES,
) -> tuple[Fetch, Iterator[Paper | InputError]]:
    """The Hub's daily papers for a day, ISO week or month, paginated with ``limit`` and ``p`` until exhausted.
    An unusable item (a bad id, a title or abstract missing or not text) comes as an `InputError` (path
    ``hf-daily``, line its 1-based place in the listing); an answer that is not a list of objects fails the fetch."""
    base = os.environ.get("HF_ENDPOINT", HF_DEFAULT).rstrip("/")
    url = f"{base}/api/daily_papers"
    params: dict[str, Any] = {"limit": limit}
    if week:
        params["week"] = week
    elif month:
        params["month"] = month
    else:
        params["date"] = day or (date.today() - timedelta(days=1)).isoformat()
    fetch = Fetch("hf-daily", url, expect_papers=True)

    def papers() -> Iterator[Paper | InputError]:
        seen: set[str] = set()
        for page in range(max_pages):
            items = http.get(url, {**params, "p": page}).json()
            fetch.requests = http.requests
            if not isinstance(items, list):
                raise FetchError(f"{url}: expected a JSON list, got {type(items).__name__}", url=url)
            new = 0
            for number, item in enumerate(items):
                if not isinstance(item, dict):  # not the daily-papers format at all: the whole answer is refused
                    raise FetchError(
                        f"{url} (page {page}, item {number}): not a daily-papers item ({type(item).__name__})", url=url
                    )
                try:
                    paper = _hf_paper(item)
                except (AttributeError, TypeError, ValueError) as exc:  # costs only itself, like a bad input line
                    given, title = _named(item)
                    reason = f"page {page}, item {number}{given}: not a usable daily-papers item ({_reason(exc)})"
                    yield InputError(reason, path="hf-daily", line=page * limit + number + 1, title=title)
                    continue
                if paper.id in seen:
                    continue
                seen.add(paper.id)
                new += 1
                yield _note(fetch, paper)
            if len(items) < limit or new == 0:  # the last page, or a server repeating itself
                return
        fetch.truncated = True

    return fetch, papers()


def _named(item: dict[str, Any]) -> tuple[str, str]:
    """What a bad item gave as its id (for the message) and title (for the report), when text."""
    paper = item.get("paper") if isinstance(item.get("paper"), dict) else {}
    pid, title = paper.get("id"), paper.get("title") or item.get("title")
    return (f", id {pid[:80]!r}" if isinstance(pid, str) and pid.strip() else ""), (
        " ".join(title.split())[:300] if isinstance(title, str) else ""
    )


def _hf_paper(item: dict[str, Any]) -> Paper:
    paper = item.get("paper")
    if not isinstance(paper, dict):
        raise ValueError(f"its paper is {'missing' if paper is None else type(paper).__name__}, not an object")
    raw_id = paper.get("id")
    if isinstance(raw_id, int) and not isinstance(raw_id, bool):
        raw_id = str(raw_id)
    if not isinstance(raw_id, str):
        raise ValueError(f"the id is {'missing' if raw_id is None else type(raw_id).__name__}, not text")
    pid = check_id(raw_id)
    found = arxiv_id(pid)
    links = []
    if paper.get("githubRepo"):
        links.append(SourcedLink(url=paper["githubRepo"], kind="code", origin="metadata"))
    if paper.get("projectPage"):
        links.append(SourcedLink(url=paper["projectPage"], kind="project", origin="metadata"))
    meta = {k: metadata_value(paper[k]) for k in ("upvotes", "ai_keywords", "ai_summary") if paper.get(k) is not None}
    meta = {k: v for k, v in meta.items() if v is not None}  # nested too deep or too large: left out
    return Paper(
        id=f"arxiv:{found[0]}" if found else f"hf:{pid}",
        title=_text(paper.get("title") or item.get("title"), "the title"),
        abstract=_text(paper.get("summary"), "the abstract"),
        url=f"https://arxiv.org/abs/{found[0]}" if found else None,
        authors=[a.get("name", "") for a in paper.get("authors") or [] if a.get("name")],
        published=paper.get("publishedAt") or item.get("publishedAt"),
        source="hf-daily",
        version=found[1] if found else None,
        meta=meta,
        links=links,
    )


def arxiv_api(
    http: Http,
    *,
    ids: str | None = None,
    query: str | None = None,
    category: str | None = None,
    end: str | None = None,
    days: int = 1,
    page_size: int = 100,
    max_pages: int = MAX_PAGES,
) -> tuple[Fetch, Iterator[Paper]]:
    """The arXiv API (Atom): by ids, a search query, or a category over a date window; pages until done."""
    url = os.environ.get("SUMMARIZE_ARXIV_API", ARXIV_API_DEFAULT)
    params: dict[str, Any] = {"max_results": page_size, "sortBy": "submittedDate", "sortOrder": "descending"}
    expect = True
    if ids:
        params["id_list"] = ",".join(i.strip() for i in ids.split(",") if i.strip())
    elif query:
        params["search_query"] = query
    elif category:
        last = date.fromisoformat(end) if end else date.today() - timedelta(days=1)
        if not 1 <= days <= MAX_DAYS:
            raise InputError(f"--days {days}: give 1 to {MAX_DAYS} days")
        try:
            first = last - timedelta(days=days - 1)
        except OverflowError:
            raise InputError(f"--date {end} with --days {days} reaches before the calendar's first day") from None
        params["search_query"] = f"cat:{category} AND submittedDate:[{first:%Y%m%d}0000 TO {last:%Y%m%d}2359]"
        expect = any((first + timedelta(days=d)).weekday() < 5 for d in range(days))
    else:
        raise InputError("--source arxiv needs --ids, --query or --category")
    fetch = Fetch("arxiv", url, expect_papers=expect)

    def papers() -> Iterator[Paper]:
        start = 0
        seen: set[str] = set()
        for _page in range(max_pages):
            response = http.get(url, {**params, "start": start})
            fetch.requests = http.requests
            root = parse_xml(response, url)
            entries = root.findall("a:entry", _ATOM)
            raw_total = (root.findtext("os:totalResults", "0", _ATOM) or "0").strip()
            if not raw_total.isdigit():
                raise FetchError(f"{url}: totalResults is {raw_total[:40]!r}, not a number", url=url)
            total = int(raw_total)
            new = 0
            for entry in entries:
                paper = arxiv_entry(entry)
                if paper is not None and paper.id not in seen:
                    seen.add(paper.id)
                    new += 1
                    yield _note(fetch, paper)
            start += len(entries)
            if not entries or start >= total or new == 0:
                return
        fetch.truncated = True

    return fetch, papers()


def parse_xml(response: Fetched, url: str) -> ET.Element:
    try:
        return ET.fromstring(response.content)
    except ET.ParseError as exc:
        raise FetchError(f"{url}: the response is not valid XML ({exc})", url=url, status=response.status_code) from exc


def arxiv_entry(entry: ET.Element) -> Paper | None:
    raw_id = entry.findtext("a:id", "", _ATOM)
    found = arxiv_id(raw_id)
    if not found:  # the API reports errors as an entry whose id is an error URL
        return None
    links = [
        SourcedLink(url=link.get("href", ""), kind="paper", origin="metadata")
        for link in entry.findall("a:link", _ATOM)
        if link.get("title") == "pdf" and link.get("href")
    ]
    categories = [c.get("term") for c in entry.findall("a:category", _ATOM) if c.get("term")]
    meta: dict[str, Any] = {"categories": categories}
    primary = entry.find("arxiv:primary_category", _ATOM)
    if primary is not None:
        meta["primary_category"] = primary.get("term")
    return Paper(
        id=f"arxiv:{found[0]}",
        title=" ".join(entry.findtext("a:title", "", _ATOM).split()),
        abstract=" ".join(entry.findtext("a:summary", "", _ATOM).split()),
        url=f"https://arxiv.org/abs/{found[0]}",
        authors=[a.findtext("a:name", "", _ATOM) for a in entry.findall("a:author", _ATOM)],
        published=entry.findtext("a:published", None, _ATOM),
        source="arxiv",
        version=found[1],
        meta={**meta, "updated": entry.findtext("a:updated", None, _ATOM)},
        links=links,
    )


def arxiv_feed(http: Http, category: str, *, cross_lists: bool = False) -> tuple[Fetch, Iterator[Paper]]:
    """The category's announcement feed (RSS): new submissions only, cross-lists when asked."""
    base = os.environ.get("SUMMARIZE_ARXIV_RSS", ARXIV_RSS_DEFAULT).rstrip("/")
    url = f"{base}/{category}"
    wanted = {"new", "cross"} if cross_lists else {"new"}
    fetch = Fetch("arxiv-feed", url, expect_papers=date.today().weekday() < 5, stale_after=timedelta(days=4))

    def papers() -> Iterator[Paper]:
        root = parse_xml(http.get(url), url)
        fetch.requests = http.requests
        channel_date = _parse_time(root.findtext("channel/pubDate") or root.findtext("channel/lastBuildDate"))
        for item in root.iter("item"):
            kind = item.findtext("{http://arxiv.org/schemas/atom}announce_type", "new")
            found = arxiv_id(item.findtext("link", ""))
            if kind not in wanted or not found:
                continue
            abstract = item.findtext("description", "")
            abstract = abstract.split("Abstract:", 1)[-1]
            paper = Paper(
                id=f"arxiv:{found[0]}",
                title=" ".join(item.findtext("title", "").split()),
                abstract=" ".join(abstract.split()),
                url=f"https://arxiv.org/abs/{found[0]}",
                authors=[
                    a.strip()
                    for a in item.findtext("{http://purl.org/dc/elements/1.1/}creator", "").split(",")
                    if a.strip()
                ],
                published=item.findtext("pubDate") or (channel_date.isoformat() if channel_date else None),
                source="arxiv-feed",
                version=found[1],
                meta={"announce_type": kind},
            )
            yield _note(fetch, paper)
        if fetch.newest is None and channel_date is not None:
            fetch.newest = channel_date

    return fetch, papers()


def _check_dates(options: dict[str, Any]) -> None:
    """--date, --week and --month are checked before any request: a wrong one is a usage error (exit 2)."""
    checks = (
        ("date", "YYYY-MM-DD", lambda v: date.fromisoformat(v) and len(v) == 10),
        ("week", "YYYY-Www", lambda v: datetime.strptime(v + "-1", "%G-W%V-%u")),
        ("month", "YYYY-MM", lambda v: datetime.strptime(v, "%Y-%m") and len(v) == 7),
    )
    for name, form, parse in checks:
        value = options.get(name)
        if value is None:
            continue
        try:
            ok = parse(str(value))
        except ValueError:
            ok = False
        if not ok:
            raise InputError(f"--{name} {value!r} is not a valid {form}")


def open_source(
    source: str, http: Http | None = None, settings: Any = None, **options: Any
) -> tuple[Fetch, Iterator[Paper | InputError]]:
    """The fetch for ``--source hf-daily`` or ``--source arxiv`` (API, or the feed with ``feed=True``)."""
    _check_dates(options)
    pages = settings.fetch_max_pages if settings is not None else MAX_PAGES

    def client(interval_s: float = 0.0) -> Http:
        return http or (
            http_for(settings, interval_s=interval_s) if settings is not None else Http(interval_s=interval_s)
        )

    if source == "hf-daily":
        return hf_daily(
            client(), day=options.get("date"), week=options.get("week"), month=options.get("month"), max_pages=pages
        )
    if source == "arxiv":
        if options.get("feed"):
            if not options.get("category"):
                raise InputError("--feed needs --category (e.g. cs.CL)")
            return arxiv_feed(client(), options["category"], cross_lists=bool(options.get("cross_lists")))
        http = client(3.0)  # arXiv asks for 3 s between requests
        return arxiv_api(
            http,
            ids=options.get("ids"),
            query=options.get("query"),
            category=options.get("category"),
            end=options.get("date"),
            days=options.get("days") or 1,
            max_pages=pages,
        )
    raise InputError(f"unknown remote source {source!r}")
