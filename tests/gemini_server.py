"""A local stand-in for the Gemini API, shared by every test that talks to Gemini.

It speaks Gemini's REST format on 127.0.0.1 (``POST .../models/{model}:generateContent`` ->
candidates / content / parts / text; errors as ``{"error": {code, message, status}}``) and the
real google-genai client finds it through its own GOOGLE_GEMINI_BASE_URL variable. A script of
faults is served first, one per request: ``429``, ``500``, ``timeout`` (answers after 1.5 s),
``malformed`` (a 200 whose text is not the JSON asked for), ``garbled`` (a 200 whose body is not
JSON at all) and ``empty`` (a 200 with no candidates); then good answers from ``answer(prompt)``.
A request without the expected key gets a 401. ``calls``, ``paths`` and ``bodies`` record what
was asked.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

KEY = "test-key-5f3a9c1e-never-write-me"
STATUS = {"429": "RESOURCE_EXHAUSTED", "500": "INTERNAL"}


def echo(prompt: str) -> str:
    return "echo: " + prompt


class FakeGemini:
    """The server; a context manager that starts and stops it."""

    def __init__(self, script: list[str], answer: Callable[[str], str] = echo, key: str = KEY):
        self.script = list(script)
        self.calls = 0
        self.paths: list[str] = []
        self.bodies: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def _send(self, status: int, body: dict | bytes) -> None:
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

            def do_POST(self):  # noqa: N802 (http.server's name)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with owner.lock:
                    owner.calls += 1
                    owner.paths.append(self.path)
                    owner.bodies.append(body)
                    action = owner.script.pop(0) if owner.script else "good"
                if self.headers.get("x-goog-api-key") != key:
                    return self._send(401, {"error": {"code": 401, "message": "bad key",
                                                      "status": "UNAUTHENTICATED"}})
                if not self.path.endswith(":generateContent"):
                    return self._send(404, {"error": {"code": 404, "message": "no such method",
                                                      "status": "NOT_FOUND"}})
                if action in STATUS:
                    return self._send(int(action), {"error": {
                        "code": int(action), "message": "scripted fault",
                        "status": STATUS[action]}})
                if action == "timeout":
                    time.sleep(1.5)
                if action == "garbled":
                    return self._send(200, b"<html>upstream proxy error</html>")
                if action == "empty":
                    return self._send(200, {"candidates": [], "usageMetadata": {}})
                prompt = body["contents"][0]["parts"][0]["text"]
                text = "{not json at all" if action == "malformed" else answer(prompt)
                return self._send(200, {
                    "candidates": [{"content": {"parts": [{"text": text}], "role": "model"},
                                    "finishReason": "STOP", "index": 0}],
                    "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 5,
                                      "totalTokenCount": 15},
                    "modelVersion": "gemini-2.0-flash"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeGemini:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def use_key(monkeypatch, key: str = KEY) -> None:
    """The test key as the only Gemini key in the environment."""
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    monkeypatch.setenv("GEMINI_API_KEY", key)


def serve(monkeypatch, script: list[str], answer: Callable[[str], str] = echo) -> FakeGemini:
    """A stand-in the client will reach (GOOGLE_GEMINI_BASE_URL); start it with ``with``."""
    server = FakeGemini(script, answer)
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", server.url)
    return server


def files_containing(root, secret: str) -> list[str]:
    """Files under ``root`` whose bytes contain ``secret``."""
    return [str(p) for p in root.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]
