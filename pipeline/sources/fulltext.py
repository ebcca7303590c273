"""The links a paper itself gives for its code, data, project page, demo or video (``--full-text``).

From its arXiv HTML (LaTeXML: the bibliography, navigation, headers and footers skipped) or its PDF text before the
references (pypdf); each link's kind is decided from the URL and the sentence around it (`pipeline.links.classify`).
References, licences, DOIs and organisations' homepages stay out. Pure functions of the page: `enrich` fetches and
caches.
"""

from __future__ import annotations

import html
import io
import re
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

from pipeline.claims import normalise_url
from pipeline.links import classify, extract_links
from pipeline.schema import MAX_LINKS

FULL_TEXT_KINDS = frozenset({"code", "dataset", "project", "demo", "video"})
MAX_PDF_PAGES = 60
MAX_PDF_BYTES = 32 * 2**20  # a PDF larger than this is not read (a paper's is a few MB)
PDF_SECONDS = 20.0  # CPU seconds one PDF's text may take; past it the paper's full text is a counted failure
MAX_HTML_CHARS = 16 * 2**20  # of an arXiv HTML page, read (a paper's links come long before)
MAX_PDF_TEXT_CHARS = 4 * 2**20  # of a PDF's extracted text, kept
MAX_PAGE_LINKS = 5000  # anchors of one page looked at; the links kept are capped per paper (`MAX_LINKS`)
_NOT_THEIRS = ("creativecommons.org", "arxiv.org", "doi.org", "orcid.org", "w3.org", "latexml", "mathjax.org")


def _wanted(url: str, kind: str) -> bool:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if not host or any(host == d or host.endswith("." + d) or d in host for d in _NOT_THEIRS):
        return False
    if parts.path.strip("/") == "" and not host.endswith((".github.io", ".gitlab.io")) and kind not in ("demo",):
        return False  # an organisation's homepage, not this paper's page
    return kind in FULL_TEXT_KINDS


