"""The reader's votes as labelled examples (issue 33): a "less" vote moves the papers like it and leaves the rest
of the day alone, a "more" vote lifts its kind, scores stay on one 0-100 scale whatever the votes, the page's
feedback export carries the abstract so it ranks without the corpus, and `eval --feedback-days` replays the loop."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import REPO, SAMPLE, invoke

from pipeline.rank import Profile, rank_papers
from pipeline.rank.loop import replay


def _ranked(*args: str) -> dict[str, dict]:
    lines = invoke("rank", *args, "--json").stdout.splitlines()
    return {x["id"]: x for x in (json.loads(line) for line in lines if line.strip())}


@pytest.fixture(scope="module")
def sample_papers() -> list[dict]:
    """The sample listing's papers as `rank` reads them (ids, titles, abstracts)."""
    from pipeline.errors import InputError
    from pipeline.sources.files import read_inputs

    papers = [p for p in read_inputs([str(SAMPLE)]) if not isinstance(p, InputError)]
    assert len(papers) == 69
    return [{"id": p.id, "title": p.title, "abstract": p.abstract} for p in papers]


def _feedback(tmp_path: Path, items: list[dict], name: str = "feedback.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps({"format": "summarize-feedback", "version": 1, "items": items}))
    return str(path)


def _vote(paper: dict, vote: str, at: str = "2026-03-12T08:00:00Z", abstract: bool = True) -> dict:
    item = {"id": paper["id"], "title": paper["title"], "vote": vote, "at": at}
    if abstract:
        item["abstract"] = paper["abstract"]
    return item


def _library_file(tmp_path: Path, papers: list[dict]) -> str:
    path = tmp_path / "library.jsonl"
    path.write_text("".join(json.dumps({"title": p["title"], "abstract": p["abstract"]}) + "\n" for p in papers))
    return str(path)


def test_one_less_vote_moves_only_the_papers_like_it(tmp_path, sample_papers):
    library = _library_file(tmp_path, sample_papers[:3])
    before = _ranked(str(SAMPLE), "--library", library)
    voted = sample_papers[10]
    after = _ranked(str(SAMPLE), "--library", library, "--library", _feedback(tmp_path, [_vote(voted, "less")]))
    assert set(after) == set(before) and len(after) == 69
    assert after[voted["id"]]["score"] < before[voted["id"]]["score"]
    unchanged = [i for i in before if i != voted["id"] and after[i]["score"] == before[i]["score"]]
    lowered = [i for i in before if after[i]["score"] < before[i]["score"]]
    assert len(unchanged) >= 50, f"one 'less' vote moved {69 - len(unchanged)} of 69 papers"
    assert all(after[i]["score"] <= before[i]["score"] for i in before), "a 'less' vote raised a paper"
    assert len({after[i]["score"] for i in after}) > 20 and max(x["score"] for x in after.values()) > 50
    moved = [after[i] for i in lowered if i != voted["id"]]
    assert all(any("marked “less”" in r for r in x["reasons"]) for x in moved)


def test_no_combination_of_votes_gives_an_all_zero_day(tmp_path, sample_papers):
    more, less = sample_papers[5], sample_papers[20]
    combos = {
        "only less": [_vote(less, "less")],
        "only more": [_vote(more, "more")],
        "more and less": [_vote(more, "more"), _vote(less, "less", at="2026-03-12T08:01:00Z")],
    }
    for name, items in combos.items():
        ranked = _ranked(str(SAMPLE), "--library", _feedback(tmp_path, items, f"{name}.json"))
        scores = [x["score"] for x in ranked.values()]
        assert len(scores) == 69, name
        assert sum(s == 0.0 for s in scores) < 5, f"{name}: {sum(s == 0.0 for s in scores)} scores of 0"
        assert len(set(scores)) > 1, f"{name}: every score the same"
        if "more" in name:
            assert ranked[more["id"]]["score"] >= 85, f"{name}: the paper voted more scores {ranked[more['id']]}"
            assert not any("little like" in r for r in ranked[more["id"]]["reasons"])
        if "less" in name:
            top = max(scores)
            assert ranked[less["id"]]["score"] < top, name
    only_less = _ranked(str(SAMPLE), "--library", _feedback(tmp_path, combos["only less"], "again.json"))
    # nothing to go by but one "less": the papers unlike it sit halfway, the one voted down below them
    assert sorted(x["score"] for x in only_less.values())[len(only_less) // 2] == pytest.approx(50.0, abs=1.0)
    # an empty library gives nothing to rank by: said, not a day of zeros
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    result = invoke("rank", str(SAMPLE), "--library", str(empty), expect=None)
    assert result.exit_code != 0 or "0.0" not in result.output.split("\n", 1)[0]


def test_a_strong_match_is_never_described_as_little_like_the_library():
    day = [
        {"id": "a", "title": "Galaxy morphology", "abstract": "Telescope images of galaxies.", "authors": ["Ada Lo"]},
        {"id": "b", "title": "Speech recognition", "abstract": "Acoustic models and word error rate."},
    ]
    library = [{"id": "l", "title": "Word error rate of speech", "abstract": "Speech recognition acoustic models."}]
    ranked = rank_papers(day, Profile(positives=library, authors=["Ada Lo"]))
    pinned = next(r for r in ranked if r.id == "a")
    assert pinned.score > 90 and not any("little like your library" in r for r in pinned.reasons)


def test_title_only_library_entries_are_never_named_as_the_closest(tmp_path, sample_papers):
    path = tmp_path / "titles.jsonl"
    titles = [  # not papers of the day, so nothing fills their abstracts: known by their titles alone
        "Diffusion Models for Image Generation at Scale",
        "Large Language Models as Reasoning Agents",
        "Video Generation with Transformers",
    ]
    rows = [{"title": t} for t in titles] + [{"title": sample_papers[6]["title"], "abstract": sample_papers[6]["abstract"]}]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    ranked = _ranked(str(SAMPLE), "--library", str(path))
    named = {t for x in ranked.values() for r in x["reasons"] for t in titles if t in r}
    assert not named, f"title-only entries named as closest: {named}"
    assert any(sample_papers[6]["title"][:40] in r for x in ranked.values() for r in x["reasons"])


def test_the_feedback_export_with_abstracts_ranks_without_the_corpus(tmp_path, sample_papers):
    from pipeline.sources.library import read_library

    voted = sample_papers[30]
    path = _feedback(tmp_path, [_vote(voted, "more")])
    entry = read_library([path]).entries[0]
    assert entry.abstract == voted["abstract"] and entry.vote == "more"
    # ranked against papers that are not in any corpus: the abstract alone decides what is alike
    day = tmp_path / "day.jsonl"
    others = [p for p in sample_papers if p["id"] != voted["id"]]
    day.write_text("".join(json.dumps({"title": p["title"], "abstract": p["abstract"]}) + "\n" for p in others))
    with_abstract = list(_ranked(str(day), "--library", path))
    title_only = list(_ranked(str(day), "--library", _feedback(tmp_path, [_vote(voted, "more", abstract=False)], "t.json")))
    assert with_abstract != title_only  # the abstract changed what counts as alike
    assert with_abstract[0] != "" and len(with_abstract) == 68


def test_eval_feedback_days_replays_the_loop_on_cases(tmp_path):
    result = invoke("eval", "--ranking", str(REPO / "data" / "ranking"), "--feedback-days", "--json", "--limit", "3")
    report = json.loads(result.output)
    assert report["scored"] == "ranking_loop" and report["topics_count"] == 8
    assert report["days"] == sum(min(3, t["days"]) for t in report["topics"].values())
    rows = report["rows"]
    assert all(r["votes"] == 10 * r["n"] for r in rows)  # the top 10 voted each morning, piling up
    assert all(r["voted_p"] == r["alone_p"] for r in rows if r["n"] == 0)  # day one has no votes
    text = invoke("eval", "--ranking", str(REPO / "data" / "ranking"), "--feedback-days", "--limit", "2").output
    assert "votes gain P@10" in text and "worst day" in text


def test_votes_never_cost_the_dev_loop_more_than_a_tenth_on_any_day():
    """The dev replay (data/ranking): votes help on average and no day loses more than 0.1 P@10 to them. The
    numbers are in docs/ranking.md; this guards the shape, with margin, not the last digit."""
    result = replay(REPO / "data" / "ranking")
    # measured: 0 days and +0.017; the margin keeps a near-tie that another numpy breaks the other way from failing
    assert result["days_worse_by_more_than_0.1"] <= 1
    assert result["votes_p_at_10"] >= result["alone_p_at_10"] - 0.005
    assert result["day_one_p_at_10"] > 0.3
