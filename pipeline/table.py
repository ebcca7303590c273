"""The comparison table, one row per corpus record: Markdown, CSV and a self-contained HTML page."""

from __future__ import annotations

import base64
import contextlib
import csv
import hashlib
import html
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from pipeline.corpus.lines import Line
from pipeline.corpus.spool import Spool
from pipeline.files import temp_beside

_CELL_LIMIT = 300


@dataclass(frozen=True)
class Row:
    id: str
    title: str
    url: str | None
    tldr: str
    problem: str
    method: str
    key_result: str
    code: str | None
    links: tuple[tuple[str, str], ...]
    scores: str = ""  # the paper's own scores, "85.3% top-1 accuracy on ImageNet-1K; …"


def _safe_url(url: str | None) -> str | None:
    """Only http(s) URLs become links: never javascript: or data:."""
    if not url or not url.lower().startswith(("http://", "https://")):
        return None
    if any(not ch.isprintable() or ch.isspace() for ch in url):
        return None  # a URL with a newline or control character is not a URL: shown nowhere
    return url


def _short(text: str, limit: int = _CELL_LIMIT) -> str:
    text = " ".join(text[: limit * 2].split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def to_row(record: dict[str, Any]) -> Row:
    links = tuple((str(x.get("kind", "other")), str(x.get("url", ""))) for x in record.get("links") or [])
    code = next((u for k, u in links if k == "code"), None)
    url = record.get("url") or next((u for k, u in links if k in ("paper", "project")), None)
    results = record.get("results") or [""]
    return Row(
        id=str(record["id"]),
        title=str(record.get("title", "")),
        url=_safe_url(url),
        tldr=str(record.get("tldr", "")),
        problem=str(record.get("problem", "")),
        method=str(record.get("method", "")),
        key_result=str(results[0]),
        code=_safe_url(code),
        links=tuple((k, u) for k, u in links if _safe_url(u)),
        scores=scores_text(record),
    )


def _own_scores(record: dict[str, Any]) -> list[dict[str, Any]]:
    """The record's own scores (``scores``, schema v3) that name a value; a baseline's are not the paper's."""
    found = record.get("scores")
    return [
        s
        for s in (found if isinstance(found, list) else [])
        if isinstance(s, dict) and s.get("own") is True and isinstance(s.get("value"), str) and s["value"].strip()
    ]


def _name(value: object) -> str:
    return " ".join(value.split()) if isinstance(value, str) else ""


def scores_text(record: dict[str, Any]) -> str:
    """The scores column of comparison.md/.csv: each own score as written, its metric and dataset; a change over
    something else marked Δ, with what it is over ("Δ +4.5 BLEU on WMT14 vs the baseline")."""
    parts = []
    for s in _own_scores(record):
        delta = s.get("kind") == "delta"
        text = " ".join(x for x in ("Δ" if delta else "", _name(s["value"]), _name(s.get("metric"))) if x)
        if _name(s.get("dataset")):
            text += " on " + _name(s.get("dataset"))
        if delta and _name(s.get("relative_to")):
            text += " vs " + _name(s.get("relative_to"))
        parts.append(text)
    return "; ".join(parts)


def page_scores(record: dict[str, Any], names: Any = None) -> list[list[Any]]:
    """The page's Scores view of one record: per own score [value, metric, dataset, board key, better, number,
    kind]; the board key (`pipeline.leaderboard.names.Names.board_key`) only where a leaderboard can rank it
    (absolute, a finite number, dataset and metric named), else ""; better is "lower" or "higher"."""
    import math

    from pipeline.leaderboard.names import Names

    names = names if names is not None else Names.default()
    out: list[list[Any]] = []
    for s in _own_scores(record)[:50]:
        metric, dataset = _name(s.get("metric"))[:200], _name(s.get("dataset"))[:200]
        number = s.get("number")
        finite = isinstance(number, int | float) and not isinstance(number, bool) and math.isfinite(number)
        kind = "delta" if s.get("kind") == "delta" else "absolute"
        ranked = finite and kind == "absolute" and metric and dataset
        key = names.board_key(dataset, metric, _name(s.get("unit"))) if ranked else ""
        better = names.direction(metric) if metric else "higher"
        out.append([_name(s["value"])[:40], metric, dataset, key, better, number if finite else None, kind])
    return out


_MD_ESCAPES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), *((c, "\\" + c) for c in "\\|[]*_`"))


