"""The embedded engine on modern abstracts: scoring against an LLM's field summaries, and the rules a reader
insists on (a finding never in the method, the gap as the problem, no key result only when nothing is found)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

from conftest import REPO, invoke

from pipeline.evaluate import evaluate_llm_fields, load_llm_fields

ABSTRACT = (
    "Image generation models are slow at inference time. "
    "However, existing distillation methods lose quality. "
    "We propose FastGen, a one-step generator trained with an adversarial objective. "
    "FastGen improves FID from 12.5 to 3.4 on ImageNet while being 20x faster than the teacher."
)


def _write(path: Path, records: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _record(**fields: str) -> dict[str, str]:
    base = {
        "id": "2505.00001",
        "title": "FastGen",
        "abstract": ABSTRACT,
        "tldr": "FastGen is a one-step adversarial generator.",
        "motivation": "Existing distillation methods lose quality.",
        "method": "A one-step generator trained with an adversarial objective.",
        "result": "FastGen improves FID from 12.5 to 3.4 on ImageNet, 20x faster.",
        "conclusion": "One step suffices.",
    }
    return {**base, **fields}


def _engine(tldr: str, problem: str, method: str, results: list[str]):  # noqa: ANN202
    summary = SimpleNamespace(tldr=tldr, problem=problem, method=method, results=results)
    return lambda title, abstract: SimpleNamespace(summary=summary)


def test_oracle_cells_score_the_oracle_and_agree(tmp_path: Path) -> None:
    path = _write(tmp_path / "dev.jsonl", [_record()])
    sentences = ABSTRACT.split(". ")
    cells = _engine(sentences[2] + ".", sentences[1] + ".", sentences[2] + ".", [sentences[3]])
    result = evaluate_llm_fields(path, cells)
    assert result["papers"] == 1 and result["failed"] == 0
    for name in ("tldr", "problem", "method", "key_result"):
        field = result["fields"][name]
        assert field["ratio"] == 1.0 and field["rouge1"] == field["oracle"] > 0, name
    assert result["key_result_agreement"] == 1.0 and result["results_empty"] == 0.0


def test_an_empty_or_wrong_key_result_scores_below_the_oracle(tmp_path: Path) -> None:
    path = _write(tmp_path / "dev.jsonl", [_record(), _record(id="2505.00002")])
    sentences = ABSTRACT.split(". ")
    empty = evaluate_llm_fields(path, _engine(sentences[2], sentences[1], sentences[2], []))
    assert empty["results_empty"] == 1.0 and empty["key_result_agreement"] == 0.0
    assert empty["fields"]["key_result"]["rouge1"] == 0.0
    wrong = evaluate_llm_fields(path, _engine(sentences[2], sentences[1], sentences[2], [sentences[2]]))
    assert wrong["key_result_agreement"] == 0.0 and 0 < wrong["fields"]["key_result"]["ratio"] < 1


def test_eval_llm_fields_command_scores_the_embedded_engine(tmp_path: Path) -> None:
    path = _write(tmp_path / "dev.jsonl", [_record()])
    out = json.loads(invoke("eval", "--llm-fields", str(path), "--json").stdout)
    assert out["scored"] == "llm_fields" and out["model"] == "embedded" and out["papers"] == 1
    # The only finding is the FID sentence: the embedded engine's key result is it.
    assert out["key_result_agreement"] == 1.0
    human = invoke("eval", "--llm-fields", str(path)).stdout
    assert "of oracle" in human and "key_result" in human


def test_eval_llm_fields_names_the_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(_record()) + "\n" + json.dumps({"abstract": "x"}) + "\n", encoding="utf-8")
    result = invoke("eval", "--llm-fields", str(path), expect=2)
    assert "bad.jsonl:2" in result.output


def test_the_vendored_modern_splits_load_and_keep_their_attribution() -> None:
    train = load_llm_fields(REPO / "data" / "modern" / "train.jsonl")
    dev = load_llm_fields(REPO / "data" / "modern" / "dev.jsonl")
    assert (len(train), len(dev)) == (1104, 217)
    assert "daily-arXiv-ai-enhanced" in (REPO / "data" / "modern" / "SOURCES.md").read_text(encoding="utf-8")
