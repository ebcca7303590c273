"""What a run leaves in its output folder: the corpus merged in the folder's layout (single or partitioned,
`pipeline.archive`; ranked for a reader when interests are set), the tables, page and feed rendered from it in
the same pass, and the report written (failures.jsonl, run.json) with secrets masked.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from pipeline import corpus, rank, table
from pipeline.corpus.lines import MergeReport
from pipeline.dispatch import Failure, RunReport
from pipeline.errors import OutputError
from pipeline.files import write_text_atomic
from pipeline.secrets import redact, redact_deep
from pipeline.settings import Settings


def outputs(settings: Settings, ranking: Any = None, archive: str = "") -> corpus.Sink:
    """Everything rendered from the merged corpus in the same pass: the tables and, unless turned off, the feed.
    With a reader's ranking (`pipeline.rank.render`) the tables follow it and the feed holds its digest.
    ``archive``: the page's links to earlier periods (partitioned layout, `pipeline.archive`)."""
    from pipeline.leaderboard.names import Names

    tables = table.TableWriter(
        settings.out_dir,
        html_page=settings.html,
        title=settings.title,
        ranking=ranking,
        archive=archive,
        names=Names.of(settings.leaderboard),
    )
    if not settings.feed:
        return tables
    from pipeline.feed import FeedWriter

    feed: Any = FeedWriter(
        settings.out_dir, title=settings.title, max_entries=settings.feed_max_entries, site_url=settings.site_url
    )
    if ranking is not None:
        from pipeline.rank.render import Chosen

        feed = Chosen(feed, ranking.chosen)
    return corpus.Fanout(tables, feed)


def _merge_ranked(settings: Settings, records: Any, drop: set[str]) -> tuple[MergeReport, dict[str, Any]]:
    """With interests: the corpus merged first (reader-independent), then ranked (ranking.jsonl), then the tables,
    page and feed rendered from it in the reader's order."""
    from pipeline.rank.render import rank_corpus

    merged = corpus.merge(settings.out_dir, records, sink=None, drop=drop)
    ranking = rank_corpus(settings.out_dir, settings)
    corpus.merge_corpora(settings.out_dir, [], sink=outputs(settings, ranking))
    return merged, ranking.summary


def _merge_partitioned(
    settings: Settings, records: Any, drop: set[str], inputs: list[Path] | None = None
) -> tuple[MergeReport, dict[str, Any] | None]:
    """``corpus_layout = "partitioned"`` (`pipeline.archive`): the run's records (or ``inputs``' corpora, for
    ``summarize merge``) upserted into the partitions they belong to, the changed archive periods rendered, then
    the digest (ranked for the reader when interests are set) as the tables, page and feed."""
    from pipeline import archive

    used: dict[str, Any] = {}

    def make_sink(links: str) -> corpus.Sink:
        ranking = None
        if rank.wanted(settings.interests):
            from pipeline.rank.render import rank_corpus

            ranking = rank_corpus(settings.out_dir, settings)
            used.update(ranking.summary)
        return outputs(settings, ranking, archive=links)

    if inputs is None:
        merged = archive.upsert_run(settings, records, drop, make_sink)
    else:
        merged = archive.upsert_merge(settings, inputs, make_sink)
    if not rank.wanted(settings.interests):
        (settings.out_dir / rank.RANKING_FILE).unlink(missing_ok=True)
    return merged, used or None


def merge_run(settings: Settings, records: Any, drop: set[str]) -> tuple[MergeReport, dict[str, Any] | None]:
    """A run's records into the corpus (``drop``: the ids superseded), the tables, page and feed rendered from it;
    with interests, what the ranking used (else None)."""
    if settings.corpus_layout == "partitioned":
        return _merge_partitioned(settings, records, drop)
    from pipeline.archive import prepare

    prepare(settings.out_dir, "single")  # partitions folded back into corpus.jsonl first
    if rank.wanted(settings.interests):
        return _merge_ranked(settings, records, drop)
    merged = corpus.merge(
        settings.out_dir, records, sink=outputs(settings), drop=drop
    )  # finishes or aborts the tables and the feed
    (settings.out_dir / rank.RANKING_FILE).unlink(missing_ok=True)  # no reader: no stale ranking
    return merged, None


def merge_folders(settings: Settings, inputs: list[Path]) -> MergeReport:
    """``summarize merge``: the corpora of ``inputs`` (folders) merged into ``settings.out_dir`` in its layout,
    the tables, page and feed rendered again (in the reader's order when interests are set)."""
    out_dir = settings.out_dir
    from pipeline.archive import store, write

    if settings.corpus_layout == "partitioned":
        merged, _used = _merge_partitioned(settings, None, set(), inputs)
    elif rank.wanted(settings.interests):  # merged first, then ranked, then rendered in the reader's order
        from pipeline.rank.render import rank_corpus

        if store.is_partitioned(out_dir):
            write.to_single(out_dir)

        merged = corpus.merge_corpora(out_dir, inputs, sink=None, files_of=store.files_of)
        corpus.merge_corpora(out_dir, [], sink=outputs(settings, rank_corpus(out_dir, settings)))
    else:
        if store.is_partitioned(out_dir):  # corpus_layout = "single": the partitions folded back first
            write.to_single(out_dir)
        merged = corpus.merge_corpora(out_dir, inputs, sink=outputs(settings), files_of=store.files_of)
    if settings.corpus_layout != "partitioned":  # a shard's files named like partitions with impossible dates
        merged.warnings += [warning for folder in inputs for warning in store.stray_warnings(folder)]
    return merged


def write_failures(out_dir: Path, failures: list[Failure]) -> None:
    path = out_dir / "failures.jsonl"
    if not failures:
        path.unlink(missing_ok=True)
        return
    # Whole or not at all, never through a link planted in the folder (like every output), secrets masked.
    text = "".join(json.dumps(asdict(failure), ensure_ascii=False) + "\n" for failure in failures)
    try:
        write_text_atomic(path, redact(text))
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc


def redact_report(report: RunReport) -> None:
    """Secrets out of everything the report holds before it is printed or written (a key a server echoed into an
    error, a URL's user:password)."""
    for failure in report.failures:
        failure.error, failure.title = redact(failure.error), redact(failure.title)
        failure.source = redact(failure.source)
    for name in ("fetch", "enrich", "executor"):
        value = getattr(report, name, None)
        if isinstance(value, dict):
            setattr(report, name, redact_deep(value))


def write_json(path: Path, data: dict[str, Any]) -> None:
    try:
        write_text_atomic(path, redact(json.dumps(data, indent=2, ensure_ascii=False) + "\n"))
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc
