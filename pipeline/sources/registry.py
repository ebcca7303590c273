"""Every remote source by its ``--source`` name: the fetch and its papers, from the run's settings and options.

    fetch, items = open_remote("biorxiv", settings, date="2026-03-12")
    fetch, items = open_remote("openreview", settings, venue="ICLR.cc/2026/Conference")
    fetch, items = open_remote("feed", settings, urls=["https://example.org/rss"])

Each source's base URL is a setting (``biorxiv_api``, ``openreview_api``; environment ``SUMMARIZE_BIORXIV_API``
…), so a mirror or a test server stands in for the real one. The Hub and arXiv keep their own variables
(`pipeline.sources.remote`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from pipeline.errors import InputError
from pipeline.schema import Paper
from pipeline.sources import remote
from pipeline.sources.http import http_for
from pipeline.sources.outcome import Fetch

REMOTE_SOURCES = ("hf-daily", "arxiv", "biorxiv", "medrxiv", "openreview", "feed")
_FLAGS = {  # the options only some sources take, as the command line spells them
    "week": "--week",
    "month": "--month",
    "ids": "--ids",
    "query": "--query",
    "venue": "--venue",
    "invitation": "--invitation",
    "first": "--from",
    "last": "--to",
}


def _refuse_others(options: dict[str, Any], source: str, allowed: tuple[str, ...]) -> None:
    """Options that do not apply to ``source`` are a usage error, not silently ignored."""
    given = [name for name in _FLAGS if options.get(name)]
    wrong = [_FLAGS[name] for name in given if name not in allowed]
    if wrong:
        raise InputError(f"--source {source} does not take {', '.join(wrong)}")


def open_remote(
    source: str, settings: Any, urls: Sequence[str] = (), **options: Any
) -> tuple[Fetch, Iterator[Paper | InputError]]:
    """The fetch for ``--source NAME`` and its papers (and the problems of single items, as `InputError`)."""
    pages = settings.fetch_max_pages
    if source in ("hf-daily", "arxiv"):
        _refuse_others(options, source, ("week", "month", "ids", "query"))
        for name in ("venue", "invitation", "first", "last"):
            options.pop(name, None)
        return remote.open_source(source, settings=settings, **options)
    if source in ("biorxiv", "medrxiv"):
        from pipeline.sources.preprints import details

        _refuse_others(options, source, ("first", "last"))
        return details(
            http_for(settings, interval_s=settings.biorxiv_interval_s),
            source,
            base=settings.biorxiv_api,
            day=options.get("date"),
            first=options.get("first"),
            last=options.get("last"),
            category=options.get("category"),
            max_pages=pages,
        )
    if source == "openreview":
        from pipeline.sources.openreview import notes

        _refuse_others(options, source, ("venue", "invitation"))
        return notes(
            http_for(settings, interval_s=settings.openreview_interval_s),
            base=settings.openreview_api,
            venue=options.get("venue"),
            invitation=options.get("invitation"),
            max_pages=pages,
        )
    if source == "feed":
        from pipeline.sources.feeds import read_feeds

        _refuse_others(options, source, ())
        chosen = list(urls) or [spec.url for spec in settings.feeds]
        if options.get("date"):
            remote._check_dates({"date": options["date"]})
        return read_feeds(http_for(settings), chosen, day=options.get("date"), stale_days=settings.feed_stale_days)
    raise InputError(f"unknown remote source {source!r}; choose from {', '.join(REMOTE_SOURCES)}")
