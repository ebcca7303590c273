"""delivered.json, beside the corpus: which papers earlier digests delivered (id, arXiv version, when) and which
digest went out on which channel.

A paper is "seen" once a digest delivered it; it comes back only as a newer arXiv version. The file is bounded
(the oldest papers and digests are dropped past their caps), read without following a link, written atomically,
and merged like the corpus (``summarize merge`` keeps what every shard delivered).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.errors import OutputError
from pipeline.files import read_state, write_text_atomic

STATE_NAME = "delivered.json"
FORMAT = "summarize-delivered"
VERSION = 1
MAX_BYTES = 256 * 2**20
MAX_DIGESTS = 400

# An arXiv id with its version: 2403.01234v2, arxiv:2403.01234v2, cs/0101001v3.
_VERSIONED = re.compile(r"^((?:arxiv:)?(?:\d{4}\.\d{4,5}|[a-z-]+(?:\.[A-Z]{2})?/\d{7}))v(\d+)$", re.IGNORECASE)


def split_version(paper_id: str) -> tuple[str, int | None]:
    """An id without its arXiv version suffix, and that version (None when the id carries none)."""
    found = _VERSIONED.match(paper_id)
    return (found.group(1), int(found.group(2))) if found else (paper_id, None)


def _newer(version: int | None, than: int | None) -> bool:
    """Only a known version above a known version is newer: a paper first seen without one is not re-sent."""
    return version is not None and than is not None and version > than


@dataclass
class State:
    papers: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> {"version", "at", "digest"}
    digests: list[dict[str, Any]] = field(default_factory=list)  # oldest first

    def is_new(self, paper_id: str, version: int | None) -> bool:
        """Not delivered before, or delivered as an older arXiv version."""
        prior = self.papers.get(paper_id)
        return prior is None or _newer(version, prior.get("version"))

    def digest(self, digest_id: str) -> dict[str, Any] | None:
        return next((d for d in reversed(self.digests) if d.get("id") == digest_id), None)

    def last(self) -> dict[str, Any] | None:
        return self.digests[-1] if self.digests else None

    def record_digest(self, digest_id: str, basis: str, at: str, papers: list[tuple[str, int | None]]) -> dict:
        entry = self.digest(digest_id)
        if entry is None:
            entry = {"id": digest_id, "basis": basis, "at": at, "papers": [list(p) for p in papers], "sent": {}}
            self.digests.append(entry)
        else:
            entry["basis"] = basis
        return entry

    def mark_sent(self, digest_id: str, channel: str, info: dict[str, Any]) -> None:
        entry = self.digest(digest_id)
        if entry is not None:
            entry.setdefault("sent", {})[channel] = info

    def mark_delivered(self, digest_id: str, at: str, papers: list[tuple[str, int | None]]) -> None:
        for paper_id, version in papers:
            prior = self.papers.get(paper_id)
            if prior is None or not _newer(prior.get("version"), version):
                self.papers[paper_id] = {"version": version, "at": at, "digest": digest_id}

    def bound(self, remember: int) -> None:
        """Keep the ``remember`` most recently delivered papers and the last MAX_DIGESTS digests."""
        if len(self.papers) > remember:
            newest = sorted(self.papers.items(), key=lambda kv: (str(kv[1].get("at", "")), kv[0]), reverse=True)
            self.papers = dict(sorted(newest[:remember]))
        self.digests = self.digests[-MAX_DIGESTS:]

    def to_json(self) -> dict[str, Any]:
        papers = dict(sorted(self.papers.items()))
        return {"format": FORMAT, "version": VERSION, "papers": papers, "digests": self.digests}


def _valid_paper(value: Any) -> bool:
    version = value.get("version") if isinstance(value, dict) else "x"
    return isinstance(value, dict) and (version is None or (isinstance(version, int) and not isinstance(version, bool)))


def load(out_dir: Path) -> State:
    """The state of ``out_dir`` (empty when there is none yet). A file that is not ours is an error, never
    overwritten: forgetting it would send every paper again."""
    path = out_dir / STATE_NAME
    try:
        raw = read_state(path, MAX_BYTES)
    except OSError as exc:
        raise OutputError(f"{path}: {exc.strerror or exc}") from exc
    if raw is None:
        return State()
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise OutputError(
            f"{path}: not valid JSON ({exc}); repair it, or delete it to forget what earlier digests delivered"
        ) from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise OutputError(f"{path}: not a summarize delivery state (format {FORMAT!r} expected)")
    if not isinstance(data.get("version"), int) or data["version"] > VERSION:
        raise OutputError(f"{path}: state version {data.get('version')!r} is newer than this summarize reads")
    papers = data.get("papers")
    digests = data.get("digests")
    papers = papers if isinstance(papers, dict) else {}
    digests = digests if isinstance(digests, list) else []
    return State(
        papers={str(k): v for k, v in papers.items() if _valid_paper(v)},
        digests=[d for d in digests if isinstance(d, dict) and isinstance(d.get("id"), str)],
    )


def save(out_dir: Path, state: State, remember: int) -> None:
    state.bound(remember)
    path = out_dir / STATE_NAME
    try:
        write_text_atomic(path, json.dumps(state.to_json(), indent=1, ensure_ascii=False) + "\n")
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc


def merge_states(folders: list[Path], out_dir: Path, remember: int) -> int:
    """``summarize merge``: the delivery states of ``folders`` (and ``out_dir``'s own) as one, written to
    ``out_dir``. Per paper the newest version delivered wins; digests are joined, their channels united.
    Order-free and idempotent. Returns how many papers the merged state remembers (0: none to write)."""
    merged = State()
    found = False
    for folder in [out_dir, *folders]:
        if not (folder / STATE_NAME).exists() and not (folder / STATE_NAME).is_symlink():
            continue
        found = True
        state = load(folder)
        for paper_id, entry in state.papers.items():
            prior = merged.papers.get(paper_id)
            if prior is None or _wins(entry, prior):
                merged.papers[paper_id] = entry
        for digest in state.digests:
            known = merged.digest(digest["id"])
            if known is None:
                merged.digests.append({**digest, "sent": dict(digest.get("sent") or {})})
            else:
                known["sent"] = {**(digest.get("sent") or {}), **(known.get("sent") or {})}
    if not found:
        return 0
    merged.digests.sort(key=lambda d: (str(d.get("at", "")), d["id"]))
    save(out_dir, merged, remember)
    return len(merged.papers)


def _wins(entry: dict[str, Any], prior: dict[str, Any]) -> bool:
    new, old = entry.get("version"), prior.get("version")
    if new != old:
        return _newer(new, old) or old is None and new is not None

    def when(e: dict[str, Any]) -> tuple[str, str]:
        return str(e.get("at", "")), str(e.get("digest", ""))

    return when(entry) > when(prior)
