"""An OpenAI-compatible chat server on 127.0.0.1 for fault injection: real HTTP, scripted behaviour.

Each request is answered by ``script(request, n)`` where ``n`` counts the requests for the same paper
(title); it returns a `Reply`. The server counts requests and the most that were in flight at once.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from local_server import LocalServer


@dataclass
class Reply:
    status: int = 200
    arguments: str | dict[str, Any] | None = None  # the tool call's arguments (dict → JSON)
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    body: str | None = None  # raw body, overrides everything
    prompt_tokens: int = 120
    completion_tokens: int = 80


def title_of(request: dict[str, Any]) -> str:
    text = " ".join(str(m.get("content") or "") for m in request.get("messages", []))
    match = re.search(r"Title: (.+)", text)
    return match.group(1).strip() if match else ""


def user_message(request: dict[str, Any]) -> str:
    return next(str(m["content"]) for m in request["messages"] if m.get("role") == "user")


def abstract_of(request: dict[str, Any]) -> str:
    text = user_message(request)
    return text.split("Abstract:", 1)[1].strip() if "Abstract:" in text else text


def faithful(request: dict[str, Any]) -> dict[str, Any]:
    """A valid, grounded summary built from the abstract in the prompt."""
    sentences = re.split(r"(?<=[.!?])\s+", abstract_of(request))
    return {
        "tldr": sentences[0][:380],
        "problem": sentences[0][:1000],
        "method": (sentences[1] if len(sentences) > 1 else sentences[0])[:1000],
        "results": [sentences[-1][:600]],
        "links": [],
        "tasks": [],
        "datasets": [],
        "metrics": [],
    }


def completion_body(request: dict[str, Any], reply: Reply) -> dict[str, Any]:
    """A chat completion whose tool call holds ``reply.arguments`` (default: a faithful summary)."""
    args = reply.arguments if reply.arguments is not None else faithful(request)
    name = (request.get("tool_choice") or {}).get("function", {}).get("name", "Summary")
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 0,
        "model": request.get("model", "fake"),
        "choices": [
            {
                "index": 0,
                "finish_reason": "tool_calls",
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {
                                "name": name,
                                "arguments": args if isinstance(args, str) else json.dumps(args),
                            },
                        }
                    ],
                },
            }
        ],
        "usage": {
            "prompt_tokens": reply.prompt_tokens,
            "completion_tokens": reply.completion_tokens,
            "total_tokens": reply.prompt_tokens + reply.completion_tokens,
        },
    }


class FakeOpenAI(LocalServer):
    def __init__(self, script: Callable[[dict[str, Any], int], Reply] | None = None) -> None:
        self.script = script or (lambda request, n: Reply())
        self.requests: list[dict[str, Any]] = []
        self.per_title: Counter[str] = Counter()
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        super().__init__(self._handler())

    @property
    def base_url(self) -> str:
        return f"{self.url}/v1"

    def _respond(self, request: dict[str, Any]) -> Reply:
        title = title_of(request)
        with self._lock:
            self.requests.append(request)
            self.per_title[title] += 1
            n = self.per_title[title]
        return self.script(request, n)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("content-length", 0))
                request = json.loads(self.rfile.read(length) or b"{}")
                request["_headers"] = {k.lower(): v for k, v in self.headers.items()}
                with fake._lock:
                    fake.in_flight += 1
                    fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
                try:
                    reply = fake._respond(request)
                    if reply.delay:
                        time.sleep(reply.delay)
                    self._send(request, reply)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                finally:
                    with fake._lock:
                        fake.in_flight -= 1

            def _send(self, request: dict[str, Any], reply: Reply) -> None:
                if reply.body is not None:
                    body = reply.body
                elif reply.status != 200:
                    body = json.dumps({"error": {"message": f"injected {reply.status}", "type": "server_error"}})
                else:
                    body = json.dumps(completion_body(request, reply))
                data = body.encode()
                self.send_response(reply.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

        return Handler
