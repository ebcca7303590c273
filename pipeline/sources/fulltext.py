"""The links a paper itself gives for its code, data, project page, demo or video (``--full-text``).

From its arXiv HTML (LaTeXML: the bibliography, navigation, headers and footers skipped) or its PDF text before the
references (pypdf); each link's kind is decided from the URL and the sentence around it (`pipeline.links.classify`).
References, licences, DOIs and organisations' homepages stay out. Pure functions of the page: `enrich` fetches and
caches.
"""

from __future__ import annotations

import io
import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

from pipeline.links import classify, extract_links
from pipeline.schema import normalise_url

FULL_TEXT_KINDS = frozenset({"code", "dataset", "project", "demo", "video"})
MAX_PDF_PAGES = 60
_NOT_THEIRS = ("creativecommons.org", "arxiv.org", "doi.org", "orcid.org", "w3.org", "latexml", "mathjax.org")


def _wanted(url: str, kind: str) -> bool:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if not host or any(host == d or host.endswith("." + d) or d in host for d in _NOT_THEIRS):
        return False
    if parts.path.strip("/") == "" and not host.endswith((".github.io", ".gitlab.io")) and kind not in ("demo",):
        return False  # an organisation's homepage, not this paper's page
    return kind in FULL_TEXT_KINDS


class _Anchors(HTMLParser):
    """Text of an arXiv (LaTeXML) HTML paper with a marker where each outbound link sits; the bibliography
    and navigation are skipped."""

    SKIP = ("ltx_bibliography", "ltx_bibitem", "ltx_page_header", "ltx_page_footer", "ltx_TOC")
    VOID = frozenset("area base br col embed hr img input link meta source track wbr".split())

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hrefs: list[str] = []
        self.stack: list[bool] = []  # per open element: does it start a skipped region?
        self.skipping = 0
        self.in_script = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.VOID:
            return
        values = dict(attrs)
        classes = values.get("class") or ""
        skip = tag in ("nav", "header", "footer") or any(name in classes for name in self.SKIP)
        if tag == "section" and "bib" in (values.get("id") or "").lower():
            skip = True
        self.stack.append(skip)
        self.skipping += skip
        if tag in ("script", "style"):
            self.in_script += 1
        if tag == "a" and not self.skipping:
            href = (values.get("href") or "").strip()
            if href.lower().startswith(("http://", "https://")):
                self.parts.append(f"\x00{len(self.hrefs)}\x00")
                self.hrefs.append(href)
        if tag in ("p", "div", "li", "section", "figcaption", "td", "h1", "h2", "h3", "h4"):
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID or not self.stack:
            return
        self.skipping -= self.stack.pop()
        if tag in ("script", "style"):
            self.in_script = max(0, self.in_script - 1)

    def handle_data(self, data: str) -> None:
        if not self.skipping and not self.in_script:
            self.parts.append(data)


def links_from_html(page: str) -> list[tuple[str, str]]:
    """(url, kind) of the code, data, project, demo and video links an arXiv HTML paper gives."""
    parser = _Anchors()
    parser.feed(page)
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


def links_from_pdf(data: bytes) -> list[tuple[str, str]]:
    """(url, kind) of the code, data, project, demo and video links a PDF's text gives, before its references."""
    try:
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError
    except ImportError as exc:  # pragma: no cover - pypdf is a dependency
        raise ValueError("reading PDFs needs pypdf") from exc
    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages[:MAX_PDF_PAGES]]
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"not a readable PDF ({exc})") from exc
    text = "\n".join(pages)
    cut = re.search(r"\n\s*(References|Bibliography|REFERENCES)\s*\n", text)
    if cut:
        text = text[: cut.start()]
    out: list[tuple[str, str]] = []
    for link in extract_links(text):
        if _wanted(link.url, link.kind):
            out.append((link.url, str(link.kind)))
    return _unique(out)


def _unique(links: list[tuple[str, str]]) -> list[tuple[str, str]]:
    seen: set[str] = set()
    out = []
    for url, kind in links:
        key = normalise_url(url)
        if key not in seen:
            seen.add(key)
            out.append((url, kind))
    return out
