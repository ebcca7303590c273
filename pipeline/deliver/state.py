"""delivered.json, beside the corpus: which papers earlier digests delivered (id, arXiv version, when) and which
digest went out on which channel.

A paper delivered on a channel is never delivered on it again; it comes back only as a newer arXiv version. The
file is validated as a whole when read (a broken one is set aside and rebuilt from its valid entries), bounded (the
oldest papers and digests are dropped past their caps), read without following a link, written atomically, and
merged like the corpus (``summarize merge`` keeps what every shard delivered).
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pipeline.errors import OutputError
from pipeline.files import read_state, write_text_atomic

STATE_NAME = "delivered.json"
FORMAT = "summarize-delivered"
VERSION = 2  # 2: papers say which channels carried them ("on") and from which candidates ("basis"); 1 still reads
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


# ---------------------------------------------------------------- the file's schema (checked on every read)

_STRICT = ConfigDict(strict=True, extra="ignore")
_Short = Field(default="", max_length=100)


class _Paper(BaseModel):
    model_config = _STRICT
    version: int | None = Field(default=None, ge=0)
    at: str = _Short
    digest: str = _Short
    basis: str | None = Field(default=None, max_length=100)
    on: list[str] | None = Field(default=None, max_length=16)  # channels that carried it; None: every channel


class _Sent(BaseModel):
    model_config = _STRICT
    at: str = _Short
    to: list[str] | None = Field(default=None, max_length=50)
    host: str | None = Field(default=None, max_length=300)


class _Digest(BaseModel):
    model_config = _STRICT
    id: str = Field(min_length=1, max_length=100)
    basis: str = _Short
    at: str = _Short
    papers: list[tuple[str, int | None]] = Field(default_factory=list, max_length=10_000)
    sent: dict[str, _Sent] = Field(default_factory=dict, max_length=16)


class _File(BaseModel):
    model_config = _STRICT
    format: Literal["summarize-delivered"]
    version: int = Field(ge=1, le=VERSION)
    papers: dict[str, _Paper] = Field(default_factory=dict)
    digests: list[_Digest] = Field(default_factory=list)


def _paper_dict(model: _Paper) -> dict[str, Any]:
    return model.model_dump()


def _digest_dict(model: _Digest) -> dict[str, Any]:
    out = model.model_dump()
    out["papers"] = [list(p) for p in model.papers]
    out["sent"] = {k: v.model_dump(exclude_none=True) for k, v in model.sent.items()}
    return out


# ---------------------------------------------------------------- the state in memory


@dataclass
class State:
    papers: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> {"version", "at", "digest", "basis", "on"}
    digests: list[dict[str, Any]] = field(default_factory=list)  # oldest first
    problems: list[str] = field(default_factory=list)  # what reading it found wrong (a warning each)

    def is_new(self, paper_id: str, version: int | None) -> bool:
        """Not delivered on any channel before, or delivered as an older arXiv version."""
        prior = self.papers.get(paper_id)
        return prior is None or _newer(version, prior.get("version"))

    def delivered_on(self, paper_id: str, version: int | None, channel: str) -> bool:
        """Whether ``channel`` carried this paper already (this version or a later one)."""
        if self.is_new(paper_id, version):
            return False
        on = self.papers[paper_id].get("on")
        return on is None or channel in on

    def done(self, paper_id: str, version: int | None, channels: list[str]) -> bool:
        """Nothing left to send of this paper: every channel carried it (with no channel: delivered at all)."""
        if not channels:
            return not self.is_new(paper_id, version)
        return all(self.delivered_on(paper_id, version, c) for c in channels)

    def basis_of(self, paper_id: str) -> str | None:
        """The candidates the paper was last delivered from (None: unknown, an older file)."""
        prior = self.papers.get(paper_id)
        return prior.get("basis") if prior else None

    def latest_basis(self) -> str | None:
        """The candidates the latest delivery was chosen from (None before any)."""
        latest = max(self.papers.values(), key=lambda p: str(p.get("at") or ""), default=None)
        return latest.get("basis") if latest else None

    def earlier_version(self, paper_id: str, version: int | None) -> int | None:
        """The older arXiv version delivered before, when this one is newer (the message says so)."""
        prior = self.papers.get(paper_id)
        old = prior.get("version") if prior else None
        return old if _newer(version, old) else None

    def digest(self, digest_id: str) -> dict[str, Any] | None:
        return next((d for d in reversed(self.digests) if d.get("id") == digest_id), None)

    def record_send(
        self, digest_id: str, basis: str, at: str, papers: list[tuple[str, int | None]], channel: str, info: dict
    ) -> None:
        """``channel`` carried the digest ``digest_id`` (these papers): remembered per digest and per paper."""
        entry = self.digest(digest_id)
        if entry is None:
            entry = {"id": digest_id, "basis": basis, "at": at, "papers": [list(p) for p in papers], "sent": {}}
            self.digests.append(entry)
        entry["sent"][channel] = info
        self.mark_delivered(digest_id, basis, at, papers, channel)

    def mark_delivered(
        self, digest_id: str, basis: str, at: str, papers: list[tuple[str, int | None]], channel: str | None
    ) -> None:
        """These papers went out on ``channel`` (None: count them as delivered everywhere, --mark-delivered)."""
        for paper_id, version in papers:
            prior = self.papers.get(paper_id)
            if prior is None or _newer(version, prior.get("version")):
                on: list[str] | None = None if channel is None else [channel]
            elif _newer(prior.get("version"), version):
                continue
            else:
                old = prior.get("on")
                on = None if channel is None or old is None else sorted({*old, channel})
            self.papers[paper_id] = {"version": version, "at": at, "digest": digest_id, "basis": basis, "on": on}

    def bound(self, remember: int) -> None:
        """Keep the ``remember`` most recently delivered papers and the last MAX_DIGESTS digests."""
        if len(self.papers) > remember:
            newest = sorted(self.papers.items(), key=lambda kv: (str(kv[1].get("at", "")), kv[0]), reverse=True)
            self.papers = dict(sorted(newest[:remember]))
        self.digests = self.digests[-MAX_DIGESTS:]

    def to_json(self) -> dict[str, Any]:
        papers = dict(sorted(self.papers.items()))
        return {"format": FORMAT, "version": VERSION, "papers": papers, "digests": self.digests}


# ---------------------------------------------------------------- reading and writing


def load(out_dir: Path, *, repair: bool = True) -> State:
    """The state of ``out_dir`` (empty when there is none yet), validated as a whole.

    A file that is not valid (not JSON, nested too deep, a field of the wrong type) is set aside as
    ``delivered.json.broken-<time>``, like a corrupt cache, and the state is rebuilt from the entries of it that
    are valid; ``State.problems`` says so. With ``repair`` the rebuilt state is written at once. A file of
    another program, or of a newer summarize, is an error and never overwritten: forgetting it would send every
    paper again. A link or a file over MAX_BYTES is refused, never read."""
    path = out_dir / STATE_NAME
    try:
        raw = read_state(path, MAX_BYTES)
    except OSError as exc:
        raise OutputError(f"{path}: {exc.strerror or exc}") from exc
    if raw is None:
        return State()
    try:
        model = _File.model_validate_json(raw)
    except ValidationError as exc:
        problem = _first_problem(exc)
    else:
        return State(
            papers={k: _paper_dict(v) for k, v in model.papers.items() if 0 < len(k) <= 2000},
            digests=[_digest_dict(d) for d in model.digests],
        )
    data = _json(raw)
    if isinstance(data, dict):
        if data.get("format") != FORMAT:
            raise OutputError(f"{path}: not a summarize delivery state (format {FORMAT!r} expected); never overwritten")
        if isinstance(data.get("version"), int) and data["version"] > VERSION:
            raise OutputError(f"{path}: state version {data['version']!r} is newer than this summarize reads")
    state = _salvage(data)
    aside = path.with_name(f"{STATE_NAME}.broken-{time.strftime('%Y%m%dT%H%M%S')}")
    if repair:
        try:
            path.rename(aside)
        except OSError as exc:
            raise OutputError(f"{path} is not valid ({problem}) and cannot be set aside: {exc.strerror}") from exc
        save(out_dir, state, remember=10**9)
    done = f"set aside as {aside.name} and rebuilt" if repair else "read (left as it is in a dry run)"
    state.problems.append(
        f"{path} was not valid ({problem}): {done} from its valid entries ({len(state.papers)} papers "
        "remembered); a paper only the invalid part remembered may be sent again"
    )
    return state


def _first_problem(exc: ValidationError) -> str:
    error = exc.errors(include_url=False)[0]
    where = ".".join(str(part) for part in error["loc"])[:120]
    return f"{where}: {error['msg']}"[:300] if where else str(error["msg"])[:300]


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None


def _salvage(data: Any) -> State:
    """What a broken file still says validly: each paper and each digest checked on its own; a paper a digest
    carried is remembered even when its own entry is gone."""
    state = State()
    if not isinstance(data, dict):
        return state
    papers, digests = data.get("papers"), data.get("digests")
    for key, value in (papers.items() if isinstance(papers, dict) else ()):
        try:
            if 0 < len(key) <= 2000:
                state.papers[key] = _paper_dict(_Paper.model_validate_json(json.dumps(value)))
        except (ValidationError, ValueError, RecursionError):
            continue
    for value in digests if isinstance(digests, list) else ():
        try:
            state.digests.append(_digest_dict(_Digest.model_validate_json(json.dumps(value))))
        except (ValidationError, ValueError, RecursionError):
            continue
    for entry in state.digests:
        if entry["sent"]:
            for paper_id, version in entry["papers"]:
                if paper_id not in state.papers:
                    state.papers[paper_id] = {
                        "version": version, "at": entry["at"], "digest": entry["id"], "basis": entry["basis"],
                        "on": sorted(entry["sent"]),
                    }  # fmt: skip
    return state


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
        state = load(folder, repair=folder == out_dir)  # a folder merged in is read, never rewritten
        for paper_id, entry in state.papers.items():
            prior = merged.papers.get(paper_id)
            if prior is not None and entry.get("version") == prior.get("version"):
                a, b = entry.get("on"), prior.get("on")
                on = None if a is None or b is None else sorted({*a, *b})  # the channels of both
                merged.papers[paper_id] = {**(entry if _wins(entry, prior) else prior), "on": on}
            elif prior is None or _wins(entry, prior):
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
