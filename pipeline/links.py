"""Deterministic link extraction, shared by every engine.

Finds http(s) URLs and scheme-less ones (``github.com/x/y``, ``youtu.be/...``), strips the sentence
punctuation that follows a URL in prose, and names what each points to from its host, path and the words
just before it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from pipeline.claims import normalise_url
from pipeline.schema import MAX_LINKS, Link

_TLDS = r"(?:com|org|io|be|net|ai|edu|dev|app|co|page|site|me|info|ly|gl|gg)"
_URL = re.compile(
    r"(?:https?://|www\.)[^\s<>\"'`]+"  # with a scheme (or www.)
    rf"|(?<![\w@./-])(?:[a-z0-9][a-z0-9-]*\.)+{_TLDS}/[^\s<>\"'`]*",  # scheme-less, needs a path
    re.IGNORECASE,
)
_TRAILING = ".,;:!?'\"*"
_PAIRS = {")": "(", "]": "[", "}": "{"}

_CODE_HOSTS = ("github.com", "gitlab.com", "bitbucket.org", "codeberg.org", "sourceforge.net")
_VIDEO_HOSTS = ("youtube.com", "youtu.be", "vimeo.com", "bilibili.com")
_PAPER_HOSTS = (
    "arxiv.org",
    "doi.org",
    "dx.doi.org",
    "openreview.net",
    "aclanthology.org",
    "semanticscholar.org",
    "dl.acm.org",
    "ieeexplore.ieee.org",
    "proceedings.neurips.cc",
    "papers.nips.cc",
    "proceedings.mlr.press",
    "openaccess.thecvf.com",
    "link.springer.com",
    "sciencedirect.com",
    "nature.com",
    "science.org",
    "pnas.org",
    "biorxiv.org",
    "medrxiv.org",
    "jmlr.org",
    "ojs.aaai.org",
    "ijcai.org",
    "pubmed.ncbi.nlm.nih.gov",
    "ncbi.nlm.nih.gov",
)
_DATASET_HOSTS = ("zenodo.org", "kaggle.com", "figshare.com", "dataverse.harvard.edu", "data.mendeley.com", "osf.io")
_DEMO_HOSTS = ("colab.research.google.com", "streamlit.app", "gradio.live", "replicate.com")
# A DOI anywhere in the path (publisher pages: /doi/10.1145/…, /article/10.1007/…) names a paper.
_DOI_PATH = re.compile(r"/(?:doi/(?:abs/|full/|pdf/)?)?10\.\d{4,9}/")
# The words before a URL that say what it is, nearest first wins ("our code and data: <url>" → data).
_CONTEXT_WORDS = (
    ("demo", "demo"),
    ("try it", "demo"),
    ("playground", "demo"),
    ("video", "video"),
    ("dataset", "dataset"),
    ("data ", "dataset"),
    ("data:", "dataset"),
    ("corpus", "dataset"),
    ("benchmark", "dataset"),
    ("annotations", "dataset"),
    ("project page", "project"),
    ("project website", "project"),
    ("website", "project"),
    ("homepage", "project"),
    ("webpage", "project"),
    ("project", "project"),
    ("code", "code"),
    ("implementation", "code"),
    ("source", "code"),
    ("repository", "code"),
    ("toolkit", "code"),
    ("library", "code"),
    ("package", "code"),
    ("paper", "paper"),
    ("preprint", "paper"),
    ("full version", "paper"),
    ("appendix", "paper"),
)


def _clean(raw: str) -> str:
    """``raw`` less the prose punctuation after it: a closing bracket goes only when the URL holds more of it
    than of its opening one. Counted once and updated as characters go, so a flood of ")" costs linear time."""
    closing = {c: raw.count(c) for c in _PAIRS}
    opening = {c: raw.count(c) for c in _PAIRS.values()}
    end = len(raw)
    while end:
        last = raw[end - 1]
        if last in _TRAILING:
            end -= 1
        elif last in _PAIRS and closing[last] > opening[_PAIRS[last]]:
            closing[last] -= 1
            end -= 1
        else:
            break
    return raw[:end]


def _host_matches(host: str, domains: Iterable[str]) -> bool:
    return any(host == d or host.endswith("." + d) for d in domains)


def classify(url: str, before: str = "") -> str:
    """The link kind from host and path, then from the words just before it in the text."""
    parts = urlsplit(url if "://" in url else "https://" + url)
    host = (parts.hostname or "").lower().removeprefix("www.")
    path = parts.path.lower()
    if host.endswith((".github.io", ".gitlab.io", ".pages.dev", ".netlify.app", ".vercel.app")):
        return "project"
    if _host_matches(host, _CODE_HOSTS):
        return "code"
    if _host_matches(host, _VIDEO_HOSTS):
        return "video"
    if _host_matches(host, ("huggingface.co", "hf.co")):
        if path.startswith("/datasets/"):
            return "dataset"
        if path.startswith("/spaces/"):
            return "demo"
        if path.startswith("/papers/"):
            return "paper"
        return "other"
    if _host_matches(host, _PAPER_HOSTS) or path.endswith(".pdf") or _DOI_PATH.search(path):
        return "paper"
    if _host_matches(host, _DATASET_HOSTS):
        return "dataset"
    if _host_matches(host, _DEMO_HOSTS):
        return "demo"
    context = before[-80:].lower()
    nearest = max(((context.rfind(word), kind) for word, kind in _CONTEXT_WORDS), default=(-1, "other"))
    return nearest[1] if nearest[0] >= 0 else "other"


def extract_links(text: str, limit: int = MAX_LINKS) -> list[Link]:
    """Every URL of ``text`` exactly once, cleaned, in order of appearance; the first ``limit`` of them (a text of
    20,000 URLs is a flood, not a paper's links)."""
    links: list[Link] = []
    seen: set[str] = set()
    for match in _URL.finditer(text):
        if len(links) >= limit:
            break
        url = _clean(match.group(0))
        if not url.lower().startswith(("http://", "https://")):
            url = "https://" + url
        host = urlsplit(url).hostname or ""
        if "." not in host.strip("."):
            continue
        key = normalise_url(url)
        if key in seen:
            continue
        seen.add(key)
        before = text[max(0, match.start() - 80) : match.start()]  # what `classify` reads: never the whole prefix
        links.append(Link(url=url, kind=classify(url, before)))  # type: ignore[arg-type]
    return links


def merge(*groups: Iterable[Link], limit: int = MAX_LINKS) -> list[Link]:
    """Links of several origins, each URL once (by key), first origin's kind kept; at most ``limit``."""
    out: list[Link] = []
    seen: set[str] = set()
    for group in groups:
        for link in group:
            key = normalise_url(link.url)
            if key not in seen:
                seen.add(key)
                out.append(link)
                if len(out) >= limit:
                    return out
    return out
