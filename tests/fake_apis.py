"""Stand-ins for the bioRxiv details API, OpenReview API v2 and the Zotero Web API v3, built from the recorded
shapes in tests/fixtures/sources/ (tests/fixtures/SOURCES.md says where each shape comes from)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures" / "sources"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


# --- bioRxiv / medRxiv ---------------------------------------------------------------------------------------


def preprint(n: int, *, version: int = 1, day: str = "2026-03-12", category: str = "neuroscience") -> dict:
    """One item of a details page, shaped like the fixture's first item."""
    item = copy.deepcopy(fixture("biorxiv-details.json")["collection"][0])
    item.update(
        doi=f"10.1101/2026.03.10.{600000 + n}",
        title=f"Preprint number {n}",
        authors=f"Garcia, M.; Okafor, C. {n}.",
        date=day,
        version=str(version),
        category=category,
        jatsxml=f"https://www.biorxiv.org/content/early/2026/03/12/2026.03.10.{600000 + n}.source.xml",
        abstract=f"Cells respond to signal {n}. We measure {n} responses. Response {n} doubles under stress.",
    )
    return item


def details_page(items: list[dict], cursor: int, total: int) -> str:
    page = items[cursor : cursor + 100]
    messages = [{"status": "ok", "interval": "2026-03-12:2026-03-12", "cursor": cursor, "count": len(page)}]
    messages[0]["count_new_papers"], messages[0]["total"] = str(len(page)), str(total)
    return json.dumps({"messages": messages, "collection": page})


NO_POSTS = json.dumps(
    {"messages": [{"status": "no posts found", "interval": "2026-03-14:2026-03-14"}], "collection": []}
)


# --- OpenReview ----------------------------------------------------------------------------------------------


def review_note(n: int, *, venue: str = "ICLR 2026 Poster", venueid: str = "ICLR.cc/2026/Conference") -> dict:
    note = copy.deepcopy(fixture("openreview-notes.json")["notes"][0])
    note["id"] = note["forum"] = f"note{n:06d}"
    note["number"] = n
    content = note["content"]
    content["title"] = {"value": f"Conference paper {n}"}
    content["abstract"] = {"value": f"Training is slow for case {n}. We propose trick {n}. It is {n}% faster."}
    content["venue"] = {"value": venue}
    content["venueid"] = {"value": venueid}
    content["pdf"] = {"value": f"/pdf/{n:040d}.pdf"}
    return note


def notes_page(notes: list[dict], offset: int, limit: int) -> str:
    return json.dumps({"notes": notes[offset : offset + limit], "count": len(notes)})


# --- Zotero --------------------------------------------------------------------------------------------------


def zotero_item(n: int, *, collections: tuple[str, ...] = (), item_type: str = "journalArticle", **data: Any) -> dict:
    item = copy.deepcopy(fixture("zotero-items.json")[0])
    key = f"K{n:07d}"
    item["key"] = key
    fields = {
        "key": key,
        "itemType": item_type,
        "title": f"Library paper {n} on cortical development",
        "creators": [{"creatorType": "author", "firstName": "Maria", "lastName": "Garcia"}],
        "abstractNote": f"Cortical layers form in order. Signal {n} sets the timing of layer {n}.",
        "date": "2025-06-01",
        "DOI": "",
        "url": "",
        "extra": "",
        "archiveID": "",
        "collections": list(collections),
        "tags": [{"tag": "development"}],
        "dateAdded": f"2025-{1 + n % 12:02d}-01T10:00:00Z",
    }
    fields.update(data)
    item["data"] = {k: v for k, v in {**item["data"], **fields}.items() if k in fields or k in ("version", "relations")}
    return item
