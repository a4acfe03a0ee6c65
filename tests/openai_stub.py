"""A tiny OpenAI-compatible server for the openai backend's tests: the standard library's http.server on
127.0.0.1, answering each completion with a text that is a function of the request's seed and prompt only.

Its faults are switched by attributes: `fail_next` answers the next requests 500, `drop_next` closes their
connections unanswered, `ignore_seed` answers with fresh randomness, `die_after` stops the server (as kill -9
would: no answer, refused connections) once that many completions were answered.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def stub_text(seed: int, prompt: str) -> str:
    """What the stub answers: an answer drawn from the seed and the prompt alone."""
    digest = hashlib.sha256(f"{seed}|{prompt}".encode()).digest()
    # The word from digest[2:10] makes two seeds' texts differ but with chance 2**-64, so a server that
    # ignores seeds is told apart on its first check (48 texts alone collide one time in 48).
    return (
        f" I think it is \\boxed{{{digest[0] % 12}}}."
        + " more" * (digest[1] % 4)
        + f" ({digest[2:10].hex()})"
    )


def stub_finish(seed: int) -> str:
    return "length" if seed % 3 == 0 else "stop"


def stub_tokens(seed: int, text: str, max_tokens: int) -> int:
    """A sample cut at max_tokens has max_tokens tokens, as a server that honours max_tokens reports."""
    return max_tokens if stub_finish(seed) == "length" else min(len(text.split()), max_tokens)


class StubServer:
    def __init__(
        self,
        models=("stub-model",),
        root: str | None = None,
        port: int = 0,
        delay: float = 0.01,
        owned_by: str | None = None,
    ):
        self.models, self.root, self.delay, self.owned_by = list(models), root, delay, owned_by
        self.fail_next = self.drop_next = 0
        self.ignore_seed = False
        self.die_after: int | None = None
        self.answered = 0
        self.requests: list[dict] = []
        self.headers: list[dict] = []
        self.in_flight = self.most_in_flight = 0
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _send(self, code: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                if self.path == "/v1/models":
                    owner = {"owned_by": stub.owned_by} if stub.owned_by else {}
                    self._send(
                        200, {"data": [{"id": m, "root": stub.root or m, **owner} for m in stub.models]}
                    )
                elif self.path == "/version":
                    self._send(200, {"version": "stub-1"})
                else:
                    self._send(404, {"error": "not found"})

            def do_POST(self):
                payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with stub._lock:
                    stub.requests.append(payload)
                    stub.headers.append(dict(self.headers))
                    fail, drop = stub.fail_next > 0, stub.fail_next == 0 and stub.drop_next > 0
                    stub.fail_next -= fail
                    stub.drop_next -= drop
                    stub.in_flight += 1
                    stub.most_in_flight = max(stub.most_in_flight, stub.in_flight)
                try:
                    time.sleep(stub.delay)
                    if drop:
                        self.close_connection = True
                        self.connection.shutdown(2)
                        return
                    if fail:
                        self._send(500, {"error": "try again"})
                        return
                    if payload.get("model") not in stub.models:
                        self._send(404, {"error": f"no model {payload.get('model')}"})
                        return
                    chat = self.path == "/v1/chat/completions"
                    prompt = json.dumps(payload["messages"]) if chat else payload["prompt"]
                    seed = int.from_bytes(os.urandom(7)) if stub.ignore_seed else payload["seed"]
                    text = stub_text(seed, prompt)
                    choice = {"index": 0, "finish_reason": stub_finish(seed)}
                    choice.update(
                        {"message": {"role": "assistant", "content": text}} if chat else {"text": text}
                    )
                    with stub._lock:
                        if stub.die_after is not None and stub.answered >= stub.die_after:
                            threading.Thread(target=stub.stop).start()
                            self.close_connection = True
                            self.connection.shutdown(2)
                            return
                        stub.answered += 1
                    tokens = stub_tokens(seed, text, payload["max_tokens"])
                    self._send(200, {"choices": [choice], "usage": {"completion_tokens": tokens}})
                finally:
                    with stub._lock:
                        stub.in_flight -= 1

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
