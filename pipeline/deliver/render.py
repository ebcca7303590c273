"""A digest as each channel shows it: Markdown and HTML files, the e-mail's text and HTML parts, a Slack and a
Discord message. Every title, tldr, result and reason is untrusted: each format escapes it here, at its edge."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import quote

from pipeline.deliver.digest import Digest, Item
from pipeline.table import md_cell

DISCORD_LIMIT = 2000
SLACK_LIMIT = 38_000  # Slack truncates a message's text near 40,000 characters
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_URL_SAFE = ":/?#=&%~.-+,;@!$'"


def plain(text: str) -> str:
    """One line of text without control or bidi-override characters (a terminal or mail client shows it as is)."""
    return " ".join(_CONTROL.sub(" ", text).split())


def _url(url: str) -> str:
    """A URL with everything that could end a Markdown, Slack or Discord link percent-encoded."""
    return quote(url, safe=_URL_SAFE)


def _lead(digest: Digest) -> str:
    if not digest.items:
        return "Nothing new for you since the last digest."
    order = "ranked by your interests" if digest.ranked else "newest first"
    count = len(digest.items)
    return f"{count} new paper{'s' if count != 1 else ''} for you, {order}."


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w%.]+", " ", text.lower()).split()).rstrip(".")


def _said(item: Item) -> list[tuple[str, str]]:
    """What every format shows of a paper below its title, as (label, plain text): tldr, key result (never the
    tldr's own sentence again), the headline score, the new version, why (one short line)."""
    tldr, result = plain(item.tldr), plain(item.key_result)
    said = [("", tldr)] if tldr else []
    if result and not (tldr and (_norm(result) in _norm(tldr) or _norm(tldr) in _norm(result))):
        said.append(("Key result:", result))
    if item.headline:
        said.append(("Headline score:", plain(item.headline)))
    if item.earlier_version is not None:
        said.append(("New version:", f"v{item.version} (v{item.earlier_version} was sent before)"))
    if item.why:
        said.append(("Why:", plain(item.why)))
    return said


def score(item: Item) -> str:
    """The ranking's score as "NN/100" ("" without a ranking)."""
    return f"{round(item.score):d}/100" if item.score is not None else ""


def unlinked(digest: Digest) -> list[str]:
    """Titles of the papers with no link (no URL, no arXiv id)."""
    return [plain(item.title) for item in digest.items if not item.url]


RESOLVE_HINT = "summarize run --resolve finds their arXiv links by title"


def subject(date: str, digest: Digest) -> str:
    """ "5 papers for you — 2026-12-08"."""
    count = len(digest.items)
    return plain(f"{count} paper{'s' if count != 1 else ''} for you — {date}")[:200]


def markdown(title: str, date: str, digest: Digest) -> str:
    out = [f"# {md_cell(plain(title))} — {date}\n", f"{_lead(digest)}\n"]
    for n, item in enumerate(digest.items, start=1):
        name = md_cell(plain(item.title))
        mark = f" · {score(item)}" if item.score is not None else ""
        out.append(f"## {n}. [{name}]({_url(item.url)}){mark}\n" if item.url else f"## {n}. {name}{mark}\n")
        out += [f"**{label}** {md_cell(value)}\n" if label else f"{md_cell(value)}\n" for label, value in _said(item)]
        if item.links:
            out.append("Links: " + " · ".join(f"[{md_cell(k)}]({_url(u)})" for k, u in item.links) + "\n")
    if unlinked(digest):
        named = "; ".join(md_cell(t) for t in unlinked(digest))
        out.append(f"No link yet for: {named} ({RESOLVE_HINT}).\n")
    if digest.seen:
        out.append("## Seen before\n")
        out.extend(f"- {md_cell(plain(item.title))} (sent in an earlier digest)" for item in digest.seen)
        out.append("")
    if digest.page_url:
        out.append(f"[All papers]({_url(digest.page_url)})\n")
    return "\n".join(out)


def text(title: str, date: str, digest: Digest) -> str:
    """The e-mail's plain-text part."""
    out = [f"{plain(title)} — {date}", "", _lead(digest), ""]
    for n, item in enumerate(digest.items, start=1):
        out.append(f"{n}. {plain(item.title)}" + (f" · {score(item)}" if item.score is not None else ""))
        out += [f"   {label} {value}" if label else f"   {value}" for label, value in _said(item)]
        for kind, url in ((("paper", item.url),) if item.url else ()) + item.links:
            out.append(f"   {plain(kind)}: {url}")
        out.append("")
    if unlinked(digest):
        out += [f"No link yet for: {'; '.join(unlinked(digest))} ({RESOLVE_HINT}).", ""]
    if digest.seen:
        out.append("Seen before: " + "; ".join(plain(item.title) for item in digest.seen))
    if digest.page_url:
        out.append(f"All papers: {digest.page_url}")
    return "\n".join(out) + "\n"


_STYLE = (
    "body{font:15px/1.45 system-ui,sans-serif;max-width:46em;margin:1em auto;padding:0 1em;color:#222}"
    "h2{font-size:1.05em;margin:1.4em 0 .3em}.why{color:#555}.links a{margin-right:.8em}.seen{color:#777}"
    ".score{font-weight:normal;color:#555;white-space:nowrap}"
)


def _item_html(n: int, item: Item) -> str:
    e = html.escape
    name = e(plain(item.title))
    head = f'<a href="{e(item.url)}">{name}</a>' if item.url else name
    if item.score is not None:
        head += f' <span class="score">{e(score(item))}</span>'
    parts = [f"<h2>{n}. {head}</h2>"]
    parts += [f"<p><b>{e(label)}</b> {e(value)}</p>" if label else f"<p>{e(value)}</p>" for label, value in _said(item)]
    if item.links:
        links = "".join(f'<a href="{e(u)}">{e(plain(k))}</a>' for k, u in item.links)
        parts.append(f'<p class="links">{links}</p>')
    return "\n".join(parts)


def page(title: str, date: str, digest: Digest) -> str:
    """digest.html and the e-mail's HTML part: a self-contained document, no script, links http(s) only."""
    e = html.escape
    heading = f"{e(plain(title))} — {e(date)}"
    body = [f"<h1>{heading}</h1>", f"<p>{e(_lead(digest))}</p>"]
    body += [_item_html(n, item) for n, item in enumerate(digest.items, start=1)]
    if unlinked(digest):
        named = "; ".join(e(t) for t in unlinked(digest))
        body.append(f'<p class="seen">No link yet for: {named} ({e(RESOLVE_HINT)}).</p>')
    if digest.seen:
        seen = "".join(f"<li>{e(plain(item.title))}</li>" for item in digest.seen)
        body.append(f'<h2 class="seen">Seen before</h2><ul class="seen">{seen}</ul>')
    if digest.page_url:
        body.append(f'<p><a href="{e(digest.page_url)}">All papers</a></p>')
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">\n'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
        f'<meta name="referrer" content="no-referrer"><title>{heading}</title><style>{_STYLE}</style></head>\n'
        "<body>\n" + "\n".join(body) + "\n</body></html>\n"
    )


