"""Link extraction on the sample listing and on the shapes URLs take in prose."""

from __future__ import annotations

import re

import pytest
from conftest import SAMPLE

from pipeline.claims import url_occurs_in as occurs_in
from pipeline.links import extract_links
from pipeline.sources.files import read_inputs

# Every URL of the sample listing, as a careful reader writes it down, with its kind.
EXPECTED = {
    "https://github.com/Zhiyuan-Li-John/MuCR": "code",
    "https://github.com/Vaidehi99/CausalInfoMin": "code",
    "https://github.com/ZiyuGuo99/Image-Generation-CoT": "code",
    "https://github.com/RuoyuChen10/SMDL-Attribution": "code",
    "https://github.com/mboudiaf/RePRI-for-Few-Shot-Segmentation": "code",
    "https://github.com/layer6ai-labs/dgm-eval": "code",
    "https://github.com/AGI-Edgerunners/IIL": "code",
    "https://github.com/deel-ai/Craft": "code",
    "https://github.com/OliverRensu/MVAR": "code",
    "https://huggingface.co/datasets/anonymous1233/COCO_AI": "dataset",
    "https://huggingface.co/datasets/anonymous1233/twitter_AI": "dataset",
    "https://github.com/sshirahmad/GCRL": "code",
    "https://huggingface.co/spaces/JVice/try-before-you-bias": "demo",
    "https://www.youtube.com/channel/UCk-0xyUyT0MSd_hkp4jQt1Q": "video",
    "https://github.com/mwxely/AIGS": "code",
    "https://cond-image-leak.github.io/": "project",
    "https://grenoble-zhang.github.io/Ctrl-U-Page/": "project",
    "https://github.com/huitangtang/On_the_Utility_of_Synthetic_Data": "code",
    "https://pmh9960.github.io/research/GCDP": "project",
    "https://crfm.stanford.edu/helm/image2struct/v1.0.1/": "other",
    "https://github.com/ramprs/grad-cam/": "code",
    "http://gradcam.cloudcv.org": "demo",
    "https://youtu.be/COjUB9Izk6E": "video",
    "https://github.com/eric-ai-lab/ComCLIP": "code",
}


def test_every_sample_url_comes_out_once_clean_and_in_its_own_paper() -> None:
    papers = [p for p in read_inputs([str(SAMPLE)]) if not isinstance(p, Exception)]
    found: dict[str, str] = {}
    for paper in papers:
        for link in extract_links(paper.abstract):
            assert link.url not in found, f"{link.url} extracted twice"
            assert occurs_in(link.url, paper.abstract), f"{link.url} is not in its paper's text"
            found[link.url] = link.kind
    assert found == EXPECTED
    raw = SAMPLE.read_text()
    assert len(re.findall(r"https?://|youtu\.be/|(?<![/\w.])github\.com/", raw)) == len(EXPECTED)


@pytest.mark.parametrize(
    ("text", "url"),
    [
        ("see (https://github.com/a/b).", "https://github.com/a/b"),
        ("at https://en.wikipedia.org/wiki/Foo_(bar), and", "https://en.wikipedia.org/wiki/Foo_(bar)"),
        ("code: github.com/x/y; data", "https://github.com/x/y"),
        ("video youtu.be/abc!", "https://youtu.be/abc"),
        ('"https://x.github.io/p/"', "https://x.github.io/p/"),
        ("page www.example.org/a.", "https://www.example.org/a"),
    ],
)
def test_trailing_punctuation_is_not_part_of_the_url(text: str, url: str) -> None:
    assert [link.url for link in extract_links(text)] == [url]


def test_prose_with_dots_is_not_a_url() -> None:
    assert extract_links("We use e.g. ResNet-50 (He et al. 2016), i.e. a CNN. Fig. 3 shows 4.9% gains.") == []


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("https://gitlab.com/a/b", "code"),
        ("https://huggingface.co/datasets/a/b", "dataset"),
        ("https://huggingface.co/spaces/a/b", "demo"),
        ("https://arxiv.org/abs/2401.00001", "paper"),
        ("https://vimeo.com/1", "video"),
        ("https://someone.github.io/", "project"),
    ],
)
def test_kind_comes_from_host_and_path(url: str, kind: str) -> None:
    assert extract_links(f"See {url} now.")[0].kind == kind
