"""The week view of a daily archive (``archive_period = "day"``): ``archive/2026-W11.{html,md,csv}``, every paper first
seen in that ISO week on one page, linked from each of its days. Only the weeks of the days a run changed are
written again (this week's, on a daily run: at most seven days of papers, read from the one or two partitions that
hold them). With ``archive_period = "week"`` the period pages are the weeks already, and nothing is written here.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pipeline.archive.publish as publish
import pipeline.archive.search as site_search
import pipeline.archive.store as store
from pipeline.table import TableWriter


def week_of(day: str) -> str:
    return publish.period_of(day, "week")


def _days(week: str) -> list[str]:
    monday = date.fromisocalendar(int(week[:4]), int(week[6:]), 1)
    return [(monday + timedelta(days=n)).isoformat() for n in range(7)]


def week_nav(index: dict[str, Any], week: str, days: dict[str, list[str]]) -> str:
    """A week page's links: back to the digest and the list, each of its days that has a page, the week before and
    after (through the index: the week after may not exist yet), the search box."""
    periods = index.get("periods", {})
    links = '<a href="../comparison.html">Latest digest</a><a href="index.html">All periods</a>'
    links += "".join(f'<a href="{day}.html">{day} ({periods[day]})</a>' for day in _days(week) if day in periods)
    before = week_of((date.fromisocalendar(int(week[:4]), int(week[6:]), 1) - timedelta(days=1)).isoformat())
    if any(day in periods for day in _days(before)):
        links += f'<a rel="prev" href="{html.escape(before)}.html">← week {html.escape(before)}</a>'
    links += f'<a rel="next" href="index.html#after={html.escape(_days(week)[-1])}">next days →</a>'
    return links + site_search.box(f"{site_search.SEARCH_DIR}/", "") + site_search.visit_tag(days, "", "week")


def render_weeks(out_dir: Path, days: Iterable[str], *, title: str, html_page: bool = True) -> list[str]:
    """The week pages of ``days`` (first-seen days a run changed) written again, or removed when empty."""
    folder = out_dir / publish.ARCHIVE_DIR
    index = publish.load_index(out_dir)
    written = []
    for week in sorted({week_of(day) for day in days}):
        span = [name for name in store.partitions(out_dir) if set(store.days_of(name)) & set(_days(week))]
        shown = publish._days_of_period(out_dir, span, week, "week")
        writer = TableWriter(
            folder, html_page=html_page, title=f"{title} — week {week}", stem=week, archive=week_nav(index, week, shown)
        )
        count = 0
        try:
            for month in span:
                for _period, record in publish._records_in(out_dir, month, "week", {week}):
                    writer.add(record)
                    count += 1
        except BaseException:
            writer.abort()
            raise
        if count:
            writer.close()
            written.append(week)
        else:
            writer.abort()
            for suffix in (".md", ".csv", ".html"):
                (folder / f"{week}{suffix}").unlink(missing_ok=True)
    return written
