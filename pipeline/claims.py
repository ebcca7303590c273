"""The text checks a summary's validators apply: is a claim grounded, does a field cite a URL or a number the
paper does not, is a claim a file name rather than a finding. Words are weighed by `pipeline.grounding`."""

from __future__ import annotations

import re

from pipeline.grounding import THRESHOLD as GROUNDING_THRESHOLD
from pipeline.grounding import plain, support

# Numbers as written in prose: 4.9, 1,000, 83.1%, 10x. Years and plain small integers count too.
_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*")


def ungrounded(claim: str, source: str) -> float | None:
    """The (idf²-weighted) share of ``claim``'s words found in ``source``, when it is below the threshold."""
    share = support(claim, source)
    return share if share is not None and share < GROUNDING_THRESHOLD else None


_URL_IN_TEXT = re.compile(r"(?:https?://|www\.)[^\s<>\"')\]]+", re.IGNORECASE)


def foreign_urls(value: str, source: str) -> list[str]:
    """URLs written in ``value`` that ``source`` does not contain (an invented or injected link)."""
    # A URL cut by an ellipsis (a long field shortened) is checked as the prefix it is.
    found = [m.group(0).rstrip(".,;:!?\u2026") for m in _URL_IN_TEXT.finditer(value)]
    return [url for url in found if url not in source]


NAME_THRESHOLD = 0.5  # a name is short: half its (idf-weighted) words must be the abstract's


def name_grounded(name: str, abstract: str) -> bool:
    """Whether the abstract states ``name`` (a task, dataset or metric): every number it cites is in the abstract,
    and it is written there as is or its words are (`support`); a name with no words to judge ("F1") must occur."""
    if numbers_in(name) - numbers_stated(abstract):
        return False
    if name.lower() in abstract.lower() or plain(name).lower() in plain(abstract).lower():
        return True
    share = support(name, abstract)
    return share is not None and share >= NAME_THRESHOLD


def _number_form(raw: str) -> str:
    """1,000 → 1000; 1.80 → 1.8; 2.0 → 2: the same quantity written two ways compares equal."""
    value = raw.replace(",", "")
    if "." in value:
        value = value.rstrip("0").rstrip(".")
    return value


# A token that names a file or a folder: "./data/x.csv", "~/runs/", "/tmp/out", "results_2019.json".
_PATH_TOKEN = re.compile(
    r"(?:\.{1,2}/|~/|/)[^\s]*|[^\s/]+/[^\s]*\.[A-Za-z0-9]{1,5}|[^\s]+\.(?:csv|tsv|jsonl?|txt|py|ipynb|npy|npz|pt|pth|"
    r"ckpt|h5|pkl|zip|gz|tar|ya?ml|parquet)(?![\w])",
    re.IGNORECASE,
)


def not_prose(claim: str) -> bool:
    """True when file names or paths make up most of a claim: an identifier, not a finding (a URL is checked apart)."""
    text = _URL_IN_TEXT.sub(" ", claim)
    paths = sum(len(m.group(0)) for m in _PATH_TOKEN.finditer(text))
    letters = len("".join(text.split()))
    return letters > 0 and paths * 2 >= letters


MIN_CLAIM_WORDS = 3  # "c-VSG" or "GAN Dissection" name something; "Accuracy improves 4%" states a finding


# A list's marker, "1) ...", "(2) ...": it counts items, it states no quantity.
_ENUMERATION = re.compile(r"(?:^|(?<=[\s:;,]))\(?\d{1,2}\)(?=\s)")
_NUMBER_WORDS = {
    word: str(value)
    for value, words in enumerate(
        (
            "zero", "one single", "two twice double", "three thrice triple", "four", "five", "six", "seven",
            "eight", "nine", "ten", "eleven", "twelve dozen", "thirteen", "fourteen", "fifteen", "sixteen",
            "seventeen", "eighteen", "nineteen", "twenty",
        )
    )
    for word in words.split()
}  # fmt: skip
_NUMBER_WORDS.update({"thirty": "30", "forty": "40", "fifty": "50", "hundred": "100", "thousand": "1000"})
_LOWER_WORD = re.compile(r"[a-z]+")


def numbers_stated(source: str) -> set[str]:
    """The numbers ``source`` states (`numbers_in`) and those it spells out ("five stars", "two-dimensional",
    "twice", "tenfold"): a claim that writes "5 stars" or "2D" for them quotes the abstract."""
    spelled = set(_LOWER_WORD.findall(source.lower()))
    words = {_NUMBER_WORDS[w.removesuffix("fold")] for w in spelled if w.removesuffix("fold") in _NUMBER_WORDS}
    return numbers_in(source) | words


def numbers_in(text: str) -> set[str]:
    """The numbers a text states, in a normal form (thousands separators and trailing decimal zeros dropped), read
    through its TeX math and unicode notation (`pipeline.grounding.plain`: ``$e\\sim0.2$`` states 0.2, ``10⁻³``
    and ``$10^{-3}$`` both state 10 and 3). A list's markers ("1)", "(2)") are no numbers."""
    text = _ENUMERATION.sub(" ", plain(text))
    return {_number_form(m.group(0)) for m in _NUMBER.finditer(text)}


def normalise_url(url: str) -> str:
    """A URL's comparable form: no scheme, no leading www., no trailing slash, host lower-cased."""
    url = url.strip()
    url = re.sub(r"^[a-z]+://", "", url, flags=re.IGNORECASE)
    url = re.sub(r"^www\.", "", url, flags=re.IGNORECASE)
    host, _, rest = url.partition("/")
    return (host.lower() + ("/" + rest if rest else "")).rstrip("/")


def url_occurs_in(url: str, text: str) -> bool:
    """Whether ``url`` is written in ``text`` (scheme, www. and a trailing slash aside)."""
    key = normalise_url(url)
    return bool(key) and key.lower() in text.lower()
