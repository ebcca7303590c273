"""The embedded engine on modern abstracts: scoring against an LLM's field summaries, and the rules a reader
insists on (a finding never in the method, the gap as the problem, no key result only when nothing is found)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

from conftest import REPO, invoke

from pipeline.evaluate.data import load_llm_fields
from pipeline.evaluate.llm_fields import evaluate_llm_fields

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


# --- Rules a reader insists on --------------------------------------------------------------------------------

import numpy as np  # noqa: E402

from pipeline.engines.embedded import EmbeddedEngine, _pick  # noqa: E402
from pipeline.extractive.extract import find_metrics, find_tasks  # noqa: E402


def _probs(*rows: tuple[float, float, float, float, float]) -> np.ndarray:
    return np.array(rows, dtype=np.float64)


BG, OBJ, METH, RES = (
    (0.9, 0.04, 0.04, 0.01, 0.01),
    (0.1, 0.7, 0.17, 0.02, 0.01),
    (0.05, 0.1, 0.8, 0.04, 0.01),
    (
        0.02,
        0.02,
        0.16,
        0.8,
        0.0,
    ),
)


def test_a_finding_is_never_in_the_method_cell() -> None:
    sentences = [
        "Random seeds are an overlooked part of diffusion inference.",
        "We conduct a large-scale study of the impact of random seeds during diffusion inference.",
        "A classifier can predict the seed number used to generate an image with over 99.9% accuracy.",
        "Scaled-up models exhibit clear power-law scaling laws, with correlation coefficients near 0.998.",
        "The best seed reaches an FID of 21.60, compared to 31.97 for the worst.",
    ]
    # The role model reads the two unquantified findings as method sentences.
    picks = _pick(sentences, _probs(BG, OBJ, METH, METH, RES))
    assert not {2, 3} & set(picks["method"])
    assert picks["method"] == [1]


def test_the_problem_is_the_gap_with_the_sentence_before_only_when_it_points_back() -> None:
    opening = ["Diffusion models generate images of high quality."]
    rest = ["We propose a one-step generator trained adversarially.", "It improves FID from 12.5 to 3.4."]
    probs = _probs(BG, BG, METH, RES)
    alone = _pick([*opening, "However, step distillation remains costly for large models.", *rest], probs)
    assert alone["problem"] == [1]
    pointing = _pick([*opening, "However, these models remain slow at inference time.", *rest], probs)
    assert pointing["problem"] == [0, 1]


def test_a_survey_has_no_key_result_but_an_unsure_finding_still_is_one() -> None:
    survey = [
        "Synthetic images are increasingly used as training data.",
        "This survey reviews the methods that generate such data.",
        "We organise them into a taxonomy of generation and selection.",
        "We close with open problems and directions for future research.",
    ]
    # Even where the role model calls the closing sentence a result, it reports no outcome.
    assert _pick(survey, _probs(BG, OBJ, METH, RES))["results"] == []
    found = [*survey[:3], "We find that mixing synthetic and real data improves accuracy on ImageNet."]
    # The role model doubts the finding (a 0.2 result probability): it is still the key result.
    unsure = (0.3, 0.1, 0.4, 0.2, 0.0)
    assert _pick(found, _probs(BG, OBJ, METH, unsure))["results"] == [3]


def test_an_outcome_word_in_the_context_is_no_key_result() -> None:
    dataset = [
        "Accurate wind power forecasting leads to a more stable grid.",
        "We present SDWPF, a dataset of 134 wind turbines with their positions and statuses.",
        "We use this dataset to launch a forecasting competition.",
    ]
    # The opening context says "leads to", and the role model rules out a result: the paper states no finding.
    assert _pick(dataset, _probs(BG, METH, METH))["results"] == []
    found = [*dataset, "Training on SDWPF improves the forecasting error of every baseline."]
    # An outcome word where the role model merely doubts a result still reports one.
    unsure = (0.3, 0.1, 0.4, 0.2, 0.0)
    assert _pick(found, _probs(BG, METH, METH, unsure))["results"] == [3]


def test_no_cell_repeats_another_on_the_sample_listing() -> None:
    from pipeline.sources.files import read_inputs

    engine = EmbeddedEngine()
    papers = list(read_inputs([str(REPO / "data" / "hf-papers-listing-2026-03-12.txt")]))
    assert len(papers) == 69
    for paper in papers:
        out = engine.summarize(paper)
        s, e = out.summary, out.evidence
        assert s.tldr not in (s.problem, s.method), paper.title
        assert not set(e.tldr) & set(e.problem), paper.title
        assert not set(e.problem) & set(e.method), paper.title
        if s.results:
            assert s.results[0] not in (s.problem, s.method), paper.title


def test_metric_names_match_with_their_own_case_and_once() -> None:
    assert find_metrics("We map each pixel to a class; this is what the model is for.") == []
    assert find_metrics("It reaches 41.2 mAP and an Inception Score (IS) of 356.4.") == ["IS", "mAP"]
    assert find_metrics("The inception score IS rises; F1 score and F1 both improve.").count("F1") == 1


def test_task_names_need_a_tasks_context_when_ambiguous() -> None:
    assert find_tasks("The model conditions on images from earlier denoising steps.") == []
    assert find_tasks("PASS contains images with complete attribution metadata.") == []
    assert find_tasks("We benchmark image denoising and feature attribution methods.") == ["denoising", "attribution"]


def test_the_sample_papers_the_issue_names_read_right() -> None:
    from pipeline.sources.files import read_inputs

    engine = EmbeddedEngine()
    records = {
        p.title.split(":")[0]: engine.summarize(p).summary
        for p in read_inputs([str(REPO / "data" / "hf-papers-listing-2026-03-12.txt")])
    }
    assert "attribution" not in records["PASS"].tasks
    assert "denoising" not in records["ARFlow"].tasks
    assert "scaling law" not in records["Visual Autoregressive Modeling"].method
    assert "99.9" not in records["Good Seed Makes a Good Crop"].method
    assert records["Visual Autoregressive Modeling"].metrics.count("IS") == 1
    assert "Inception Score" not in records["Visual Autoregressive Modeling"].metrics


def test_a_task_chip_states_a_fact_about_the_paper() -> None:
    assert find_tasks("We collect the data.", "Relation Extraction Across Entire Books") == ["relation extraction"]
    assert find_tasks("We apply it to visual question answering models.") == ["visual question answering"]
    assert find_tasks("It is applicable to many CNNs, such as those used in reinforcement learning.") == []
    assert find_tasks("The task requires structured reasoning.") == []  # how, not what
    assert find_tasks("We improve the mathematical reasoning of LLMs.") == ["reasoning"]
    assert find_tasks("We build a multimodal commonsense reasoning model.") == ["commonsense reasoning"]
    text = "Safety matters. Many image generation models produce harmful content. We detect unsafe images."
    assert find_tasks(text) == ["image generation"]
    assert find_tasks(text, roles=["background", "background", "objective"]) == []  # others' systems, the field
    opening = "Time series forecasting is critical for weather prediction. We propose CASA."
    assert find_tasks(opening, roles=["background", "method"]) == ["time series forecasting"]


def test_the_sample_papers_issue_37_names_have_no_wrong_task_chip() -> None:
    from pipeline.sources.files import read_inputs

    engine = EmbeddedEngine()
    tasks = {
        p.title.split(":")[0]: engine.summarize(p).summary.tasks
        for p in read_inputs([str(REPO / "data" / "hf-papers-listing-2026-03-12.txt")])
    }
    assert tasks["MLLM-as-a-Judge for Image Safety without Human Labeling"] == []
    assert tasks["Grad-CAM"] == ["image classification", "visual question answering"]
    assert tasks["The Open Images Dataset V4"] == ["image classification", "object detection"]
    assert tasks["Social Biases through the Text-to-Image Generation Lens"] == ["text-to-image generation"]  # title


def test_the_task_evaluation_counts_where_each_chip_comes_from(tmp_path) -> None:
    from pipeline.evaluate.tasks import evaluate

    path = tmp_path / "dev.jsonl"
    fields = {"tldr": "A benchmark.", "motivation": "", "method": "", "result": ""}
    rows = [
        {"title": "Anomaly Detection for Plants", "abstract": "We study plants. It needs structured reasoning."},
        {"title": "T", "abstract": "We study object detection in fog.", **fields, "method": "object detection"},
    ]
    path.write_text("".join(json.dumps({**fields, **row}) + "\n" for row in rows))
    result = evaluate(path)
    assert result["anywhere_in_abstract"] == {
        "papers": 2,
        "with_chips": 2,
        "title": 0,
        "echoed": 1,
        "not_echoed": 1,
    }  # "reasoning" from the first abstract, "object detection" echoed by the LLM's method
    assert result["chips"] == {"papers": 2, "with_chips": 2, "title": 1, "echoed": 1, "not_echoed": 0}
