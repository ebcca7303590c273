"""Stand-ins for the Hub's paper search and pages, the arXiv API, and arXiv's HTML and PDF papers."""

from __future__ import annotations

import json
import re

from fake_sources import FakeSources, atom

from pipeline.sources.identity import title_key


def tiny_pdf(lines: list[str]) -> bytes:
    """A valid one-page PDF whose text is ``lines`` (Helvetica), built by hand with a correct xref table."""
    body = (
        "BT /F1 11 Tf 72 720 Td 14 TL "
        + " ".join("(" + line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ") '" for line in lines)
        + " ET"
    )
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> "
        "/Contents 5 0 R >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        f"<< /Length {len(body)} >>\nstream\n{body}\nendstream",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{obj}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


PAPER_HTML = """<!DOCTYPE html><html><head><title>x</title></head><body>
<nav class="ltx_page_header"><a href="https://arxiv.org/abs/{pid}">arXiv</a></nav>
<article class="ltx_document"><div class="ltx_abstract"><p>We study things.
Our code is available at <a href="https://github.com/lab/{slug}">https://github.com/lab/{slug}</a>.
The dataset can be downloaded from <a href="https://zenodo.org/records/{n}">here</a>.
See the project page <a href="https://lab.github.io/{slug}/">lab.github.io/{slug}</a> for videos.</p></div>
<section class="ltx_section"><p>We thank <a href="https://www.google.com/">Google</a> for compute.
Models are compared as in prior work <a href="https://arxiv.org/abs/1706.03762">[3]</a>.</p></section>
<section id="bib" class="ltx_bibliography"><ul class="ltx_biblist"><li class="ltx_bibitem">
A. Author. Code at <a href="https://github.com/other/reference-code">github.com/other/reference-code</a>.
</li></ul></section></article></body></html>"""


class Scholar(FakeSources):
    """One stand-in server for the Hub (search, paper pages) and arXiv (API, HTML, PDF)."""

    def __init__(
        self,
        papers: dict[str, str],
        *,
        hub_unknown: set[str] = frozenset(),
        search_misses: set[str] = frozenset(),
        decoys: dict[str, list[str]] | None = None,
        html_missing: set[str] = frozenset(),
        no_links: set[str] = frozenset(),
        throttle_first: bool = False,
    ) -> None:
        """``papers``: arXiv id → title. Titles in ``search_misses`` are not found by the Hub's search; ``decoys``
        maps a title to near-match titles both services return instead of it."""
        self.papers = papers
        self.by_key = {title_key(t): pid for pid, t in papers.items()}
        self.hub_unknown = hub_unknown
        self.search_misses = search_misses
        self.decoys = decoys or {}
        self.html_missing = html_missing
        self.no_links = no_links
        self.throttle_first = throttle_first
        super().__init__(self.handle)

    def _entries(self, pids: list[str]) -> list[tuple[str, str, str]]:
        return [(f"{pid}v2", self.papers[pid], "We study it.") for pid in pids if pid in self.papers]

    def handle(self, path: str, query: dict, n: int):  # noqa: C901 - one stand-in, one dispatcher
        if path == "/api/papers/search":
            if self.throttle_first and n == 1:
                return 429, {"retry-after": "1"}, "", 0.0
            q = query["q"][0]
            if q in self.decoys:
                items = [{"paper": {"id": f"2699.{i:05d}", "title": t}} for i, t in enumerate(self.decoys[q])]
                return 200, {}, json.dumps(items), 0.0
            pid = self.by_key.get(title_key(q))
            if pid is None or q in self.search_misses:
                return 200, {}, "[]", 0.0
            return 200, {}, json.dumps([{"paper": {"id": pid, "title": self.papers[pid], "upvotes": 3}}]), 0.0
        if path.startswith("/api/papers/"):
            pid = path.rsplit("/", 1)[1]
            if pid not in self.papers or pid in self.hub_unknown:
                return 404, {}, json.dumps({"error": "Paper not found"}), 0.0
            slug = re.sub(r"\W+", "-", self.papers[pid].lower())[:30].strip("-")
            record = {
                "id": pid,
                "title": self.papers[pid],
                "upvotes": 7,
                "githubStars": 40,
                "githubRepo": f"https://github.com/hub/{slug}",
                "ai_keywords": ["kw"],
            }
            return 200, {}, json.dumps(record), 0.0
        if path == "/api/query":
            if "id_list" in query:
                pids = query["id_list"][0].split(",")
                return 200, {}, atom(self._entries(pids)), 0.0
            phrases = re.findall(r'ti:"([^"]*)"', query["search_query"][0])
            entries = []
            for phrase in phrases:
                for original, decoys in self.decoys.items():
                    if title_key(original) == title_key(phrase):
                        entries += [(f"2698.{i:05d}v1", t, "Decoy.") for i, t in enumerate(decoys)]
                pid = self.by_key.get(title_key(phrase))
                if pid:
                    entries += self._entries([pid])
            return 200, {}, atom(entries), 0.0
        if path.startswith("/html/"):
            tag = path.rsplit("/", 1)[1]
            pid = tag.split("v")[0]
            if pid in self.html_missing:
                return 404, {}, "Not found", 0.0
            if pid in self.no_links:
                return 200, {"content-type": "text/html"}, "<html><body><p>No links here.</p></body></html>", 0.0
            slug = pid.replace(".", "-")
            return 200, {"content-type": "text/html"}, PAPER_HTML.format(pid=pid, slug=slug, n=pid[-4:]), 0.0
        if path.startswith("/pdf/"):
            pid = path.rsplit("/", 1)[1].split("v")[0]
            return 200, {"content-type": "application/pdf"}, pdf_response(pid), 0.0
        return 404, {}, "", 0.0


def pdf_response(pid: str) -> bytes:
    return tiny_pdf(
        [
            f"Paper {pid}. Our implementation is at https://github.com/pdf/{pid.replace('.', '-')}.",
            "We thank https://www.nvidia.com/ for GPUs.",
            "References",
            "[1] Some work. Code: https://github.com/ref/ignored.",
        ]
    )
