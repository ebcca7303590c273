"""The sciences' notation as plain text: TeX math and unicode symbols read as the numbers and words they are.

Physics and mathematics abstracts write ``$e\\sim0.2$``, ``$10^{-3}$``, ``$20$-$80\\,M_\\odot$``, ``$\\sim 3\\sigma$``;
an LLM restating them writes ``e ∼ 0.2``, ``10⁻³``, ``M☉``, ``3σ``. `plain` maps both to one form, so that the
number checks (`pipeline.claims.numbers_in`), the word weights (`pipeline.grounding`) and the embedded engine's
number features see ``0.2``, ``10^-3`` and ``sigma`` whichever way a text wrote them:

- math delimiters (``$``, ``\\(``, ``\\)``) and braces go; TeX spacing (``\\,``, ``\\;``, ``~``) is a space;
- a relation or operator command is its unicode sign (``\\sim`` → ∼, ``\\pm`` → ±, ``\\times`` → ×, ``\\lesssim``
  → ≲), set apart by spaces so the number after it stands alone;
- a formatting command (``\\mathrm``, ``\\text``, ``\\mathbf``) keeps only its argument; any other command
  (``\\sigma``, ``\\odot``, ``\\alpha``) is its name as a word, and a Greek letter in unicode (σ, α, ☉) is its
  name too;
- ``+/-`` is ±, and the x of ``6.8x10^{-9}`` is ×;
- unicode super- and subscripts are ``^`` and ``_`` with ASCII digits (``10⁻³`` → ``10^-3``, ``H₂`` → ``H_2``), and
  the unicode minus (−) is ``-``.

Text without a backslash, a dollar or a character outside ASCII comes back unchanged (and costs one scan).
"""

from __future__ import annotations

import re
from functools import lru_cache

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