def md_cell(text: str) -> str:
    """A Markdown table cell (whitespace already normalised): no pipe, bracket or raw HTML breaks out of it."""
    for char, escaped in _MD_ESCAPES:
        if char in text:
            text = text.replace(char, escaped)
    return text


_URL_UNSAFE = {
    " ": "%20",
    "(": "%28",
    ")": "%29",
    "|": "%7C",
    "<": "%3C",
    ">": "%3E",
    "[": "%5B",
    "]": "%5D",
    '"': "%22",
    "`": "%60",
    "\\": "%5C",
    "*": "%2A",
    "_": "%5F",
}


def _md_url(url: str) -> str:
    """A URL inside Markdown link parentheses: percent-encode everything that could end or restyle it."""
    url = "".join(ch for ch in url if ch.isprintable() and not ch.isspace())
    return "".join(_URL_UNSAFE.get(ch, ch) for ch in url)


def _csv_cell(text: str) -> str:
    """Spreadsheets run cells that start with = + - @ as formulas: quote those."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


NOT_STATED = "not stated"  # an empty problem cell: the engine found no gap stated with confidence


def _md_line(r: Row) -> str:
    title = md_cell(_short(r.title, 200))
    title = f"[{title}]({_md_url(r.url)})" if r.url else title
    code = f"[code]({_md_url(r.code)})" if r.code else ""
    problem = md_cell(_short(r.problem)) if r.problem else NOT_STATED
    texts = (r.method, r.key_result)
    cells = (title, md_cell(_short(r.tldr)), problem, *(md_cell(_short(text)) for text in texts), code)
    cells += (md_cell(_short(r.scores)),)
    return "| " + " | ".join(cells) + " |\n"


def page_record(record: dict[str, Any], names: Any = None) -> dict[str, Any]:
    """What comparison.html needs of one record, in short keys (the page of 10,000 papers stays small); ``names``:
    the leaderboard's names (`pipeline.leaderboard.names.Names`, the built-in ones when None)."""
    from pipeline.extractive.text import split_sentences

    def texts(key: str) -> list[str]:
        value = record.get(key) or []
        return [str(x) for x in value] if isinstance(value, list) else []

    links = []
    for item in record.get("links") or []:
        url = _safe_url(str(item.get("url", ""))) if isinstance(item, dict) else None
        if url:
            links.append([str(item.get("kind", "other")), url])
    evidence = record.get("evidence") or {}
    marks: dict[str, list[int]] = {}
    for field in ("tldr", "problem", "method"):
        marks[field] = [i for i in evidence.get(field) or [] if isinstance(i, int)]
    marks["results"] = [i for group in evidence.get("results") or [] for i in group if isinstance(i, int)]
    meta = record.get("source_meta") or {}
    upvotes = meta.get("upvotes") if isinstance(meta, dict) else None
    published = str(record.get("published") or "")[:10]
    position = meta.get("position") if isinstance(meta, dict) else None
    return {
        "i": str(record["id"]),
        "t": str(record.get("title", "")),
        "u": _safe_url(record.get("url")) or next((u for k, u in links if k in ("paper", "project")), None),
        "d": published,
        "v": upvotes if isinstance(upvotes, int) and not isinstance(upvotes, bool) else None,
        "q": position if isinstance(position, int) and not isinstance(position, bool) else None,
        "l": str(record.get("tldr", "")),
        "p": str(record.get("problem", "")),
        "m": str(record.get("method", "")),
        "r": texts("results"),
        "k": texts("tasks"),
        "s": texts("datasets"),
        "x": texts("metrics"),
        "n": links,
        "a": split_sentences(str(record.get("abstract", "")))[:400],
        "e": marks,
        "sc": page_scores(record, names),
    }


