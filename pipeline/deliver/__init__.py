"""Delivery, the last stage: the digest of an output folder written as digest.md / digest.html and sent by e-mail
and to a webhook, remembering in delivered.json what went out (`state`), so that no paper and no message is sent
twice. Reads the corpus and the ranking; nothing upstream reads it.

`digest` chooses the papers, `render` writes each channel's form, `mail` and `webhook` send, `state` remembers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.deliver import mail, render, state, webhook
from pipeline.deliver.digest import Digest, select
from pipeline.errors import ConfigError, DeliveryError, LockedError, OutputError
from pipeline.files import write_text_atomic
from pipeline.sections import Delivery
from pipeline.settings import Settings

DIGEST_MD = "digest.md"
DIGEST_HTML = "digest.html"


@dataclass
class Channel:
    """One channel of a delivery and what became of it."""

    name: str  # "email" | "webhook"
    label: str  # "e-mail to a@b.org", "webhook hooks.slack.com"
    status: str = "pending"  # "sent" | "done" (nothing left for it) | "failed" | "dry run"
    papers: int = 0  # papers it carried (or, in a dry run, would carry)
    error: DeliveryError | None = None
    note: str = ""  # sent, but some recipients were refused


@dataclass
class Outcome:
    digest: Digest
    files: list[Path]
    dry_run: bool
    channels: list[Channel] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    marked: bool = False  # a preview counted as delivered (--mark-delivered)

    @property
    def errors(self) -> list[DeliveryError]:
        failed = [c.error for c in self.channels if c.error is not None]
        return failed + [DeliveryError(c.note, channel=c.name) for c in self.channels if c.note]


def with_flags(delivery: Delivery, **flags: Any) -> Delivery:
    """``[delivery]`` with the command line's values on top (a flag not given keeps the file's value)."""
    from pydantic import ValidationError

    given = {k: (list(v) if isinstance(v, tuple) else v) for k, v in flags.items() if v not in (None, ())}
    try:
        return Delivery.model_validate({**delivery.model_dump(), **given})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_url=False))
        raise ConfigError(f"invalid delivery settings: {problems}") from exc


def _write(out_dir: Path, name: str, text: str) -> Path:
    path = out_dir / name
    try:
        write_text_atomic(path, text)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return path


def deliver(
    settings: Settings,
    delivery: Delivery,
    *,
    dry_run: bool = False,
    mark_delivered: bool = False,
    now: datetime | None = None,
) -> Outcome:
    """Choose the digest of ``settings.out_dir``, write it, and send each channel ``delivery`` names the papers it
    has not carried yet. A failed channel is in ``Outcome.errors`` (the others still go, the files stay). With no
    channel the digest is a preview: nothing counts as delivered unless ``mark_delivered``."""
    from filelock import FileLock, Timeout

    out_dir = settings.out_dir
    if not out_dir.is_dir():
        raise OutputError(f"{out_dir} is not an output folder; run `summarize run ... --out {out_dir}` first")
    lock = FileLock(str(out_dir / ".summarize.lock"))
    try:
        lock.acquire(timeout=settings.lock_wait_s)
    except Timeout as exc:
        raise LockedError(f"another summarize run is writing to {out_dir}; wait for it to finish") from exc
    try:
        return _deliver_locked(settings, delivery, dry_run, mark_delivered, now or datetime.now(UTC))
    finally:
        lock.release()


def _channels(delivery: Delivery) -> list[Channel]:
    channels = []
    if delivery.email_to:
        channels.append(Channel("email", f"e-mail to {', '.join(delivery.email_to)}"))
    if delivery.webhook:
        channels.append(Channel("webhook", f"webhook {webhook.host_of(delivery.webhook)}"))
    return channels


def _deliver_locked(settings: Settings, delivery: Delivery, dry_run: bool, mark: bool, now: datetime) -> Outcome:
    out_dir = settings.out_dir
    known = state.load(out_dir, repair=not dry_run)
    channels = _channels(delivery)
    digest = select(out_dir, known, delivery.top, [c.name for c in channels])
    site = settings.site_url or ""
    if site.lower().startswith(("https://", "http://")) and all(ch.isprintable() and not ch.isspace() for ch in site):
        digest.page_url = site  # linked at the end of each message
    date = now.date().isoformat()
    title = settings.title
    page = render.page(title, date, digest)
    files = [_write(out_dir, DIGEST_MD, render.markdown(title, date, digest)), _write(out_dir, DIGEST_HTML, page)]
    outcome = Outcome(digest, files, dry_run, channels, list(known.problems))
    if mark and channels:
        outcome.warnings.append("--mark-delivered counts only without a channel: the channels mark what they carry")
    pending = {c.name: [i for i in digest.items if not known.delivered_on(i.id, i.version, c.name)] for c in channels}
    if dry_run:
        for channel in channels:
            channel.status, channel.papers = "dry run", len(pending[channel.name])
        outcome.warnings += mail.problems(delivery) if delivery.email_to else []
        outcome.warnings += webhook.problems(str(delivery.webhook)) if delivery.webhook else []
        return outcome
    at = now.isoformat(timespec="seconds")
    if not channels:
        if mark and digest.items:
            known.mark_delivered(digest.id, digest.basis, at, digest.keys, None)
            state.save(out_dir, known, delivery.remember)
            outcome.marked = True
        return outcome
    if any(pending.values()):
        state.save(out_dir, known, delivery.remember)  # a state that cannot be written fails before any send
    for channel in channels:
        items = pending[channel.name]
        if not items:
            channel.status = "done"
            continue
        part = digest.only(items)
        try:
            note = _send(channel.name, settings, delivery, part, date)
        except DeliveryError as exc:
            channel.status, channel.error = "failed", exc
            continue
        info: dict[str, Any] = {"at": at}
        where = {"to": list(delivery.email_to)} if channel.name == "email" else {"host": channel.label.split(" ", 1)[1]}
        info.update(where)
        known.record_send(part.id, digest.basis, at, part.keys, channel.name, info)
        state.save(out_dir, known, delivery.remember)  # at once, before anything else can fail: never sent twice
        channel.status, channel.papers, channel.note = "sent", len(items), note
    return outcome


def _send(name: str, settings: Settings, delivery: Delivery, digest: Digest, date: str) -> str:
    title = settings.title
    if name == "email":
        text, page = render.text(title, date, digest), render.page(title, date, digest)
        return mail.send(mail.message(delivery, render.subject(date, digest), text, page, digest.id), delivery)
    webhook.post(str(delivery.webhook), render.webhook_body(title, date, digest), delivery.webhook_timeout_s)
    return ""


def _papers(n: int) -> str:
    return f"{n} paper{'s' if n != 1 else ''}"


def report_lines(outcome: Outcome) -> list[str]:
    """What the terminal shows of a delivery, one sentence a line (titles without control characters)."""
    digest = outcome.digest
    order = "ranking.jsonl" if digest.ranked else "newest first"
    count = len(digest.items)
    new = f"{count} new paper{'s' if count != 1 else ''}" if count else "nothing new"
    of = f"{digest.candidates} candidate{'s' if digest.candidates != 1 else ''}"
    lines = [f"digest {digest.id}: {new} of {of} ({order}); {len(digest.seen)} sent before."]
    lines += [f"  {n}. {render.plain(item.title)[:120]}" for n, item in enumerate(digest.items, start=1)]
    lines.append("wrote " + ", ".join(str(path) for path in outcome.files))
    for channel in outcome.channels:
        if channel.status == "dry run":
            lines.append(f"{channel.label}: dry run, would send {_papers(channel.papers)}; nothing sent.")
        elif channel.status == "sent":
            lines.append(f"{channel.label}: sent {_papers(channel.papers)}.")
        elif channel.status == "done":
            lines.append(f"{channel.label}: nothing to send, the top papers were all sent on it before.")
        elif channel.status == "failed":
            lines.append(f"{channel.label}: not sent (the error is below); the next run tries again.")
    if outcome.dry_run:
        lines.append("dry run: nothing sent, nothing marked delivered.")
    elif not outcome.channels and outcome.marked:
        lines.append(f"preview (no channel): {_papers(len(digest.items))} marked delivered (--mark-delivered).")
    elif not outcome.channels:
        lines.append(
            "preview (no channel: --email-to, --webhook): nothing marked delivered (--mark-delivered would)."
        )
    return lines
