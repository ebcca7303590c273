"""OpenReview: a venue's papers from the API v2 (``{base}/notes``), read with the shared bounded client.

``--venue ICLR.cc/2026/Conference`` asks for the notes whose ``content.venueid`` is the venue (its accepted
papers, once decisions are out); ``--invitation ICLR.cc/2026/Conference/-/Submission`` for every note of that
invitation (all submissions, with their decision replies). Pages are ``offset``/``limit`` until ``count``.

In API v2 every content field is ``{"value": …}``. A paper is ``openreview:<forum id>``, its page
``https://openreview.net/forum?id=<forum>`` and its PDF a link; the decision (``content.venue`` such as
"ICLR 2026 Oral", or a Decision reply's ``decision``) and whether it was accepted go into its metadata. One
unusable note costs only itself (an `InputError`).

openreview-py is not used: it would bring its own HTTP stack (requests, with no byte or time bound) and a dozen
dependencies for two GET parameters and one JSON shape read here.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from pipeline.errors import FetchError, InputError
from pipeline.schema import Paper, SourcedLink
from pipeline.sources.http import Http
from pipeline.sources.outcome import ITEM_ERRORS, Fetch, note, reason, short, text
from pipeline.values import check_id

OPENREVIEW_API_DEFAULT = "https://api2.openreview.net"
SITE = "https://openreview.net"
PAGE = 1000  # the API's largest page
_NOT_ACCEPTED = ("submission", "rejected", "withdrawn", "desk_rejected", "desk rejected", "submitted to")


def value(content: dict[str, Any], name: str) -> Any:
    """``content[name]["value"]`` (API v2), or the bare value (API v1 notes, some mirrors)."""
    field = content.get(name)
    return field.get("value") if isinstance(field, dict) else field


def _when(*stamps: Any) -> str | None:
    """The first epoch-milliseconds stamp as an ISO time (UTC)."""
    for stamp in stamps:
        if isinstance(stamp, int | float) and not isinstance(stamp, bool) and 0 < stamp < 32_503_680_000_000:
            return datetime.fromtimestamp(stamp / 1000, UTC).isoformat().replace("+00:00", "Z")
    return None


def _decision(note_obj: dict[str, Any], content: dict[str, Any]) -> tuple[str | None, bool | None]:
    """The decision in words and whether it accepts, when the note tells: a Decision reply, else its venue."""
    replies = (
        (note_obj.get("details") or {}).get("directReplies") if isinstance(note_obj.get("details"), dict) else None
    )
    for reply in replies if isinstance(replies, list) else []:
        invitations = reply.get("invitations") or [reply.get("invitation")] if isinstance(reply, dict) else []
        if any(isinstance(i, str) and i.endswith("/-/Decision") for i in invitations):
            said = value(reply.get("content") or {}, "decision")
            if isinstance(said, str) and said.strip():
                return said.strip()[:200], "accept" in said.lower()
    venue = value(content, "venue")
    if isinstance(venue, str) and venue.strip():
        lowered = venue.lower()
        return venue.strip()[:200], not any(word in lowered for word in _NOT_ACCEPTED)
    return None, None


def paper_of(note_obj: dict[str, Any]) -> Paper:
    """One note as a `Paper`; ValueError (and friends) when it is not usable."""
    content = note_obj.get("content")
    if not isinstance(content, dict):
        raise ValueError("its content is missing or not an object")
    forum = text(note_obj.get("forum") or note_obj.get("id"), "the forum id")
    pid = check_id(f"openreview:{forum}")
    authors = value(content, "authors") or []
    if not isinstance(authors, list) or not all(isinstance(a, str) for a in authors):
        raise ValueError("the authors are not a list of names")
    links = []
    pdf = value(content, "pdf")
    if isinstance(pdf, str) and pdf.strip():
        href = pdf.strip() if pdf.startswith(("https://", "http://")) else f"{SITE}/{pdf.strip().lstrip('/')}"
        links.append(SourcedLink(url=href, kind="paper", origin="metadata"))
    meta: dict[str, Any] = {"forum": forum}
    if isinstance(note_obj.get("number"), int):
        meta["number"] = note_obj["number"]
    decision, accepted = _decision(note_obj, content)
    if decision is not None:
        meta["decision"], meta["accepted"] = decision, accepted
    for key in ("venueid", "primary_area", "TLDR"):
        found = value(content, key)
        if isinstance(found, str) and found.strip():
            meta[key.lower()] = found.strip()[:2000]
    keywords = value(content, "keywords")
    if isinstance(keywords, list):
        meta["keywords"] = [k.strip()[:200] for k in keywords if isinstance(k, str) and k.strip()][:100]
    if isinstance(pdf, str) and pdf.strip():
        meta["full_text_url"] = links[0].url
    return Paper(
        id=pid,
        title=text(value(content, "title"), "the title"),
        abstract=text(value(content, "abstract"), "the abstract"),
        url=f"{SITE}/forum?id={forum}",
        authors=[" ".join(a.split()) for a in authors if a.strip()][:500],
        published=_when(note_obj.get("pdate"), note_obj.get("odate"), note_obj.get("cdate"), note_obj.get("tcdate")),
        source="openreview",
        meta=meta,
        links=links,
    )


def notes(
    http: Http,
    *,
    base: str = OPENREVIEW_API_DEFAULT,
    venue: str | None = None,
    invitation: str | None = None,
    page_size: int = PAGE,
    max_pages: int = 200,
) -> tuple[Fetch, Iterator[Paper | InputError]]:
    """The venue's (or the invitation's) notes, offset page by page to ``count``."""
    if not venue and not invitation:
        raise InputError("--source openreview needs --venue (e.g. ICLR.cc/2026/Conference) or --invitation")
    url = f"{base.rstrip('/')}/notes"
    params: dict[str, Any] = {"limit": page_size}
    if invitation:
        params.update(invitation=invitation, details="directReplies")
    if venue:
        params["content.venueid"] = venue
    fetch = Fetch("openreview", url, expect_papers=True)

    def papers() -> Iterator[Paper | InputError]:
        offset = 0
        seen: set[str] = set()
        for _page in range(max_pages):
            body = http.get(url, {**params, "offset": offset}).json()
            fetch.requests = http.requests
            found = body.get("notes") if isinstance(body, dict) else None
            if not isinstance(found, list):
                raise FetchError(f"{url}: not a notes answer (no 'notes' list)", url=url)
            count = body.get("count")
            for number, item in enumerate(found):
                line = offset + number + 1
                if not isinstance(item, dict):
                    yield InputError(f"note {line}: not an object", path="openreview", line=line)
                    continue
                try:
                    paper = paper_of(item)
                except ITEM_ERRORS as exc:
                    content = item.get("content") if isinstance(item.get("content"), dict) else {}
                    title = short(value(content, "title"))
                    given = f", id {short(item.get('id'), 40)!r}" if short(item.get("id")) else ""
                    reason_text = f"note {line}{given}: not a usable paper ({reason(exc)})"
                    yield InputError(reason_text, path="openreview", line=line, title=title)
                    continue
                if paper.id not in seen:
                    seen.add(paper.id)
                    yield note(fetch, paper)
            offset += len(found)
            if not found or len(found) < page_size or (isinstance(count, int) and offset >= count):
                return
        fetch.truncated = True

    return fetch, papers()