_JSON_IN_HTML = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def json_for_html(value: Any) -> str:
    """JSON that cannot end the <script> element holding it or be read as markup."""
    text = orjson.dumps(value).decode()
    for char, escaped in _JSON_IN_HTML.items():
        if char in text:
            text = text.replace(char, escaped)
    return text


_HERE = Path(__file__).parent


def _csp_hash(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


def search_script() -> str:
    """The site search and "new since your last visit" script (page_search.js) of the archive's pages."""
    return (_HERE / "page_search.js").read_text(encoding="utf-8")


def script_hash(text: str) -> str:
    return _csp_hash(text)


def page_parts(title: str, archive: str = "") -> tuple[str, str]:
    """The page before and after its data: inline style and script allowed by hash, nothing else. ``archive``: the
    links to earlier periods (HTML built from escaped text by `pipeline.archive.publish`), or nothing."""
    style = (_HERE / "page.css").read_text(encoding="utf-8")
    script = (_HERE / "page.js").read_text(encoding="utf-8")
    page = (_HERE / "page.html").read_text(encoding="utf-8")
    values = {
        "style_hash": _csp_hash(style),
        "script_hash": _csp_hash(script),
        "style": style,
        "script": script,
        "title": html.escape(title),
        "archive": archive,
    }
    if archive:  # a page of the archive: its search fetches the index from this site, nothing else
        search = search_script()
        values.update(search_hash=f" '{_csp_hash(search)}'", connect=" connect-src 'self';")
        values["search_script"] = f"<script>{search}</script>"
    # Split at the template's own {{data}} first, then fill every placeholder in one pass over the template: text
    # put in (a title holding "{{data}}" or "{{script}}") is never searched for placeholders again.
    head, _, tail = page.partition("{{data}}")
    fill = re.compile(r"\{\{(\w+)\}\}")
    optional = {"search_hash", "connect", "search_script"}  # empty on a page outside an archive
    return tuple(
        fill.sub(lambda m: values.get(m.group(1), "" if m.group(1) in optional else m.group(0)), part)
        for part in (head, tail)
    )  # type: ignore[return-value]


def source_order(record: dict[str, Any]) -> str:
    """The default row order: the source's (``source_meta.position``, a listing's trending rank), then by id;
    records without a position (an older corpus) after those with one."""
    meta = record.get("source_meta") or {}
    position = meta.get("position") if isinstance(meta, dict) else None
    if isinstance(position, int) and not isinstance(position, bool) and 0 <= position < 10**12:
        return f"0{position:012d}\x00{record['id']}"
    return f"1{record['id']}"


# After the title (and a reader's score and why): Markdown reads the tldr first; the CSV adds it last, so the
# columns a spreadsheet already reads keep their places (and `summarize export` has it last too).
_MD_COLUMNS = ("tldr", "Problem", "Method", "Key result", "Code", "Scores")
_CSV_COLUMNS = ("url", "problem", "method", "key_result", "code", "scores", "tldr")


class TableWriter:
    """Writes comparison.md, .csv and .html (temporary files, renamed on success), rows in ``order``.

    Records are sorted through a spool (`pipeline.corpus.spool.Spool`: sorted runs on disk past a bound), so a
    million-record corpus never sits in memory. ``order`` maps a record to its sort key (text); the default is
    the source's order (`source_order`).
    """

    def __init__(
        self,
        out_dir: Path,
        *,
        html_page: bool = True,
        title: str = "Paper comparison",
        order: Callable[[dict[str, Any]], str] = source_order,
        ranking: Any = None,
        stem: str = "comparison",
        archive: str = "",
        names: Any = None,
    ) -> None:
        self.out_dir = out_dir
        self.stem, self.archive = stem, archive  # file names (archive/2026-03-12.*) and the page's period links
        self.html_page = html_page
        self.title = title
        # a reader's ranking (pipeline.rank.render.CorpusRanking): rows in relevance order, a score and a why
        self.ranking = ranking
        self.names = names  # the leaderboard's names ([leaderboard] synonyms, directions) for the Scores view
        self.order = ranking.order if ranking is not None else order
        self._open()

    def _open(self) -> None:
        out_dir, html_page, title = self.out_dir, self.html_page, self.title
        self.count = 0
        self._rows = Spool(out_dir)
        stem = self.stem
        names = [f"{stem}.md", f"{stem}.csv"] + ([f"{stem}.html"] if html_page else [])
        self._files: dict[str, tuple[Path, Any]] = {}
        for name in names:
            self._files[name] = temp_beside(out_dir / name)
        self._md = self._files[f"{stem}.md"][1]
        self._csv = csv.writer(self._files[f"{stem}.csv"][1], lineterminator="\n")
        self._html = self._files[f"{stem}.html"][1] if html_page else None
        if self.ranking is not None:
            md_head, csv_head = ["Score", "Title", "Why", *_MD_COLUMNS], ["id", "title", "score", "why", *_CSV_COLUMNS]
        else:
            md_head, csv_head = ["Title", *_MD_COLUMNS], ["id", "title", *_CSV_COLUMNS]
        self._md.write("| " + " | ".join(md_head) + " |\n" + "|---" * len(md_head) + "|\n")
        self._csv.writerow(csv_head)
        head, self._tail = page_parts(title, self.archive)
        if self._html:
            self._html.write(head + "[")

    def add(self, record: dict[str, Any]) -> None:
        self._rows.add(Line(self.order(record), orjson.dumps(record).decode(), None, None))

    def _write(self, record: dict[str, Any]) -> None:
        r = to_row(record)
        self.count += 1
        place = self.ranking.places.get(r.id) if self.ranking is not None else None
        if self.ranking is not None:
            score, why = (f"{place['score']:.1f}", place["why"]) if place else ("", "")
            line = _md_line(r)
            title_cell, _, rest = line[2:].partition(" | ")
            self._md.write(f"| {score} | {title_cell} | {md_cell(why)} | {rest}")
            whole = "; ".join(place["reasons"]) if place else ""  # a CSV holds the whole value, never a "…"
            cells: tuple[str, ...] = (r.id, r.title, score, whole, r.url or "", r.problem, r.method, r.key_result)
            cells += (r.code or "", r.scores, r.tldr)
        else:
            self._md.write(_md_line(r))
            cells = (r.id, r.title, r.url or "", r.problem, r.method, r.key_result, r.code or "", r.scores, r.tldr)
        self._csv.writerow([_csv_cell(" ".join(c.split())) for c in cells])
        if self._html:
            data = page_record(record, self.names)
            if place:  # the page's "for you" order, its reasons and the relevance facet
                data.update({"y": place["score"], "o": place["position"], "w": place["reasons"]})
            self._html.write(("," if self.count > 1 else "") + json_for_html(data))

    def close(self) -> None:
        """Finish every file first, then rename them all: a failure leaves the previous tables in place."""
        try:
            for line in self._rows.lines(keep="first"):
                self._write(line.obj if line.obj is not None else orjson.loads(line.text))
        finally:
            self._rows.close()
        if self._html:
            self._html.write("]" + self._tail)
        for _tmp, fh in self._files.values():
            fh.flush()
            os.fsync(fh.fileno())
            fh.close()
        for name, (tmp, _fh) in self._files.items():
            os.replace(tmp, self.out_dir / name)

    def abort(self) -> None:
        self._rows.close()
        for tmp, fh in self._files.values():
            with contextlib.suppress(OSError):
                fh.close()
            tmp.unlink(missing_ok=True)

    def restart(self) -> None:
        self.abort()
        self._open()
