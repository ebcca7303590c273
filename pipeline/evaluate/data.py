"""The labelled files the evaluations read: CSAbstruct (sentence roles), SciTLDR (tldrs) and data/modern/ (an
LLM's field summaries)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import InputError
from pipeline.extractive.roles import ROLES


@dataclass
class Abstract:
    sentences: list[str]
    labels: list[str]


def _records(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, text) of each non-blank line of a labelled JSONL file; an unreadable file is an error."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read: {exc}", path=str(path)) from exc
    for number, line in enumerate(lines, start=1):
        if line.strip():
            yield number, line


def load_labelled(path: Path) -> list[Abstract]:
    """A CSAbstruct-format JSONL file: ``sentences`` and ``labels`` of equal length on every line."""
    out: list[Abstract] = []
    for number, line in _records(path):
        try:
            obj = json.loads(line)
            sentences, labels = obj["sentences"], obj["labels"]
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise InputError(f"not a labelled abstract ({exc})", path=str(path), line=number) from exc
        if len(sentences) != len(labels):
            raise InputError("sentences and labels differ in length", path=str(path), line=number)
        unknown = sorted(set(labels) - set(ROLES))
        if unknown:
            raise InputError(f"unknown role(s) {', '.join(unknown)}", path=str(path), line=number)
        out.append(Abstract(list(sentences), list(labels)))
    return out


@dataclass
class TldrPaper:
    title: str
    sentences: list[str]
    targets: list[str]


def load_tldr(path: Path) -> list[TldrPaper]:
    """A SciTLDR-format JSONL file: ``source`` (sentences), ``target`` (one or more TLDRs), ``title``."""
    out: list[TldrPaper] = []
    for number, line in _records(path):
        try:
            obj = json.loads(line)
            sentences, targets = list(obj["source"]), list(obj["target"])
            title = str(obj.get("title") or "")
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise InputError(f"not a SciTLDR record ({exc})", path=str(path), line=number) from exc
        if not sentences or not targets or not all(isinstance(x, str) for x in sentences + targets):
            raise InputError("source and target must be non-empty lists of text", path=str(path), line=number)
        out.append(TldrPaper(title, sentences, targets))
    return out


# Our cell and the LLM's field it is scored against.
LLM_FIELDS: dict[str, str] = {"tldr": "tldr", "problem": "motivation", "method": "method", "key_result": "result"}


@dataclass
class LlmPaper:
    title: str
    abstract: str
    fields: dict[str, str]  # keyed by our cell names (LLM_FIELDS)
    categories: tuple[str, ...] = ()


# arXiv's categories in the groups `data/sciences/` is split by (the first category that names one decides).
_GROUPS = (
    ("astro-ph", "astro"),
    ("cond-mat", "condmat"),
    ("math-ph", "math"),
    ("math.", "math"),
    ("stat.", "stat"),
    ("q-bio", "qbio"),
    ("quant-ph", "quantph"),
    ("eess.", "eess"),
    ("physics.", "physics"),
    ("nlin.", "physics"),
    ("hep-", "hep_grqc_nucl"),
    ("gr-qc", "hep_grqc_nucl"),
    ("nucl-", "hep_grqc_nucl"),
    ("econ.", "econ"),
    ("q-fin", "qfin"),
    ("cs.", "cs"),
)


def field_group(categories: tuple[str, ...] | list[str]) -> str:
    """The field group of a paper's arXiv categories: its primary (first) category's (``cs``, ``astro``,
    ``math``, …; see data/sciences/SOURCES.md), "other" when none is known."""
    for category in categories[:1]:
        for prefix, group in _GROUPS:
            if category.startswith(prefix):
                return group
    return "other"


def llm_field_files(path: Path) -> list[Path]:
    """The file, or a folder's dev files (``*dev.jsonl``, sorted): what ``--llm-fields`` scores."""
    if path.is_dir():
        files = sorted(path.glob("*dev.jsonl"))
        if not files:
            raise InputError("the folder holds no *dev.jsonl file", path=str(path))
        return files
    return [path]


def load_llm_fields(path: Path) -> list[LlmPaper]:
    """A data/modern/-format JSONL file: ``title``, ``abstract`` and the LLM's ``tldr``, ``motivation``,
    ``method``, ``result`` (strings) on every line."""
    out: list[LlmPaper] = []
    for number, line in _records(path):
        try:
            obj = json.loads(line)
            abstract = obj["abstract"]
            fields = {ours: obj[theirs] for ours, theirs in LLM_FIELDS.items()}
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise InputError(f"not an LLM-fields record ({exc})", path=str(path), line=number) from exc
        if not isinstance(abstract, str) or not all(isinstance(v, str) for v in fields.values()):
            raise InputError("abstract and the LLM's fields must be text", path=str(path), line=number)
        categories = obj.get("categories")
        categories = tuple(str(c) for c in categories) if isinstance(categories, list) else ()
        out.append(LlmPaper(str(obj.get("title") or ""), abstract, fields, categories))
    return out
