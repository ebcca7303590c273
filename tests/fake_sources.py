"""A local stand-in for the Hugging Face daily-papers API and the arXiv API/feed, in their documented formats."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

from local_server import LocalServer


def hf_item(n: int, day: str = "2026-03-12") -> dict:
    return {
        "paper": {
            "id": f"2603.{10000 + n}",
            "title": f"Paper number {n}",
            "summary": f"Models struggle with task {n}.\nWe propose method {n}. It improves accuracy by {n}.5 points.",
            "authors": [{"name": "Ada Lovelace"}, {"name": "Alan Turing"}],
            "publishedAt": f"{day}T00:00:00.000Z",
            "upvotes": n,
            "ai_keywords": ["method", f"task {n}"],
            "githubRepo": f"https://github.com/example/repo{n}" if n % 2 else None,
            "projectPage": f"https://example{n}.github.io/" if n % 3 == 0 else None,
        },
        "publishedAt": f"{day}T10:00:00.000Z",
        "title": f"Paper number {n}",
    }


def atom(entries: list[tuple[str, str, str]], total: int | None = None) -> str:
    body = "".join(
        f"""<entry><id>http://arxiv.org/abs/{eid}</id><updated>2026-03-12T00:00:00Z</updated>
<published>2026-03-11T18:00:00Z</published><title>{escape(title)}</title><summary>{escape(summary)}</summary>
<author><name>Grace Hopper</name></author><link href="http://arxiv.org/abs/{eid}" rel="alternate" type="text/html"/>
<link title="pdf" href="http://arxiv.org/pdf/{eid}" rel="related" type="application/pdf"/>
<arxiv:primary_category xmlns:arxiv="http://arxiv.org/schemas/atom" term="cs.CL" scheme="http://arxiv.org/schemas/atom"/>
<category term="cs.CL" scheme="http://arxiv.org/schemas/atom"/></entry>"""
        for eid, title, summary in entries
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" '
        'xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">'
        f"<title>arXiv Query</title><opensearch:totalResults>{total if total is not None else len(entries)}"
        f"</opensearch:totalResults><opensearch:startIndex>0</opensearch:startIndex>{body}</feed>"
    )


def rss(items: list[tuple[str, str, str]], pub_date: str) -> str:
    body = "".join(
        f"""<item><title>{title}</title><link>https://arxiv.org/abs/{eid}</link>
<description>arXiv:{eid} Announce Type: {kind}
Abstract: We study {title}. It works well.</description><guid isPermaLink="false">oai:arXiv.org:{eid}</guid>
<arxiv:announce_type>{kind}</arxiv:announce_type><dc:creator>Ada Lovelace, Alan Turing</dc:creator></item>"""
        for eid, title, kind in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss xmlns:arxiv="http://arxiv.org/schemas/atom" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" version="2.0"><channel><title>cs.CL updates on arXiv.org</title>'
        f"<pubDate>{pub_date}</pubDate>{body}</channel></rss>"
    )


Handler = Callable[[str, dict[str, list[str]], int], tuple[int, dict[str, str], str, float]]


class FakeSources(LocalServer):
    """Serves ``handler(path, query, n)`` → (status, headers, body, delay); ``n`` counts requests to the path."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.log: list[tuple[str, dict[str, list[str]], str]] = []
        self.counts: dict[str, int] = {}
        self.headers: list[dict[str, str]] = []  # each request's headers, names lower-cased
        fake = self

        class _H(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                fake.counts[parts.path] = fake.counts.get(parts.path, 0) + 1
                fake.log.append((parts.path, query, self.headers.get("user-agent", "")))
                fake.headers.append({k.lower(): v for k, v in self.headers.items()})
                status, headers, body, delay = fake.handler(parts.path, query, fake.counts[parts.path])
                time.sleep(delay)
                data = body if isinstance(body, bytes) else body.encode()
                try:
                    self.send_response(status)
                    for k, v in {"content-length": str(len(data)), **headers}.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        super().__init__(_H)


def json_body(value: object) -> str:
    return json.dumps(value)
