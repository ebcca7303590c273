"""feed.xml: an Atom 1.0 feed of the corpus, newest first, for feed readers and e-mail digests.

Streams like the tables: the corpus goes by once and only the newest `max_entries` records are kept (a heap), so a
million-record corpus costs a few hundred records of memory. Every text is XML-escaped by ElementTree; links
are http(s) only.
"""

from __future__ import annotations

import heapq
import html
import os
import re
import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pipeline.files import temp_beside

ATOM = "http://www.w3.org/2005/Atom"
FEED_NAME = "feed.xml"
_IRI_SCHEME = ("arxiv:", "hf:", "title:", "doi:", "urn:", "http://", "https://", "tag:")


def _when(record: dict[str, Any]) -> str:
    """The entry's date, RFC 3339: the paper's publication date, else when it was summarised."""
    for value in (record.get("published"), (record.get("provenance") or {}).get("created_at")):
        if not value:
            continue
        text = str(value).strip().replace("Z", "+00:00")
        try:
            moment = datetime.fromisoformat(text)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        except (ValueError, OverflowError):  # year 9999 less a zone overflows: never the whole feed's end
            continue
    return "1970-01-01T00:00:00Z"


_OWN_SCHEMES = ("title:", "hf:")  # ids no reader can open: inside a URN, never taken for the entry's link


def entry_id(record_id: str) -> str:
    """The record id when it is already an IRI (arxiv:…, doi:…), ``urn:summarize:title:…`` for ids of our own
    (a reader that finds no link takes an IRI id for one), else a URN that wraps a hash of it."""
    if all(ch.isprintable() and not ch.isspace() for ch in record_id):
        if record_id.startswith(_OWN_SCHEMES):
            return "urn:summarize:" + record_id
        if record_id.startswith(_IRI_SCHEME):
            return record_id
    return "urn:summarize:" + uuid.uuid5(uuid.NAMESPACE_URL, record_id).hex


def page_anchor(site_url: str, record_id: str) -> str:
    """The published page showing only this paper (its hash: a filter on the record id)."""
    return site_url.rstrip("/") + "/#f=" + quote("id:" + record_id, safe="")


def _http(url: object) -> str | None:
    text = str(url or "")
    if text.lower().startswith(("http://", "https://")) and all(ch.isprintable() and not ch.isspace() for ch in text):
        return text
    return None


def _link(record: dict[str, Any]) -> str | None:
    """The paper's own page: its url, else its paper or project link (as the tables link the title)."""
    for item in [{"url": record.get("url")}, *(record.get("links") or [])]:
        if isinstance(item, dict) and item.get("kind", "paper") in ("paper", "project"):
            url = _http(item.get("url"))
            if url:
                return url
    return None


def _content(record: dict[str, Any]) -> str:
    """The fields as a small HTML fragment (escaped here; ElementTree escapes it again as text)."""
    e = html.escape
    parts = [f"<p><b>Problem.</b> {e(str(record.get('problem') or 'not stated'))}</p>"]
    parts.append(f"<p><b>Method.</b> {e(str(record.get('method', '')))}</p>")
    results = [str(r) for r in record.get("results") or []]
    if results:
        parts.append("<p><b>Results.</b></p><ul>" + "".join(f"<li>{e(r)}</li>" for r in results) + "</ul>")
    named = []
    for key, label in (("tasks", "Tasks"), ("datasets", "Datasets"), ("metrics", "Metrics")):
        values = [str(v) for v in record.get(key) or []]
        if values:
            named.append(f"{label}: {e(', '.join(values))}")
    if named:
        parts.append("<p>" + "<br>".join(named) + "</p>")
    links = []
    for item in record.get("links") or []:
        url = _http(item.get("url")) if isinstance(item, dict) else None
        if url:
            links.append(f'<a href="{e(url)}">{e(str(item.get("kind", "link")))}</a>')
    if links:
        parts.append("<p>" + " · ".join(links) + "</p>")
    return "".join(parts)


class FeedWriter:
    """A sink for `pipeline.corpus.merge`: keeps the newest records and writes feed.xml on close."""

    def __init__(self, out_dir: Path, *, title: str, max_entries: int = 200, site_url: str | None = None) -> None:
        self.out_dir = out_dir
        self.title = title
        self.max_entries = max_entries
        self.site_url = _http(site_url)
        self.restart()

    def restart(self) -> None:
        self._heap: list[tuple[str, str, int, dict[str, Any]]] = []
        self._seen = 0

    def add(self, record: dict[str, Any]) -> None:
        self._seen += 1
        item = (_when(record), str(record.get("id", "")), self._seen, record)
        if len(self._heap) < self.max_entries:
            heapq.heappush(self._heap, item)
        elif item[:3] > self._heap[0][:3]:
            heapq.heapreplace(self._heap, item)

    def xml(self) -> bytes:
        ET.register_namespace("", ATOM)
        newest = sorted(self._heap, key=lambda item: item[:3], reverse=True)
        feed = ET.Element(f"{{{ATOM}}}feed")
        ET.SubElement(feed, f"{{{ATOM}}}title").text = _xml_text(self.title)
        feed_id = self.site_url or "urn:summarize:feed:" + uuid.uuid5(uuid.NAMESPACE_URL, self.title).hex
        ET.SubElement(feed, f"{{{ATOM}}}id").text = feed_id
        ET.SubElement(feed, f"{{{ATOM}}}updated").text = newest[0][0] if newest else "1970-01-01T00:00:00Z"
        author = ET.SubElement(feed, f"{{{ATOM}}}author")
        ET.SubElement(author, f"{{{ATOM}}}name").text = "summarize"
        ET.SubElement(feed, f"{{{ATOM}}}generator").text = "summarize"
        if self.site_url:
            ET.SubElement(feed, f"{{{ATOM}}}link", rel="alternate", href=self.site_url)
            ET.SubElement(feed, f"{{{ATOM}}}link", rel="self", href=self.site_url.rstrip("/") + "/" + FEED_NAME)
        for when, record_id, _, record in newest:
            entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
            ET.SubElement(entry, f"{{{ATOM}}}id").text = entry_id(record_id)
            ET.SubElement(entry, f"{{{ATOM}}}title").text = _xml_text(record.get("title", record_id))
            ET.SubElement(entry, f"{{{ATOM}}}updated").text = when
            url = _link(record) or (page_anchor(self.site_url, record_id) if self.site_url else None)
            if url:  # no link rather than a wrong one
                ET.SubElement(entry, f"{{{ATOM}}}link", rel="alternate", href=url)
            for name in record.get("authors") or []:
                person = ET.SubElement(entry, f"{{{ATOM}}}author")
                ET.SubElement(person, f"{{{ATOM}}}name").text = _xml_text(name)
            ET.SubElement(entry, f"{{{ATOM}}}summary").text = _xml_text(record.get("tldr", ""))
            ET.SubElement(entry, f"{{{ATOM}}}content", type="html").text = _xml_text(_content(record))
        return ET.tostring(feed, encoding="utf-8", xml_declaration=True)

    def close(self) -> None:
        tmp, fh = temp_beside(self.out_dir / FEED_NAME, "wb")
        try:
            with fh:
                fh.write(self.xml())
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.out_dir / FEED_NAME)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def abort(self) -> None:
        self.restart()


_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_text(value: object) -> str:
    """Text XML 1.0 can carry: control characters and lone surrogates (which no parser accepts) removed."""
    return _NOT_XML.sub("", str(value))
