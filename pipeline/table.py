"""The comparison table, one row per corpus record: Markdown, CSV and a self-contained HTML page."""

from __future__ import annotations

import csv
import html
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_CELL_LIMIT = 300


@dataclass(frozen=True)
class Row:
    id: str
    title: str
    url: str | None
    problem: str
    method: str
    key_result: str
    code: str | None
    links: tuple[tuple[str, str], ...]


def _safe_url(url: str | None) -> str | None:
    """Only http(s) URLs become links: never javascript: or data:."""
    return url if url and url.lower().startswith(("http://", "https://")) else None


def _short(text: str, limit: int = _CELL_LIMIT) -> str:
    text = " ".join(text.split())
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
        problem=str(record.get("problem", "")),
        method=str(record.get("method", "")),
        key_result=str(results[0]),
        code=_safe_url(code),
        links=tuple((k, u) for k, u in links if _safe_url(u)),
    )


def _md(text: str) -> str:
    """A Markdown table cell: no pipe, bracket or raw HTML can break out of it."""
    text = html.escape(" ".join(text.split()), quote=False)
    for char in "\\|[]*_`":
        text = text.replace(char, "\\" + char)
    return text


def _md_url(url: str) -> str:
    return url.replace(" ", "%20").replace("(", "%28").replace(")", "%29").replace("|", "%7C")


def _atomic_write(path: Path, write: Any) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            write(fh)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_markdown(rows: list[Row], path: Path) -> None:
    def write(fh: Any) -> None:
        fh.write("| Title | Problem | Method | Key result | Code |\n|---|---|---|---|---|\n")
        for r in rows:
            title = _md(_short(r.title, 200))
            title = f"[{title}]({_md_url(r.url)})" if r.url else title
            code = f"[code]({_md_url(r.code)})" if r.code else ""
            cells = (title, _md(_short(r.problem)), _md(_short(r.method)), _md(_short(r.key_result)), code)
            fh.write("| " + " | ".join(cells) + " |\n")

    _atomic_write(path, write)


def _csv_cell(text: str) -> str:
    """Spreadsheets run cells that start with = + - @ as formulas: quote those."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def write_csv(rows: list[Row], path: Path) -> None:
    def write(fh: Any) -> None:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(["id", "title", "url", "problem", "method", "key_result", "code"])
        for r in rows:
            cells = (r.id, r.title, r.url or "", r.problem, r.method, r.key_result, r.code or "")
            out.writerow([_csv_cell(" ".join(c.split())) for c in cells])

    _atomic_write(path, write)


_PAGE = Path(__file__).with_name("page.html")


def write_html(rows: list[Row], path: Path, *, title: str = "Paper comparison") -> None:
    e = html.escape
    body = []
    for r in rows:
        name = f'<a href="{e(r.url)}">{e(r.title)}</a>' if r.url else e(r.title)
        links = " ".join(f'<a href="{e(u)}" data-kind="{e(k)}">{e(k)}</a>' for k, u in r.links)
        body.append(
            f'<tr data-id="{e(r.id)}"><td>{name}</td><td>{e(r.problem)}</td><td>{e(r.method)}</td>'
            f"<td>{e(r.key_result)}</td><td>{links}</td></tr>"
        )
    page = (
        _PAGE.read_text(encoding="utf-8")
        .replace("{{title}}", e(title))
        .replace("{{count}}", str(len(rows)))
        .replace("{{rows}}", "\n".join(body))
    )
    _atomic_write(path, lambda fh: fh.write(page))


def write_tables(records: Iterable[dict[str, Any]], out_dir: Path, *, html_page: bool = True) -> int:
    """Write comparison.md, comparison.csv (and comparison.html); returns the row count."""
    rows = [to_row(r) for r in records]
    write_markdown(rows, out_dir / "comparison.md")
    write_csv(rows, out_dir / "comparison.csv")
    if html_page:
        write_html(rows, out_dir / "comparison.html")
    return len(rows)
