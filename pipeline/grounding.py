"""How much of a free-text field the paper itself supports: an idf-weighted share of its (stemmed) words.

A field restating the abstract shares its rare words ("disentangling", "survival", "FID"); another paper's
summary shares only common ones ("model", "learning", "results"). Weighting each word by its inverse document
frequency over ~3,600 computer-science abstracts (SciTLDR-A and CSAbstruct train, `pipeline/extractive/weights/idf.json`,
written by ``python -m pipeline.extractive.train``) tells the two apart far better than counting words. Numbers are compared
in a normal form (1.80 = 1.8, 1,000 = 1000) by `pipeline.claims.numbers_in`.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from pipeline.files import write_text_atomic

# --- the sciences' notation as plain text (TeX math and unicode symbols as the numbers and words they are) ---
# The sciences' notation as plain text: TeX math and unicode symbols read as the numbers and words they are.
#
# Physics and mathematics abstracts write ``$e\\sim0.2$``, ``$10^{-3}$``, ``$20$-$80\\,M_\\odot$``, ``$\\sim 3\\sigma$``;
# an LLM restating them writes ``e ∼ 0.2``, ``10⁻³``, ``M☉``, ``3σ``. `plain` maps both to one form, so that the
# number checks (`pipeline.claims.numbers_in`), the word weights (`pipeline.grounding`) and the embedded engine's
# number features see ``0.2``, ``10^-3`` and ``sigma`` whichever way a text wrote them:
#
# - math delimiters (``$``, ``\\(``, ``\\)``) and braces go; TeX spacing (``\\,``, ``\\;``, ``~``) is a space;
# - a relation or operator command is its unicode sign (``\\sim`` → ∼, ``\\pm`` → ±, ``\\times`` → ×, ``\\lesssim``
#   → ≲), set apart by spaces so the number after it stands alone;
# - a formatting command (``\\mathrm``, ``\\text``, ``\\mathbf``) keeps only its argument; any other command
#   (``\\sigma``, ``\\odot``, ``\\alpha``) is its name as a word, and a Greek letter in unicode (σ, α, ☉) is its
#   name too;
# - ``+/-`` is ±, and the x of ``6.8x10^{-9}`` is ×;
# - unicode super- and subscripts are ``^`` and ``_`` with ASCII digits (``10⁻³`` → ``10^-3``, ``H₂`` → ``H_2``), and
#   the unicode minus (−) is ``-``.
#
# Text without a backslash, a dollar or a character outside ASCII comes back unchanged (and costs one scan).

_SIGNS = {
    "sim": "∼",
    "simeq": "≃",
    "approx": "≈",
    "cong": "≅",
    "pm": "±",
    "mp": "∓",
    "times": "×",
    "cdot": "·",
    "lesssim": "≲",
    "gtrsim": "≳",
    "le": "≤",
    "leq": "≤",
    "leqslant": "≤",
    "ge": "≥",
    "geq": "≥",
    "geqslant": "≥",
    "ll": "≪",
    "gg": "≫",
    "lt": "<",
    "gt": ">",
    "neq": "≠",
    "ne": "≠",
    "propto": "∝",
    "to": "→",
    "rightarrow": "→",
    "infty": "∞",
    "deg": "°",
    "circ": "°",
    "%": "%",
}
_FORMATTING = frozenset(
    "mathrm mathbf mathit mathsf mathtt mathcal mathbb mathscr mathfrak text textrm textit textbf rm bf it sf tt "
    "cal boldsymbol bm operatorname emph left right big Big bigl bigr Bigl Bigr displaystyle textstyle".split()
)
_GREEK = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "ϵ": "epsilon", "ζ": "zeta",
    "η": "eta", "θ": "theta", "ϑ": "theta", "ι": "iota", "κ": "kappa", "λ": "lambda", "μ": "mu", "µ": "mu",
    "ν": "nu", "ξ": "xi", "π": "pi", "ρ": "rho", "σ": "sigma", "τ": "tau", "υ": "upsilon", "φ": "phi",
    "ϕ": "phi", "χ": "chi", "ψ": "psi", "ω": "omega", "Γ": "Gamma", "Δ": "Delta", "Θ": "Theta", "Λ": "Lambda",
    "Ξ": "Xi", "Π": "Pi", "Σ": "Sigma", "Φ": "Phi", "Ψ": "Psi", "Ω": "Omega", "☉": "odot", "⊙": "odot",
    "ℏ": "hbar",
}  # fmt: skip
_GREEK_CHAR = re.compile("[" + "".join(_GREEK) + "]")
_SUPER = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
_SUB = str.maketrans("₀₁₂₃₄₅₆₇₈₉₋₊", "0123456789-+")
_SCRIPTS = re.compile(r"([⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺]+)|([₀₁₂₃₄₅₆₇₈₉₋₊]+)")
_COMMAND = re.compile(r"\\([A-Za-z]+|[,;:!% ])")
_DELIMITERS = re.compile(r"\\[()\[\]]|\$+|[{}]")
_TILDE = re.compile(r"(?<=[\w}$])~(?=[\w\\${])")  # TeX's tie "$10$~K"; a lone "~ 3" (about) stays
_SPACES = re.compile(r"[ \t\u00a0\u2009\u202f]{2,}")
_HINT = re.compile(r"[\\$^_~\u0080-\uffff]|\+/-|\dx\d")
_TIMES = re.compile(r"(?<=\d)x(?=10\b|10\^|\d+\^)")  # "6.8x10^{-9}": the x is a times sign


def _command(match: re.Match[str]) -> str:
    name = match.group(1)
    if name in ",;:! ":
        return " "
    sign = _SIGNS.get(name)
    if sign is not None:
        return f" {sign} "
    if name in _FORMATTING:
        return " "
    return f" {name} "


def _scripts(match: re.Match[str]) -> str:
    if match.group(1):
        return "^" + match.group(1).translate(_SUPER)
    return "_" + match.group(2).translate(_SUB)


@lru_cache(maxsize=4096)
def plain(text: str) -> str:
    """``text`` with its TeX math and unicode notation as plain numbers, signs and words (see the module)."""
    if not _HINT.search(text):
        return text
    out = _COMMAND.sub(_command, text.replace("\u2212", "-").replace("+/-", " ± "))
    out = _TIMES.sub(" × ", out)
    out = _TILDE.sub(" ", out)
    out = _DELIMITERS.sub(" ", out)
    out = _SCRIPTS.sub(_scripts, out)
    out = _GREEK_CHAR.sub(lambda m: f" {_GREEK[m.group(0)]} ", out)
    out = re.sub(r"\s*([\^_])\s*", r"\1", out)  # "10^ -3" (braces gone) → "10^-3"
    return _SPACES.sub(" ", out).strip() if out != text else text


# --- grounding ---

MODEL_DIR = Path(__file__).parent / "extractive" / "weights"
IDF_FILE = "idf.json"
# A field is refused when less than this share of its idf weight is supported; tuned on SciTLDR dev so that human
# TLDRs pass (author and reviewer-derived) and another paper's TLDR does not.
THRESHOLD = 0.2
POWER = 2.0  # idf²: the rarest words decide (measured on dev: idf¹ lets 3.6 % of other papers' TLDRs through)

_WORD = re.compile(r"[a-z][a-z0-9]+(?:-[a-z0-9]+)*")
_STOP = frozenset(
    "the and for with from that this these those their there then than into onto over under via using use used "
    "are was were been being has have had can could may might will would shall should our its it they them which "
    "what when where while who whom whose also such both each more most other some any all not only very "
    "paper work propose proposed present presents introduce show shows study approach method methods".split()
)


# Words that describe a paper rather than state its content ("the authors propose", "this paper discusses"): a
# reviewer's TLDR is full of them and the abstract says "we" instead. Compared after stemming, so every form goes.
_REPORTING = (
    "paper papers author authors propose proposes proposed proposing proposal present presents presented introduce "
    "introduces introduced discuss discusses discussed investigate investigates investigated study studies studied "
    "consider considers considered describe describes described show shows showed shown work works".split()
)


@lru_cache(maxsize=1 << 16)
def stem(word: str) -> str:
    """A light suffix stripper: models/model, learning/learn, improved/improve, efficiency stays."""
    for suffix, keep in (("ies", "y"), ("sses", "ss"), ("ing", ""), ("ed", ""), ("es", ""), ("s", ""), ("ly", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)] + keep
    return word


@lru_cache(maxsize=1024)
def terms(text: str) -> frozenset[str]:
    """The stemmed content words of ``text``. Remembered: each field of a summary is checked against the same
    abstract, which would otherwise be tokenised and stemmed once per field. TeX math and unicode notation are read
    as words first (`pipeline.grounding.plain`: ``$\\sigma$`` and σ are both "sigma", ``\\mathrm{GeV}`` is "GeV")."""
    return frozenset(stem(w) for w in _WORD.findall(plain(text).lower()) if w not in _STOP and len(w) >= 3)


def document_frequencies(texts: Iterable[str]) -> tuple[int, Counter[str]]:
    counts: Counter[str] = Counter()
    n = 0
    for text in texts:
        n += 1
        counts.update(terms(text))
    return n, counts


def save_idf(directory: Path, texts: Iterable[str], min_df: int = 2) -> None:
    n, counts = document_frequencies(texts)
    table = {w: round(math.log((n + 1) / (c + 1)) + 1, 3) for w, c in sorted(counts.items()) if c >= min_df}
    data = {"documents": n, "unseen": round(math.log(n + 1) + 1, 3), "idf": table}
    write_text_atomic(directory / IDF_FILE, json.dumps(data, separators=(",", ":"), sort_keys=True) + "\n")


@lru_cache(maxsize=1)
def idf_table() -> tuple[dict[str, float], float]:
    try:
        data = json.loads((MODEL_DIR / IDF_FILE).read_text(encoding="utf-8"))
        return data["idf"], float(data["unseen"])
    except (OSError, ValueError, KeyError):  # no table: every word weighs the same (plain overlap)
        return {}, 1.0


@lru_cache(maxsize=1)
def _weights() -> tuple[dict[str, float], float]:
    """idf^POWER per word, computed once."""
    table, unseen = idf_table()
    return {w: v**POWER for w, v in table.items()}, unseen**POWER


@lru_cache(maxsize=1)
def _not_content() -> frozenset[str]:
    """The stop and reporting words in stemmed form: ``terms`` drops only the exact forms listed in ``_STOP``,
    so "proposes" (stem "propos") used to count as a content word that an abstract saying "we propose" lacks."""
    return frozenset(stem(w) for w in _STOP.union(_REPORTING))


def support(claim: str, source: str) -> float | None:
    """The idf-weighted share of ``claim``'s content words that ``source`` contains (None: no words to judge)."""
    words = terms(claim) - _not_content()
    if not words:
        return None
    table, unseen = _weights()
    known = terms(source)
    # math.fsum: exactly rounded in any order. Set order changes with each process's string hashing, and a plain
    # sum moved the last bit, so a claim right at the threshold could pass in one run and fail in the next.
    total = math.fsum(table.get(w, unseen) for w in words)
    found = math.fsum(table.get(w, unseen) for w in words & known)
    return found / total if total else None
