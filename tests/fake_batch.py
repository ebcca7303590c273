"""A stand-in for OpenAI's Files and Batch APIs on 127.0.0.1 (real HTTP), beside the chat endpoint of `FakeOpenAI`.

``POST /v1/files`` (multipart) stores a JSONL file; ``POST /v1/batches`` creates a batch over it; each
``GET /v1/batches/{id}`` is one poll, and the batch completes after ``polls_to_finish`` polls, its output file
answering every request line with ``script`` (the same scripts as the chat endpoint); ``GET /v1/files/{id}/content``
returns a file. Counts what a test needs: files uploaded, batches created, polls.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any

from fake_openai import FakeOpenAI, Reply, completion_body


class FakeBatchAPI(FakeOpenAI):
    def __init__(self, script: Callable[[dict[str, Any], int], Reply] | None = None, polls_to_finish: int = 2) -> None:
        self.files: dict[str, bytes] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self.polls = 0
        self.polls_to_finish = polls_to_finish
        self.batch_lines: list[dict[str, Any]] = []
        self._batch_lock = threading.Lock()
        super().__init__(script)

    def _store(self, data: bytes) -> str:
        file_id = f"file-{len(self.files) + 1}"
        self.files[file_id] = data
        return file_id

    def _finish(self, batch: dict[str, Any]) -> None:
        lines = []
        for raw in self.files[batch["input_file_id"]].decode().splitlines():
            line = json.loads(raw)
            self.batch_lines.append(line)
            reply = self._respond(line["body"])
            lines.append(
                {
                    "id": f"resp-{line['custom_id'][:8]}",
                    "custom_id": line["custom_id"],
                    "response": {"status_code": 200, "request_id": "req", "body": completion_body(line["body"], reply)},
                    "error": None,
                }
            )
        batch["output_file_id"] = self._store("".join(json.dumps(x) + "\n" for x in lines).encode())
        batch["status"] = "completed"
        batch["request_counts"] = {"total": len(lines), "completed": len(lines), "failed": 0}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        chat = super()._handler()
        fake = self

        class Handler(chat):  # type: ignore[valid-type,misc]
            def _json(self, status: int, payload: dict[str, Any] | bytes) -> None:
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:  # noqa: N802
                if self.path.endswith("/chat/completions"):
                    return super().do_POST()
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                with fake._batch_lock:
                    if self.path.endswith("/files"):
                        head = f"content-type: {self.headers['content-type']}\r\n\r\n".encode()
                        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
                        part = next(
                            p
                            for p in message.iter_parts()
                            if p.get_param("name", header="content-disposition") == "file"
                        )
                        file_id = fake._store(part.get_payload(decode=True))
                        return self._json(
                            200,
                            {
                                "id": file_id,
                                "object": "file",
                                "bytes": len(body),
                                "created_at": 0,
                                "filename": "batch.jsonl",
                                "purpose": "batch",
                                "status": "processed",
                            },
                        )
                    if self.path.endswith("/batches"):
                        request = json.loads(body)
                        batch_id = f"batch_{len(fake.batches) + 1}"
                        batch = {
                            "id": batch_id,
                            "object": "batch",
                            "endpoint": request["endpoint"],
                            "input_file_id": request["input_file_id"],
                            "completion_window": "24h",
                            "status": "in_progress",
                            "created_at": 0,
                            "output_file_id": None,
                            "error_file_id": None,
                            "polls": 0,
                        }
                        fake.batches[batch_id] = batch
                        return self._json(200, batch)
                return self._json(404, {"error": {"message": f"no route {self.path}"}})

            def do_GET(self) -> None:  # noqa: N802
                with fake._batch_lock:
                    if "/batches/" in self.path:
                        batch = fake.batches.get(self.path.rsplit("/", 1)[1])
                        if batch is None:
                            return self._json(404, {"error": {"message": "no such batch"}})
                        fake.polls += 1
                        batch["polls"] += 1
                        if batch["status"] == "in_progress" and batch["polls"] >= fake.polls_to_finish:
                            fake._finish(batch)
                        return self._json(200, batch)
                    if self.path.endswith("/content"):
                        data = fake.files.get(self.path.split("/")[-2])
                        if data is None:
                            return self._json(404, {"error": {"message": "no such file"}})
                        return self._json(200, data)
                return self._json(404, {"error": {"message": f"no route {self.path}"}})

        return Handler
