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
class Outcome:
    digest: Digest
    files: list[Path]
    dry_run: bool
    sent: list[str] = field(default_factory=list)  # "e-mail to a@b.org", "webhook hooks.slack.com"
    skipped: list[str] = field(default_factory=list)  # channels that already carried this digest
    errors: list[DeliveryError] = field(default_factory=list)
    channels: int = 0


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


def deliver(settings: Settings, delivery: Delivery, *, dry_run: bool = False, now: datetime | None = None) -> Outcome:
    """Choose the digest of ``settings.out_dir``, write it, and send it on each channel ``delivery`` names that has
    not carried it yet. A failed channel is in ``Outcome.errors`` (the others still go, the files stay)."""
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
        return _deliver_locked(settings, delivery, dry_run, now or datetime.now(UTC))
    finally:
        lock.release()


def _deliver_locked(settings: Settings, delivery: Delivery, dry_run: bool, now: datetime) -> Outcome:
    out_dir = settings.out_dir
    known = state.load(out_dir)
    digest = select(out_dir, known, delivery.top)
    site = settings.site_url or ""
    if site.lower().startswith(("https://", "http://")) and all(ch.isprintable() and not ch.isspace() for ch in site):
        digest.page_url = site  # linked at the end of each message
    date = now.date().isoformat()
    title = settings.title
    page = render.page(title, date, digest)
    files = [_write(out_dir, DIGEST_MD, render.markdown(title, date, digest)), _write(out_dir, DIGEST_HTML, page)]
    outcome = Outcome(digest, files, dry_run)
    channels = []
    if delivery.email_to:
        channels.append(("email", f"e-mail to {', '.join(delivery.email_to)}"))
    if delivery.webhook:
        channels.append(("webhook", f"webhook {webhook.host_of(delivery.webhook)}"))
    outcome.channels = len(channels)
    if dry_run or not digest.items:
        return outcome
    at = now.isoformat(timespec="seconds")
    entry = known.record_digest(digest.id, digest.basis, at, digest.keys)
    delivered = not channels or any(name in entry.get("sent", {}) for name, _ in channels)
    for name, label in channels:
        if name in entry.get("sent", {}):
            outcome.skipped.append(label)
            continue
        try:
            note = _send(name, settings, delivery, digest, date, page)
        except DeliveryError as exc:
            outcome.errors.append(exc)
            continue
        if note:
            outcome.errors.append(DeliveryError(note, channel=name))
        info: dict[str, Any] = {"at": at}
        info.update({"to": list(delivery.email_to)} if name == "email" else {"host": label.split(" ", 1)[1]})
        known.mark_sent(digest.id, name, info)
        known.mark_delivered(digest.id, at, digest.keys)  # saved at once: a crash later never sends this again
        state.save(out_dir, known, delivery.remember)
        outcome.sent.append(label)
        delivered = True
    if delivered:
        known.mark_delivered(digest.id, at, digest.keys)
    state.save(out_dir, known, delivery.remember)
    return outcome


def _send(name: str, settings: Settings, delivery: Delivery, digest: Digest, date: str, page: str) -> str:
    title = settings.title
    if name == "email":
        msg = mail.message(
            delivery, render.subject(title, date, digest), render.text(title, date, digest), page, digest.id
        )
        return mail.send(msg, delivery)
    webhook.post(str(delivery.webhook), render.webhook_body(title, date, digest), delivery.webhook_timeout_s)
    return ""


def report_lines(outcome: Outcome) -> list[str]:
    """What the terminal shows of a delivery (titles without control characters)."""
    digest = outcome.digest
    lines = [
        f"digest {digest.id}: {len(digest.items)} new of {digest.candidates} candidates "
        f"({'ranking.jsonl' if digest.ranked else 'newest first'}), {len(digest.seen)} seen before"
    ]
    lines += [f"  {n}. {render.plain(item.title)[:120]}" for n, item in enumerate(digest.items, start=1)]
    lines.append("wrote " + ", ".join(str(path) for path in outcome.files))
    if outcome.dry_run:
        lines.append(f"dry run: {outcome.channels} channel(s) configured, nothing sent, nothing remembered")
    elif not digest.items:
        lines.append("nothing new to send")
    elif not outcome.channels:
        lines.append("no channel configured (--email-to, --webhook): the digest files are the delivery")
    lines += [f"sent: {label}" for label in outcome.sent]
    lines += [f"already sent: {label} (same digest)" for label in outcome.skipped]
    return lines