def _slack(text: str) -> str:
    """Slack's mrkdwn: &, < and > are its control characters (<!channel>, <url|label>)."""
    return plain(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_DISCORD_MARKUP = re.compile(r"([\\*_~`|>#\[\]()])")


def _discord(text: str) -> str:
    """Discord markdown escaped, and @ broken so no title can mention @everyone (allowed_mentions also says so)."""
    return _DISCORD_MARKUP.sub(r"\\\1", plain(text)).replace("@", "@\u200b")


def _fit(lines: list[str], limit: int, closing: str) -> str:
    """As many whole lines as fit in ``limit`` characters, then a line saying how many were left out."""
    kept: list[str] = []
    for n, line in enumerate(lines):
        rest = len(lines) - n
        tail = closing.format(rest)
        if len("\n".join([*kept, line])) + (len(tail) + 1 if rest > 1 else 0) > limit:
            kept.append(closing.format(rest))
            break
        kept.append(line)
    return "\n".join(kept)[:limit]


def webhook_body(title: str, date: str, digest: Digest) -> dict[str, Any]:
    """One JSON body both Slack (``text``) and Discord (``content``) accept, with the papers as data."""
    slack = [f"*{_slack(title)} — {date}*", _slack(_lead(digest))]
    discord = [f"**{_discord(title)} — {date}**", _discord(_lead(digest))]
    for n, item in enumerate(digest.items, start=1):
        name = f"<{_url(item.url)}|{_slack(item.title)}>" if item.url else _slack(item.title)
        mark = f" · {score(item)}" if item.score is not None else ""
        line = f"{n}. {name}{mark}" + (f" — {_slack(item.tldr)}" if item.tldr else "")
        if item.headline:
            line += f" ({_slack(item.headline)})"
        if item.earlier_version is not None:
            line += f" (new version v{item.version}; v{item.earlier_version} was sent before)"
        if item.why:
            line += f" _Why: {_slack(item.why)}_"
        slack.append(line)
        link = f" <{_url(item.url)}>" if item.url else ""
        if item.earlier_version is not None:
            mark += f" (new version v{item.version})"
        tail = (f"\n{_discord(item.tldr)}" if item.tldr else "") + (f"\nWhy: {_discord(item.why)}" if item.why else "")
        discord.append(f"{n}. **{_discord(item.title)}**{link}{mark}{tail}")
    if unlinked(digest):
        slack.append(_slack(f"No link yet for: {'; '.join(unlinked(digest))} ({RESOLVE_HINT})."))
        discord.append(_discord(f"No link yet for: {'; '.join(unlinked(digest))} ({RESOLVE_HINT})."))
    if digest.page_url:
        slack.append(f"<{_url(digest.page_url)}|All papers>")
        discord.append(f"All papers: <{_url(digest.page_url)}>")
    return {
        "text": _fit(slack, SLACK_LIMIT, "… and {} more"),
        "content": _fit(discord, DISCORD_LIMIT, "… and {} more"),
        "allowed_mentions": {"parse": []},
        "digest": digest.id,
        "papers": [item.to_json() for item in digest.items],
    }
