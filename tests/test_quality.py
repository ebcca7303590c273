"""What a reader sees: fields from role probabilities, a trained tldr, compression that only deletes, field evals."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
from conftest import REPO, invoke
from hypothesis import given
from hypothesis import strategies as st

from pipeline.engines.embedded import EmbeddedEngine, _pick
from pipeline.extractive.roles import ROLES, default_model, marginals, viterbi
from pipeline.schema import Paper
from pipeline.extractive.tldr import compress, tldr_text

WORD = re.compile(r"[\w'-]+")


def test_marginals_are_probabilities_and_agree_with_viterbi_on_clear_cases() -> None:
    rng = np.random.default_rng(0)
    for n in (1, 2, 7, 30):
        emissions = rng.normal(size=(n, 5))
        start, trans = rng.normal(size=5), rng.normal(size=(5, 5))
        probs = marginals(emissions, start, trans)
        assert probs.shape == (n, 5)
        assert np.allclose(probs.sum(axis=1), 1.0) and (probs >= 0).all()
    # Brute force on a short chain: the marginal of each position equals the sum over all paths.
    emissions, start, trans = rng.normal(size=(3, 5)), rng.normal(size=5), rng.normal(size=(5, 5))
    brute = np.zeros((3, 5))
    for a in range(5):
        for b in range(5):
            for c in range(5):
                w = np.exp(start[a] + emissions[0, a] + trans[a, b] + emissions[1, b] + trans[b, c] + emissions[2, c])
                brute[0, a] += w
                brute[1, b] += w
                brute[2, c] += w
    assert np.allclose(marginals(emissions, start, trans), brute / brute[0].sum())
    strong = np.eye(5)[[0, 2, 3]] * 50
    assert viterbi(strong, start, trans) == list(marginals(strong, start, trans).argmax(axis=1)) == [0, 2, 3]


def test_real_abstract_marginals_sum_to_one() -> None:
    sentences = ["Models forget.", "We propose a memory.", "It improves accuracy by 3.2%."]
    _, probs = default_model().analyse(sentences)
    assert np.allclose(probs.sum(axis=1), 1.0)


@given(
    st.lists(
        st.sampled_from(
            "In this paper, we propose a (simple) method [12] for the task , which improves results by 3 % ; "
            "Specifically, To this end, however Here we show that our model , thereby making it fast "
            "Based on this observation, While \\textit{new} this paper proposes".split(" ")
        ),
        min_size=0,
        max_size=60,
    )
)
def test_compression_never_adds_a_word(words: list[str]) -> None:
    sentence = " ".join(words)
    for short in (compress(sentence), tldr_text(sentence)):
        assert {w.lower() for w in WORD.findall(short)} <= {w.lower() for w in WORD.findall(sentence)}
        assert len(WORD.findall(short)) <= len(WORD.findall(sentence))


def test_compression_drops_openers_parentheticals_and_citations() -> None:
    out = compress("In this paper, we propose VAR (visual autoregressive modeling) [3], a new paradigm for images.")
    assert out == "We propose VAR, a new paradigm for images."
    assert compress("Here we introduce a benchmark for long-context retrieval in code.") == (
        "We introduce a benchmark for long-context retrieval in code."
    )
    # A cut that would leave a stub is not made.
    assert compress("To this end, we train it.") == "To this end, we train it."


def test_a_key_result_with_a_number_wins_over_one_without() -> None:
    sentences = [
        "Generating images is slow.",
        "We propose a scale-wise model.",
        "Our model achieves an FID of 1.80 against 18.65 for the baseline.",
        "These results suggest the model has useful properties.",
    ]
    # The model is equally sure both last sentences are results; the stated comparison decides.
    probs = np.array(
        [
            [0.9, 0.05, 0.03, 0.01, 0.01],
            [0.05, 0.3, 0.6, 0.04, 0.01],
            [0.02, 0.02, 0.16, 0.8, 0.0],
            [0.02, 0.02, 0.16, 0.8, 0.0],
        ]
    )
    picks = _pick(sentences, probs)
    assert picks["results"][0] == 2 and picks["results"] == [2, 3]
    assert picks["method"] == [1] and picks["problem"] == [0]
    assert not set(picks["results"]) & set(picks["method"]) & set(picks["problem"])


def test_each_sentence_serves_one_field_and_no_finding_means_no_key_result() -> None:
    probs = np.array([[0.9, 0.05, 0.03, 0.01, 0.01], [0.1, 0.2, 0.6, 0.09, 0.01], [0.1, 0.1, 0.7, 0.09, 0.01]])
    picks = _pick(["Proofs are hard.", "We formalise a calculus.", "We give its rules."], probs)
    assert picks["results"] == []
    used = picks["problem"] + picks["method"]
    assert len(used) == len(set(used))


def test_embedded_record_reads_as_a_summary() -> None:
    abstract = (
        "In this paper, we propose Visual AutoRegressive modeling (VAR), a new generation paradigm for images. "
        "Autoregressive models have lagged behind diffusion models in image quality. "
        "VAR predicts the next scale instead of the next token. "
        "On ImageNet 256x256, VAR improves the FID from 18.65 to 1.80 with 20x faster inference. "
        "We have released all models and code."
    )
    out = EmbeddedEngine().summarize(
        Paper(id="x", title="Visual Autoregressive Modeling", abstract=abstract, source="t")
    )
    assert out.summary.tldr.startswith("We propose Visual AutoRegressive modeling")
    assert "(VAR)" not in out.summary.tldr  # compressed
    assert out.summary.results and "1.80" in out.summary.results[0]
    assert not any("released" in claim for claim in out.summary.results)


def _fixture_files(tmp_path: Path) -> tuple[Path, Path]:
    roles = tmp_path / "roles.jsonl"
    roles.write_text(
        json.dumps(
            {
                "sentences": ["Retrieval is slow.", "We propose an index.", "It improves recall by 12% over FAISS."],
                "labels": ["background", "method", "result"],
            }
        )
        + "\n"
    )
    tldr = tmp_path / "tldr.jsonl"
    tldr.write_text(
        json.dumps(
            {
                "source": ["Retrieval is slow.", "We propose an index that is fast.", "It is 3x faster than FAISS."],
                "target": ["We propose an index that is fast.", "A fast index."],
                "title": "Fast index",
            }
        )
        + "\n"
    )
    return roles, tldr


def test_eval_fields_and_tldr_on_a_small_fixture(tmp_path: Path) -> None:
    roles, tldr = _fixture_files(tmp_path)
    lines = invoke("eval", "--fields", str(roles), "--tldr", str(tldr), "--json").stdout.splitlines()
    fields, tl = (json.loads(line) for line in lines)
    assert fields["scored"] == "fields" and fields["abstracts"] == 1 and fields["model"] == "embedded"
    assert fields["fields"]["results"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "empty": 0.0}
    assert fields["key_result_precision"] == 1.0
    assert fields["fields"]["problem"]["precision"] == 1.0
    # The tldr picks the sentence that is the author TLDR word for word: ROUGE 100 against the best target.
    assert tl["scored"] == "tldr" and tl["papers"] == 1
    assert tl["rouge1"] == tl["rouge2"] == tl["rougeL"] == 100.0
    human = invoke("eval", "--fields", str(roles)).stdout
    assert "key result is a result sentence: 1.000" in human


def test_eval_needs_something_to_score() -> None:
    result = invoke("eval", expect=2)
    assert "--fields" in result.output
    assert len(ROLES) == 5


def test_grounding_reads_a_reviewers_paraphrase_as_supported_and_another_papers_summary_as_not() -> None:
    from pipeline.grounding import THRESHOLD, support

    abstract = (
        "Quantizing neural networks to low precision saves memory. We propose a method that learns a separate "
        "bit-width for every layer. It reduces the memory of ResNet-50 by 8x with no loss of accuracy."
    )
    # How reviewers write: about the paper, in the third person; every reporting form is discounted alike.
    reviewer = "The paper proposes learning a separate quantization bit-width per layer of a neural network."
    assert support(reviewer, abstract) == support(reviewer.replace("proposes", "presents"), abstract)
    assert support(reviewer, abstract) >= THRESHOLD
    other = "A graph attention model that predicts molecular properties from atom neighbourhoods."
    assert support(other, abstract) < THRESHOLD


def test_eval_grounding_on_a_small_fixture(tmp_path: Path) -> None:
    papers = [
        {
            "title": "Paper A",
            "source": [
                "Image generators are slow.",
                "We propose VAR, predicting the next scale.",
                "VAR reaches FID 1.80.",
            ],
            "target": [
                "VAR generates images scale by scale.",
                "The authors present VAR, a next-scale image generator.",
            ],
        },
        {
            "title": "Paper B",
            "source": [
                "Speech models need labels.",
                "We pretrain a speech encoder on unlabelled audio.",
                "It cuts WER by 20%.",
            ],
            "target": [
                "A speech encoder pretrained on unlabelled audio.",
                "Pretraining speech encoders without labels.",
            ],
        },
    ]
    path = tmp_path / "tldr.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in papers))
    result = json.loads(invoke("eval", "--grounding", str(path), "--json").stdout)
    assert result["counts"] == {"author": 2, "reviewer": 2, "other_paper": 2, "changed_number": 2}
    assert result["author_refused"] == result["reviewer_refused"] == 0.0
    assert result["other_paper_accepted"] == 0.0 and result["changed_number_accepted"] == 0.0
    # A file with one TLDR per paper (SciTLDR train) has no reviewer-derived rate: said, not a crash.
    path.write_text("".join(json.dumps({**p, "target": p["target"][:1]}) + "\n" for p in papers))
    assert "reviewer-derived n/a" in invoke("eval", "--grounding", str(path)).stdout


def test_a_headline_result_the_role_model_reads_as_background_is_still_the_key_result() -> None:
    sentences = [
        "We present a scale-wise image generator.",
        "On ImageNet, it improves the FID from 18.65 to 1.80 with 20x faster inference.",
        "Scaling it up shows clean power laws.",
        "These results suggest it has useful properties.",
    ]
    # Modern abstracts state the headline number early; the role model, trained on older abstracts, reads it as
    # background and is far surer about the vague closing sentence.
    probs = np.array(
        [
            [0.4, 0.3, 0.28, 0.01, 0.01],
            [0.5, 0.05, 0.39, 0.05, 0.01],
            [0.2, 0.05, 0.5, 0.25, 0.0],
            [0.03, 0.04, 0.15, 0.75, 0.03],
        ]
    )
    assert _pick(sentences, probs)["results"][0] == 1
    # A year or a citation is not a quantified comparison.
    sentences[1] = "Since 2019 (Smith et al., 2021) generators improved on ImageNet."
    assert _pick(sentences, probs)["results"][0] != 1


def test_the_sample_listings_headline_results_are_the_key_results() -> None:
    from pipeline.sources.files import read_inputs

    wanted = {"Visual Autoregressive Modeling": "from 18.65 to 1.80", "Good Seed Makes a Good Crop": "FID of 21.60"}
    engine = EmbeddedEngine()
    found = {}
    for paper in read_inputs([str(REPO / "data" / "hf-papers-listing-2026-03-12.txt")]):
        for title, number in wanted.items():
            if paper.title.startswith(title):
                found[title] = number in engine.summarize(paper).summary.results[0]
    assert found == {title: True for title in wanted}


def test_publisher_boilerplate_and_release_notes_are_never_findings() -> None:
    sentences = [
        "Interpreting generative networks is hard.",
        "We dissect a GAN into units tied to object concepts.",
        "Intervening on these units removes trees from generated scenes.",
        "We provide open source interpretation tools to help researchers understand their models.",
        "Our large synthetic dataset, consisting of 48,000 synthetic face image pairs (10,200 unique synthetic faces) "
        "and 555,000 human annotations (individual attributes and pairwise identity comparisons) is available to "
        "researchers in this important area.",
        "Keywords: generative models; interpretability",
        "© 2019 Elsevier Ltd. All rights reserved.",
    ]
    # The role model is surest about the release notes and the scraped boilerplate; none of them is a finding.
    probs = np.array(
        [
            [0.9, 0.05, 0.03, 0.01, 0.01],
            [0.05, 0.3, 0.6, 0.04, 0.01],
            [0.05, 0.05, 0.2, 0.7, 0.0],
            [0.0, 0.05, 0.05, 0.9, 0.0],
            [0.0, 0.05, 0.05, 0.9, 0.0],
            [0.0, 0.0, 0.05, 0.9, 0.05],
            [0.3, 0.0, 0.05, 0.6, 0.05],
        ]
    )
    picks = _pick(sentences, probs)
    assert picks["results"] == [2]
    assert not {5, 6} & set(picks["problem"] + picks["method"])


def test_an_abstract_that_opens_with_its_contribution_states_no_problem() -> None:
    sentences = [
        "In this paper, we show that a binary latent space can be explored for compact image representations.",
        "We model the mappings between an image and its binary code with a Bernoulli auto-encoder.",
        "Each image patch becomes a binary vector instead of a codebook index.",
        "Images are then generated with a diffusion model over the binary codes.",
        "The model performs comparably to the state of the art while sampling in 16 steps.",
    ]
    # Nothing comes before the paper turns to its own work, and no sentence states a gap: neither the contribution
    # (a claim, "we show that ...") nor a method sentence is the problem. The cell is empty ("not stated").
    probs = np.array(
        [
            [0.1, 0.45, 0.43, 0.01, 0.01],
            [0.2, 0.1, 0.68, 0.01, 0.01],
            [0.05, 0.05, 0.85, 0.05, 0.0],
            [0.05, 0.05, 0.8, 0.1, 0.0],
            [0.02, 0.02, 0.16, 0.8, 0.0],
        ]
    )
    assert _pick(sentences, probs)["problem"] == []


def test_compression_keeps_the_text_of_latex_markup() -> None:
    out = compress(r"We propose a novel \textit{training-free} compositional CLIP model.")
    assert out == "We propose a novel training-free compositional CLIP model."


def test_the_tldr_drops_a_leading_clause_a_problem_cell_keeps() -> None:
    sentence = (
        "While existing methods approximate the constrained posterior, this paper proposes to exploit tractable "
        "probabilistic models to compute it exactly."
    )
    assert tldr_text(sentence) == "This paper proposes to exploit tractable probabilistic models to compute it exactly."
    # In a problem cell the leading clause is the gap itself.
    assert compress(sentence).startswith("While existing methods approximate the constrained posterior")
