"""A local fake of an OpenAI-compatible chat-completions server, scripted per test.

``FakeLLM`` serves ``GET /v1/models`` and ``POST /v1/chat/completions`` on a free loopback port
from a thread. Each completion takes the next ``Reply`` of the script (the last one repeats):
an answer (whole, or streamed as server-sent events in chunks of a given size, so a chunk may
cut a word), an HTTP status, a delay (for timeouts: the client's timeout is set far below it),
or broken output. Requests are kept, so tests can read what was sent and count calls.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Reply:
    """One scripted completion."""

    text: str = ""
    status: int = 200
    delay: float = 0.0
    chunk: int = 0  # >0: streamed in pieces of this many characters (when the client asks for a stream)
    broken: bool = False  # invalid JSON (or a broken event in a stream)
    raw: str = ""  # a stream of exactly these server-sent-event lines (valid JSON of the wrong shape, say)


@dataclass
class FakeLLM:
    """The server; use as a context manager. ``base_url`` ends in /v1 as real servers' do."""

    script: list[Reply] = field(default_factory=list)
    models: tuple[str, ...] = ("fake-model",)
    requests: list[dict] = field(default_factory=list)

    def __enter__(self) -> FakeLLM:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                if self.path.rstrip("/") == "/v1/models":
                    self._json(200, {"object": "list", "data": [{"id": m, "object": "model"} for m in fake.models]})
                else:
                    self._json(404, {"error": "not found"})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                fake.requests.append({"body": body, "headers": dict(self.headers)})
                reply = fake.script[min(len(fake.requests) - 1, len(fake.script) - 1)] if fake.script else Reply("")
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.status != 200:
                    self._json(reply.status, {"error": {"message": f"scripted {reply.status}"}})
                    return
                usage = {"prompt_tokens": 100, "completion_tokens": max(1, len(reply.text) // 4)}
                if body.get("stream"):
                    self._stream(reply, usage)
                    return
                if reply.broken:
                    self._raw(200, b'{"choices": [{"message": {"content": "half')
                    return
                self._json(200, {"choices": [{"message": {"role": "assistant", "content": reply.text}}], "usage": usage})

            def _stream(self, reply: Reply, usage: dict) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                if reply.raw:
                    self.wfile.write(reply.raw.encode())
                    return
                size = reply.chunk or len(reply.text) or 1
                for i in range(0, len(reply.text), size):
                    event = {"choices": [{"delta": {"content": reply.text[i : i + size]}}]}
                    self.wfile.write(f"data: {json.dumps(event, ensure_ascii=False)}\n\n".encode())
                    self.wfile.flush()
                if reply.broken:
                    self.wfile.write(b"data: {not json\n\n")
                self.wfile.write(f"data: {json.dumps({'choices': [], 'usage': usage})}\n\ndata: [DONE]\n\n".encode())

            def _json(self, status: int, data: dict) -> None:
                self._raw(status, json.dumps(data, ensure_ascii=False).encode())

            def _raw(self, status: int, data: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    @property
    def calls(self) -> int:
        return len(self.requests)