class _Anchors:
    """Text of an arXiv (LaTeXML) HTML paper with a marker where each outbound link sits; the bibliography
    and navigation are skipped.

    A scanner of our own rather than ``html.parser``, which is quadratic on unclosed tags in Python 3.11 (150 KB of
    ``<a `` took minutes): every step finds the next ``<`` and either consumes a whole tag or treats the ``<`` as
    text, and a failed tag match stops at the next ``<``, so no byte is looked at more than a few times.
    """

    SKIP = ("ltx_bibliography", "ltx_bibitem", "ltx_page_header", "ltx_page_footer", "ltx_TOC")
    VOID = frozenset("area base br col embed hr img input link meta source track wbr".split())
    BLOCK = frozenset(("p", "div", "li", "section", "figcaption", "td", "h1", "h2", "h3", "h4"))
    _TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:._-]*)([^<>]*)>")
    _ATTR = re.compile(r"""([^\s=/>"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")
    _RAW_END = {tag: re.compile(rf"</{tag}\s*>", re.IGNORECASE) for tag in ("script", "style")}

    def __init__(self, max_links: int = MAX_PAGE_LINKS) -> None:
        self.parts: list[str] = []
        self.hrefs: list[str] = []
        self.stack: list[bool] = []  # per open element: does it start a skipped region?
        self.skipping = 0
        self.max_links = max_links

    def feed(self, page: str) -> None:
        pos, size = 0, len(page)
        while pos < size:
            lt = page.find("<", pos)
            if lt < 0:
                self._data(page[pos:])
                return
            if lt > pos:
                self._data(page[pos:lt])
            if page.startswith("<!--", lt):  # a comment; an unclosed one runs to the end, as in a browser
                close = page.find("-->", lt + 4)
                pos = size if close < 0 else close + 3
                continue
            if page.startswith(("<!", "<?"), lt):  # a doctype or processing instruction
                close = page.find(">", lt)
                pos = size if close < 0 else close + 1
                continue
            match = self._TAG.match(page, lt)
            if match is None:
                self._data("<")
                pos = lt + 1
                continue
            pos = match.end()
            closing, tag, attrs = match.group(1), match.group(2).lower(), match.group(3)
            if closing:
                self._end(tag)
                continue
            self._start(tag, attrs)
            if tag in self._RAW_END and not attrs.rstrip().endswith("/"):  # script/style text is never read
                found = self._RAW_END[tag].search(page, pos)
                pos = size if found is None else found.end()
                self._end(tag)

    def _attributes(self, raw: str) -> dict[str, str]:
        values: dict[str, str] = {}
        for match in self._ATTR.finditer(raw):
            name = match.group(1).lower()
            if name not in values:
                value = match.group(2) if match.group(2) is not None else match.group(3) or match.group(4) or ""
                values[name] = html.unescape(value)
        return values

    def _start(self, tag: str, raw: str) -> None:
        if tag in self.VOID:
            return
        values = self._attributes(raw) if raw.strip() else {}
        classes = values.get("class") or ""
        skip = tag in ("nav", "header", "footer") or any(name in classes for name in self.SKIP)
        if tag == "section" and "bib" in (values.get("id") or "").lower():
            skip = True
        self.stack.append(skip)
        self.skipping += skip
        if tag == "a" and not self.skipping and len(self.hrefs) < self.max_links:
            href = (values.get("href") or "").strip()
            if href.lower().startswith(("http://", "https://")):
                self.parts.append(f"\x00{len(self.hrefs)}\x00")
                self.hrefs.append(href)
        if tag in self.BLOCK:
            self.parts.append("\n")

    def _end(self, tag: str) -> None:
        if tag in self.VOID or not self.stack:
            return
        self.skipping -= self.stack.pop()

    def _data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(html.unescape(data.replace("\x00", "")))

    def close(self) -> None:
        return None


def links_from_html(page: str) -> list[tuple[str, str]]:
    """(url, kind) of the code, data, project, demo and video links an arXiv HTML paper gives."""
    parser = _Anchors()
    parser.feed(page[:MAX_HTML_CHARS])
    parser.close()
    text = "".join(parser.parts)
    out: list[tuple[str, str]] = []
    for match in re.finditer(r"\x00(\d+)\x00", text):
        url = parser.hrefs[int(match.group(1))]
        before = re.sub(r"\x00\d+\x00", " ", text[max(0, match.start() - 200) : match.start()])
        after = re.sub(r"\x00\d+\x00", " ", text[match.end() : match.end() + 80])
        sentence_start = max(before.rfind(". "), before.rfind("\n"))
        context = before[sentence_start + 1 :] + " " + after.split(". ")[0]
        kind = classify(url, context)
        if _wanted(url, kind):
            out.append((url, kind))
    return _unique(out)


class _OverBudget(BaseException):
    """Raised by the alarm inside pypdf: a BaseException, so no ``except Exception`` of pypdf's swallows it."""


@contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    """Interrupt the block after ``seconds`` of wall time (main thread on POSIX only; elsewhere the budget is
    checked between pages)."""
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable or signal.getsignal(signal.SIGALRM) not in (signal.SIG_DFL, signal.SIG_IGN, None):
        yield
        return

    def ring(signum: int, frame: object) -> None:
        raise _OverBudget

    previous = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def pdf_text(
    data: bytes, *, seconds: float = PDF_SECONDS, max_pages: int = MAX_PDF_PAGES, max_bytes: int = MAX_PDF_BYTES
) -> str:
    """The text of a PDF's first ``max_pages`` pages, within a budget of bytes, pages and seconds. A PDF that is
    over budget or that pypdf cannot read (any of its errors, ``LimitReachedError`` included) is a ValueError: a
    counted failure for that paper, never the run's end."""
    if len(data) > max_bytes:
        raise ValueError(f"the PDF is {len(data) / 2**20:.0f} MB, over the {max_bytes / 2**20:.0f} MB budget")
    try:
        from pypdf import PdfReader
    except ImportError as exc:  # pragma: no cover - pypdf is a dependency
        raise ValueError("reading PDFs needs pypdf") from exc
    deadline = time.monotonic() + seconds
    pages: list[str] = []
    size = 0
    try:
        with _alarm(seconds):
            reader = PdfReader(io.BytesIO(data))
            for number, page in enumerate(reader.pages):
                if number >= max_pages or size > MAX_PDF_TEXT_CHARS:
                    break
                if time.monotonic() > deadline:
                    raise _OverBudget
                text = (page.extract_text() or "")[:MAX_PDF_TEXT_CHARS]
                size += len(text)
                pages.append(text)
    except _OverBudget:
        raise ValueError(f"reading the PDF took over its {seconds:g} s budget ({len(pages)} pages read)") from None
    except Exception as exc:  # pypdf raises many kinds (LimitReachedError, RecursionError, KeyError, ...)
        raise ValueError(f"not a readable PDF ({type(exc).__name__}: {str(exc)[:200]})") from exc
    return "\n".join(pages)


def links_from_pdf(data: bytes, *, seconds: float = PDF_SECONDS) -> list[tuple[str, str]]:
    """(url, kind) of the code, data, project, demo and video links a PDF's text gives, before its references."""
    text = pdf_text(data, seconds=seconds)
    cut = re.search(r"\n\s*(References|Bibliography|REFERENCES)\s*\n", text)
    if cut:
        text = text[: cut.start()]
    out: list[tuple[str, str]] = []
    for link in extract_links(text):
        if _wanted(link.url, link.kind):
            out.append((link.url, str(link.kind)))
    return _unique(out)


def _unique(links: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Each URL once (by key), at most `MAX_LINKS` of them."""
    seen: set[str] = set()
    out = []
    for url, kind in links:
        key = normalise_url(url)
        if key not in seen:
            seen.add(key)
            out.append((url, kind))
            if len(out) >= MAX_LINKS:
                break
    return out


_XLINK_HREF = "{http://www.w3.org/1999/xlink}href"


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def links_from_jats(data: bytes) -> list[tuple[str, str]]:
    """(url, kind) of the links a JATS XML article (bioRxiv's full text) gives in its body: each ``ext-link`` or
    ``uri`` read like an HTML anchor with the sentence around it; the reference list is left out."""
    import xml.etree.ElementTree as ET  # expat: no external entities, bounded expansion

    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise ValueError(f"not JATS XML ({exc})") from exc
    body = next((el for el in root.iter() if _local(el.tag) == "body"), root)
    parts: list[str] = []
    stack: list[tuple[ET.Element, bool]] = [(body, False)]
    while stack:  # iterative: a deeply nested file cannot exhaust the stack
        element, closing = stack.pop()
        tag = _local(element.tag)
        href = element.get(_XLINK_HREF) if tag in ("ext-link", "uri") else None
        if closing:
            parts.append("</a>" if href else "</p>" if tag == "p" else "")
            if element.tail:
                parts.append(html.escape(element.tail))
            continue
        if tag in ("ref-list", "back", "ref"):
            if element.tail:
                parts.append(html.escape(element.tail))
            continue
        parts.append(f'<a href="{html.escape(href)}">' if href else "<p>" if tag == "p" else "")
        if element.text:
            parts.append(html.escape(element.text))
        stack.append((element, True))
        stack.extend((child, False) for child in reversed(list(element)))
    return links_from_html("".join(parts))
