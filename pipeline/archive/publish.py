"""What a partitioned folder publishes: the digest (this run's papers) as comparison.md/.csv/.html and feed.xml,
and ``archive/`` with one file set per period of first sight (``2026-03-12.{md,csv,html,json}``; ISO weeks
``2026-W11``, months ``2026-03``), ``archive/index.json`` (periods and counts) and ``archive/index.html``.

Only the periods whose records changed are written again; each period page reads the one or two partitions
that hold it, never the whole corpus. ``<period>.json`` is the period's compact search data (id, title, url,
tldr): together they are a search over the whole corpus, loaded period by period.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import orjson
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

import pipeline.archive.search as site_search
import pipeline.archive.store as store
import pipeline.archive.write as write
from pipeline.corpus import Sink
from pipeline.corpus.lines import MergeReport
from pipeline.files import StateError, read_json_state, write_bytes_atomic
from pipeline.table import TableWriter, _safe_url, script_hash, search_script

ARCHIVE_DIR = "archive"
INDEX = "index.json"
MAX_INDEX_BYTES = 16 * 2**20
NAV_PERIODS = 14  # periods linked from the digest page; archive/index.html links all


def period_of(day: str, kind: str) -> str:
    """The archive period of a first-seen day: the day, its ISO week (``2026-W11``) or its month."""
    if kind == "month":
        return day[:7]
    if kind == "week":
        year, week, _ = date.fromisoformat(day).isocalendar()
        return f"{year:04d}-W{week:02d}"
    return day


def _spans(out_dir: Path, periods: set[str], kind: str) -> dict[str, list[str]]:
    """The partitions on disk (months or ISO weeks) each period's papers can live in, in partition order."""
    spans: dict[str, list[str]] = {period: [] for period in periods}
    for name in store.partitions(out_dir):
        for period in {period_of(day, kind) for day in store.days_of(name)} & periods:
            spans[period].append(name)
    return spans


_PERIOD = r"^\d{4}-(\d{2}(-\d{2})?|W\d{2})$"  # a day, ISO week or month: the index names files by it


class _Index(BaseModel):
    model_config = ConfigDict(extra="allow")
    period: str = ""
    periods: dict[Annotated[str, StringConstraints(pattern=_PERIOD)], Annotated[int, Field(ge=0)]]
    records: int = Field(default=0, ge=0)


def load_index(out_dir: Path) -> dict[str, Any]:
    """``archive/index.json`` through `read_json_state` (bounded, depth, types, period names that are dates);
    empty when missing or unusable: every period is then rendered again from the partitions."""
    try:
        found = read_json_state(out_dir / ARCHIVE_DIR / INDEX, MAX_INDEX_BYTES, _Index)
    except StateError:
        return {}
    return found.model_dump() if found is not None else {}


def _compact(record: dict[str, Any]) -> dict[str, Any]:
    return {
        "i": str(record.get("id", "")),
        "t": str(record.get("title", "")),
        "u": _safe_url(record.get("url")),
        "l": str(record.get("tldr", ""))[:300],
    }


def _link_list(periods: list[tuple[str, int]], prefix: str) -> str:
    return "".join(
        f'<a href="{html.escape(prefix + name)}.html">{html.escape(name)} ({count})</a>' for name, count in periods
    )


def nav(
    index: dict[str, Any],
    *,
    here: str = "",
    order: list[str] | None = None,
    days: dict[str, list[str]] | None = None,
    latest: str = "",
) -> str:
    """The period links of a page: on the digest (``here=""``) the latest periods, the day before and the full
    list; on a period page the way back to the digest and the list, its previous period (``order``: every
    period, sorted) and the next one (through ``index.html#after=<period>``, so no page is rewritten for it).
    Both carry the site search box and what "new since your last visit" needs (``days``: first-seen day → the
    ids shown on this page; ``latest``: the newest first-seen day the site holds)."""
    names = order if order is not None else sorted(index.get("periods", {}))
    kind = index.get("period", "day")
    newest = latest or index.get("latest") or (max(names) if names and kind == "day" else "")
    visit = site_search.visit_tag(days or {}, str(newest), kind)
    if here:
        at = names.index(here) if here in names else -1
        steps = ""
        if at > 0:
            steps += f'<a rel="prev" href="{html.escape(names[at - 1])}.html">← {html.escape(names[at - 1])}</a>'
        # the next period through the index (its script goes on to it): adding a period rewrites no other page
        steps += f'<a rel="next" href="index.html#after={html.escape(here)}">next →</a>'
        links = '<a href="../comparison.html">Latest digest</a><a href="index.html">All periods</a>'
        if kind == "day":  # the week view (archive/weeks.py) of this day
            week = html.escape(period_of(here, "week"))
            links += f'<a class="week" href="{week}.html">Week {week}</a>'
        return links + steps + site_search.box("search/", "") + visit
    periods = sorted(index.get("periods", {}).items(), reverse=True)
    if not periods:
        return ""
    latest_links = _link_list(periods[:NAV_PERIODS], f"{ARCHIVE_DIR}/")
    before = _day_before(names, days or {}, kind)
    back = (
        f'<a rel="prev" href="{ARCHIVE_DIR}/{html.escape(before)}.html">← The day before: {html.escape(before)}</a>'
        if before
        else ""
    )
    search = site_search.box(f"{ARCHIVE_DIR}/{site_search.SEARCH_DIR}/", f"{ARCHIVE_DIR}/")
    return (
        f'{back}Archive: {latest_links}<a href="{ARCHIVE_DIR}/index.html">All {len(periods)} periods</a>'
        + search
        + visit
    )


