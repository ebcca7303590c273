"""bioRxiv and medRxiv: the public details API, ``{base}/details/{server}/{from}/{to}/{cursor}``.

Each page holds up to 100 preprint versions and a ``messages`` block with the interval's ``total``; pages are
followed until that total (or a short page) is reached, at most ``max_pages``. A preprint is one paper whatever
its versions: ``doi:<doi>`` with the newest version kept (``version``, as for arXiv), its page
``https://www.biorxiv.org/content/<doi>v<n>`` and its JATS XML (the full text) as a link. Authors come as
"Last, F.; Last, F." and are turned round to "F. Last". One unusable item costs only itself (an `InputError`).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from pipeline.errors import FetchError, InputError
from pipeline.schema import Paper, SourcedLink
from pipeline.sources.http import Http, metadata_value
from pipeline.sources.outcome import ITEM_ERRORS, Fetch, note, reason, short, text
from pipeline.values import check_id

BIORXIV_API_DEFAULT = "https://api.biorxiv.org"
SERVERS = ("biorxiv", "medrxiv")
PAGE = 100  # the API's page size
MAX_DAYS = 366  # one window: a year at most (a day is a few hundred preprints)
_SITES = {"biorxiv": "https://www.biorxiv.org", "medrxiv": "https://www.medrxiv.org"}


def authors_of(value: Any) -> list[str]:
    """'Smith, J. A.; van der Berg, K.; Consortium X' as ['J. A. Smith', 'K. van der Berg', 'Consortium X']."""
    if not isinstance(value, str):
        return []
    names = []
    for part in value.split(";"):
        last, comma, first = part.partition(",")
        name = f"{first.strip()} {last.strip()}" if comma and first.strip() else last.strip()
        name = " ".join(name.split())
        if name:
            names.append(name)
    return names[:500]


def category_key(value: str) -> str:
    """'Cell Biology', 'cell_biology' and 'cell-biology' are one category."""
    return " ".join(value.lower().replace("_", " ").replace("-", " ").split())


def window(day: str | None, first: str | None, last: str | None) -> tuple[date, date]:
    """The days asked for: ``--from``/``--to``, else ``--date`` (default yesterday) alone; InputError if wrong."""
    try:
        if first or last:
            start = date.fromisoformat(first or last or "")
            end = date.fromisoformat(last or first or "")
        else:
            start = end = date.fromisoformat(day) if day else date.today() - timedelta(days=1)
    except ValueError as exc:
        raise InputError(f"--date/--from/--to: give days as YYYY-MM-DD ({exc})") from None
    if end < start:
        raise InputError(f"--from {start} is after --to {end}")
    if (end - start).days + 1 > MAX_DAYS:
        raise InputError(f"--from {start} --to {end}: give at most {MAX_DAYS} days")
    return start, end


def _version(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.strip().isdigit():
        number = int(value.strip())
    else:
        raise ValueError(f"the version is {short(str(value), 20)!r}, not a number")
    if not 1 <= number <= 1000:
        raise ValueError(f"the version {number} is out of range")
    return number


def preprint(item: dict[str, Any], server: str) -> Paper:
    """One version of a preprint as a `Paper`; ValueError (and friends) when it is not usable."""
    doi = text(item.get("doi"), "the doi").lower()
    if not doi.startswith("10.") or "/" not in doi or len(doi) > 300:
        raise ValueError(f"the doi {doi[:80]!r} is not a DOI")
    pid = check_id(f"doi:{doi}")
    version = _version(item.get("version"))
    site = _SITES.get(str(item.get("server") or server).lower(), _SITES[server])
    links = []
    jats = item.get("jatsxml") or item.get("jats_xml_path")
    if isinstance(jats, str) and jats.startswith(("https://", "http://")):
        links.append(SourcedLink(url=jats.strip(), kind="paper", origin="metadata"))
    meta: dict[str, Any] = {}
    for key in ("category", "type", "license", "server", "author_corresponding", "author_corresponding_institution"):
        if isinstance(item.get(key), str) and item[key].strip():
            meta[key] = item[key].strip()[:500]
    published = item.get("published")
    if isinstance(published, str) and published.strip() not in ("", "NA"):
        meta["published_doi"] = published.strip()[:300]  # the journal version, once there is one
    if isinstance(jats, str) and jats.strip():
        meta["full_text_url"] = jats.strip()[:2000]
    funding = metadata_value(item.get("funding")) if item.get("funding") else None
    if funding:
        meta["funding"] = funding
    day = item.get("date")
    return Paper(
        id=pid,
        title=text(item.get("title"), "the title"),
        abstract=text(item.get("abstract"), "the abstract"),
        url=f"{site}/content/{doi}v{version}",
        authors=authors_of(item.get("authors")),
        published=day if isinstance(day, str) and day.strip() else None,
        source=server,
        version=version,
        meta=meta,
        links=links,
    )


def _total(messages: Any, url: str) -> int | None:
    """The interval's total from the ``messages`` block; None when the server says there is nothing."""
    message = messages[0] if isinstance(messages, list) and messages and isinstance(messages[0], dict) else {}
    status = str(message.get("status", "ok")).lower()
    if status != "ok":
        if "no posts" in status or "not found" in status:
            return None
        raise FetchError(f"{url}: the server answered {short(status, 200)!r}", url=url)
    raw = message.get("total", 0)
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise FetchError(f"{url}: total is {short(str(raw), 40)!r}, not a number", url=url) from None


