"""Every test runs in its own HOME, cache and working folder: no test reads or writes real state."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "data" / "hf-papers-listing-2026-03-12.txt"


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("SUMMARIZE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    for name in (
        "SUMMARIZE_CONFIG",
        "SUMMARIZE_MODEL",
        "SUMMARIZE_OUT_DIR",
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "OPENAI_API_BASE",
        "HF_ENDPOINT",
    ):
        monkeypatch.delenv(name, raising=False)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return tmp_path


@pytest.fixture
def out(tmp_path: Path) -> Path:
    return tmp_path / "out"


def invoke(*args: str, input: str | bytes | None = None, expect: int | None = 0):  # noqa: A002
    """Run the CLI in-process; exceptions that are not the project's own propagate."""
    from pipeline.cli import cli

    result = CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)
    if expect is not None:
        assert result.exit_code == expect, result.output
    return result


def cached_rows(cache: Path) -> int:
    """Summaries in the cache folder ``cache`` so far, read while a run may be writing them (0 before it made its
    table)."""
    if not (cache / "cache.db").exists():
        return 0
    try:
        with contextlib.closing(sqlite3.connect(f"file:{cache / 'cache.db'}?mode=ro", uri=True, timeout=5)) as db:
            return db.execute("SELECT COUNT(*) FROM Cache").fetchone()[0]
    except sqlite3.OperationalError:  # the table is not created yet
        return 0


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def numbered_papers(path: Path, n: int) -> Path:
    """``n`` short papers "Paper 0" … whose abstracts state one number each (for LLM-path tests)."""
    path.write_text(
        "".join(
            json.dumps(
                {
                    "title": f"Paper {i}",
                    "abstract": f"Models fail at task {i}. We propose M{i}. M{i} improves accuracy by {i}.5 points.",
                }
            )
            + "\n"
            for i in range(n)
        )
    )
    return path


def run_llm(server, inputs: Path, out: Path, *extra: str, expect: int | None = 0, model: str = "openai/fake") -> dict:
    """``summarize run`` of ``inputs`` with an LLM on a loopback ``server`` (any FakeOpenAI); the JSON report."""
    result = invoke(
        "run",
        str(inputs),
        "--out",
        str(out),
        "--model",
        model,
        "--api-base",
        server.base_url,
        "--json",
        *extra,
        expect=expect,
    )
    return json.loads(result.stdout)


def paper_and_turn(r1, r2) -> None:
    """A vcr matcher for the cassettes recorded under schema v2: two chat requests match when they ask about the same
    paper (the first user message, byte for byte), at the same turn (how many messages: a re-ask has more), of the
    same model. The system prompt and the tool schema are left out of the match because schema v3 (scores) changed
    them after the recording; the model's answers replayed are still the recorded bytes, and every test still
    asserts that every recorded request was replayed, in order. Re-recording (docs/llm-local.md) brings the
    requests up to date; then match on the whole body again."""
    import json

    def key(request) -> tuple:
        body = request.body or b""
        try:
            data = json.loads(body.decode() if isinstance(body, bytes) else body)
        except (ValueError, UnicodeDecodeError, AttributeError):
            return ("raw", body)
        if not isinstance(data, dict) or "messages" not in data:
            return ("json", json.dumps(data, sort_keys=True))
        messages = data.get("messages") or []
        first_user = next((m.get("content") for m in messages if isinstance(m, dict) and m.get("role") == "user"), None)
        return ("chat", data.get("model"), len(messages), json.dumps(first_user, sort_keys=True))

    assert key(r1) == key(r2)