def _day_before(names: list[str], days: dict[str, list[str]], kind: str) -> str:
    """The newest period older than the digest's own newest day (yesterday's, on a daily run)."""
    newest = max(days, default="")
    older = [name for name in names if newest and name < period_of(newest, kind)]
    return older[-1] if older else ""


def _period_end(name: str) -> str:
    """The last day of a period (a day, an ISO week, a month): a period is new to a reader when it ends after
    the newest day they last saw."""
    if "W" in name:
        try:
            return date.fromisocalendar(int(name[:4]), int(name[6:]), 7).isoformat()
        except (ValueError, OverflowError):  # the last week of 9999 ends in a year Python's dates do not hold
            return date.max.isoformat()
    return name if len(name) == 10 else store.days_of(name)[-1]


def _index_page(title: str, index: dict[str, Any]) -> bytes:
    periods = sorted(index.get("periods", {}).items(), reverse=True)
    items = "".join(
        f'<li data-end="{html.escape(_period_end(name))}"><a href="{html.escape(name)}.html">{html.escape(name)}</a>'
        f' · {count} papers · <a href="{html.escape(name)}.md">md</a> <a href="{html.escape(name)}.csv">csv</a> '
        f'<a href="{html.escape(name)}.json">json</a></li>'
        for name, count in periods
    )
    script = search_script()
    latest = str(index.get("latest") or "")
    page = (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        f"script-src '{script_hash(script)}'; connect-src 'self'; base-uri 'none'; form-action 'none'\">"
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{html.escape(title)} — archive'
        f'</title></head><body><h1>{html.escape(title)} — archive</h1><p><a href="../comparison.html">Latest '
        f"digest</a> · {index.get('records', 0)} papers in {len(periods)} periods (by {html.escape(index['period'])}"
        f" first seen)</p>{site_search.box(site_search.SEARCH_DIR + '/', '')}"
        f"{site_search.visit_tag({}, latest, index['period'])}"
        f'<ul id="periods">{items}</ul><script>{script}</script></body></html>\n'
    )
    return page.encode("utf-8")


def render_periods(out_dir: Path, days: dict[str, str], *, kind: str, title: str, html_page: bool = True) -> list[str]:
    """The archive files of every period holding one of ``days`` (id → first-seen day) written again; an index
    of another period kind (the setting changed) renders every period. Returns the periods written.

    Each partition involved is read once, whatever the number of its periods; a period's files are finished as
    soon as the last partition it spans has been read, so memory holds one month of periods at most."""
    folder = out_dir / ARCHIVE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob(".*.tmp"):  # a killed run's temporary files; the caller holds the folder's lock
        stale.unlink(missing_ok=True)
    index = load_index(out_dir)
    wanted = {period_of(day, kind) for day in days.values()}
    if index.get("period") != kind:  # first time, or another period kind: every period from the ids files
        for old in index.get("periods", {}):
            for suffix in (".md", ".csv", ".html", ".json"):
                (folder / f"{old}{suffix}").unlink(missing_ok=True)
        index = {"period": kind, "periods": {}}
        for month in store.partitions(out_dir):
            ids = store.read_ids(store.partition_dir(out_dir) / f"{month}.ids")
            wanted |= {period_of(day, kind) for day in ids.values()}
    spans = _spans(out_dir, wanted, kind)
    order = sorted((set(index["periods"]) | wanted) - {p for p, span in spans.items() if not span})
    for period in [p for p, span in spans.items() if not span]:  # no partition holds it any more
        _finish(folder, period, None, [], index)
        del spans[period]
    months = sorted({month for span in spans.values() for month in span})
    open_writers: dict[str, tuple[TableWriter, list[dict[str, Any]]]] = {}
    try:
        for month in months:
            for period in sorted(p for p, span in spans.items() if span[0] == month):
                writer = TableWriter(
                    folder,
                    html_page=html_page,
                    title=f"{title} — {period}",
                    stem=period,
                    archive=nav(
                        index, here=period, order=order, days=_days_of_period(out_dir, spans[period], period, kind)
                    ),
                )
                open_writers[period] = (writer, [])
            for period, record in _records_in(out_dir, month, kind, set(open_writers)):
                open_writers[period][0].add(record)
                open_writers[period][1].append(_compact(record))
            for period in [p for p in open_writers if spans[p][-1] == month]:
                writer, compact = open_writers.pop(period)
                _finish(folder, period, writer, compact, index)
    except BaseException:
        for writer, _compact_rows in open_writers.values():
            writer.abort()
        raise
    index["records"] = sum(index["periods"].values())
    index["latest"] = max([str(index.get("latest") or ""), *days.values()])  # the newest first-seen day
    write_bytes_atomic(folder / "index.html", _index_page(title, index))
    write_bytes_atomic(folder / INDEX, (json.dumps(index, indent=1, sort_keys=True) + "\n").encode())
    return sorted(wanted)