def details(
    http: Http,
    server: str,
    *,
    base: str = BIORXIV_API_DEFAULT,
    day: str | None = None,
    first: str | None = None,
    last: str | None = None,
    category: str | None = None,
    max_pages: int = 200,
) -> tuple[Fetch, Iterator[Paper | InputError]]:
    """The preprints of ``server`` posted (or revised) in the window, cursor page by cursor page to the end;
    ``category`` keeps one subject area (told to the API, checked on each item)."""
    if server not in SERVERS:
        raise InputError(f"unknown preprint server {server!r}; choose {' or '.join(SERVERS)}")
    start, end = window(day, first, last)
    url = f"{base.rstrip('/')}/details/{server}/{start}/{end}"
    wanted = category_key(category) if category else None
    fetch = Fetch(server, url, expect_papers=wanted is None)  # a whole server posts daily; a category may not
    params = {"category": wanted.replace(" ", "_")} if wanted else None

    def papers() -> Iterator[Paper | InputError]:
        cursor = 0
        for _page in range(max_pages):
            answer = http.get(f"{url}/{cursor}/json", params)
            fetch.requests = http.requests
            body = answer.json()
            if not isinstance(body, dict) or not isinstance(body.get("collection", []), list):
                raise FetchError(f"{url}/{cursor}: not a details answer (no 'collection' list)", url=url)
            total = _total(body.get("messages"), url)
            items = body.get("collection") or []
            if total is None or not items:
                return
            for number, item in enumerate(items):
                yield from _one(fetch, item, server, wanted, cursor + number + 1)
            cursor += len(items)
            if cursor >= total or len(items) < PAGE:
                return
        fetch.truncated = True

    return fetch, papers()


def _one(fetch: Fetch, item: Any, server: str, wanted: str | None, line: int) -> Iterator[Paper | InputError]:
    """One item of a page: its paper (counted in ``fetch``), its problem, or nothing (another category)."""
    if not isinstance(item, dict):
        yield InputError(f"item {line}: not an object ({type(item).__name__})", path=server, line=line)
        return
    if wanted and category_key(str(item.get("category") or "")) != wanted:
        return
    try:
        paper = preprint(item, server)
    except ITEM_ERRORS as exc:
        doi = short(item.get("doi"), 80)
        given = f", doi {doi!r}" if doi else ""
        yield InputError(
            f"item {line}{given}: not a usable preprint ({reason(exc)})",
            path=server,
            line=line,
            title=short(item.get("title")),
        )
        return
    yield note(fetch, paper)