def _days_of_period(out_dir: Path, span: list[str], period: str, kind: str) -> dict[str, list[str]]:
    """First-seen day → the ids of ``period`` seen that day (what the page marks as new since a visit)."""
    found: dict[str, list[str]] = {}
    for month in span:
        for key, day in store.read_ids(store.partition_dir(out_dir) / f"{month}.ids").items():
            if period_of(day, kind) == period:
                found.setdefault(day, []).append(key)
    return found


def _records_in(out_dir: Path, month: str, kind: str, periods: set[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """The records of partition ``month`` first seen in one of ``periods``, each with its period; only those are
    parsed and validated."""
    where = store.partition_dir(out_dir)
    ids = store.read_ids(where / f"{month}.ids")
    mine = {key: period for key, day in ids.items() if (period := period_of(day, kind)) in periods}
    if not mine:
        return
    for line in store.light_scan(where / f"{month}.jsonl", MergeReport()):
        found = mine.get(line.id)
        if found is not None:
            line = store.resolve(line)  # validated only when it is shown
            if line.obj is not None:
                yield found, line.obj


def _finish(folder: Path, period: str, writer: TableWriter | None, compact: list[dict[str, Any]], index: dict) -> None:
    """A period's files renamed into place, or removed when it holds no record any more."""
    if writer is None or not compact:
        if writer is not None:
            writer.abort()
        for suffix in (".md", ".csv", ".html", ".json"):
            (folder / f"{period}{suffix}").unlink(missing_ok=True)
        index["periods"].pop(period, None)
        return
    writer.close()
    write_bytes_atomic(folder / f"{period}.json", orjson.dumps(sorted(compact, key=lambda x: x["i"])) + b"\n")
    index["periods"][period] = len(compact)


def publish(
    out_dir: Path,
    upserted: write.Upsert,
    *,
    kind: str,
    title: str,
    html_page: bool,
    make_sink: Callable[[str], Sink],
    today: str = "",
) -> None:
    """After an upsert: the changed periods rendered and the site search brought up to date (`search.update`,
    only the segments of the changed days), then the digest (``upserted.digest``) as the tables, page
    and feed, through ``make_sink(period_links)``. An empty digest (a rerun with nothing fetched) leaves the
    previous digest in place: it is still the latest."""
    render_periods(out_dir, upserted.days, kind=kind, title=title, html_page=html_page)
    changed = set(upserted.days.values())
    if changed or not (out_dir / ARCHIVE_DIR / site_search.SEARCH_DIR / site_search.MANIFEST).exists():
        site_search.update(
            out_dir,
            changed,
            kind=kind,
            period=lambda day: period_of(day, kind),
            today=today or max(changed, default=""),
        )
    digest = upserted.digest
    if digest is None or not len(digest):
        return
    shown: dict[str, list[str]] = {}
    for key, day in upserted.days.items():
        shown.setdefault(day, []).append(key)
    sink = make_sink(nav(load_index(out_dir), days=shown))
    try:
        for line in digest.lines():
            sink.add(line.obj if line.obj is not None else orjson.loads(line.text))
        sink.close()
    except BaseException:
        sink.abort()
        raise
    finally:
        digest.close()
