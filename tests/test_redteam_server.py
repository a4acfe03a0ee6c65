"""Red-team pass on `rlvr eval --backend openai` and the sample store it fills: one test per finding.

Each test runs the real `rlvr eval` (in this process, through rlvr.cli.main) against a small fake
OpenAI-compatible server written here (stdlib http.server on 127.0.0.1), whose text is a function of the
request's seed and prompt, so every stored sample can be checked against the seed the plan gave it.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from rlvr.cli import main
from rlvr.evaluate.plan import sample_seed

PROBLEM = re.compile(r"What is (\d+) \+ (\d+)\?")


def seeded_text(seed: int, prompt: str) -> tuple[str, bool]:
    """The fake model: correct when the seed's hash says so (about one in three), with a word unique to the seed."""
    a, b = (int(x) for x in PROBLEM.search(prompt).groups())
    word = hashlib.sha256(f"{seed}:{prompt}".encode()).hexdigest()[:12]
    correct = int(word, 16) % 3 == 0
    return f"w{word} so the answer is \\boxed{{{a + b if correct else a + b + 1}}}", correct


class FakeServer:
    """One OpenAI-compatible server. `answer(payload) -> dict` makes the completion's JSON; override per attack."""

    def __init__(self, model_id: str, root: str | None = None, version: str | None = "0.31.0") -> None:
        self.model_id, self.root, self.version = model_id, root, version
        self.payloads: list[dict] = []
        self.lock = threading.Lock()
        self.answer = self.seeded_answer
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _send(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if self.path == "/v1/models":
                    model = {"id": server.model_id, "object": "model"}
                    if server.root is not None:
                        model["root"] = server.root
                    self._send(200, {"object": "list", "data": [model]})
                elif self.path == "/version" and server.version is not None:
                    self._send(200, {"version": server.version})
                else:
                    self._send(404, {"error": "not found"})

            def do_POST(self) -> None:
                payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server.lock:
                    server.payloads.append({**payload, "_auth": self.headers.get("Authorization")})
                self._send(200, server.answer(payload))

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def seeded_answer(self, payload: dict, finish_reason: str = "stop", tokens: int | None = None) -> dict:
        text, _ = seeded_text(payload["seed"], payload["prompt"])
        return completion(text, finish_reason, min(5, payload["max_tokens"]) if tokens is None else tokens)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def completion(text, finish_reason="stop", tokens=5) -> dict:
    return {
        "object": "text_completion",
        "choices": [{"index": 0, "text": text, "finish_reason": finish_reason}],
        "usage": {"completion_tokens": tokens},
    }


@pytest.fixture
def servers():
    made: list[FakeServer] = []

    def make(*args, **kwargs) -> FakeServer:
        made.append(FakeServer(*args, **kwargs))
        return made[-1]

    yield make
    for server in made:
        server.close()


def run_eval(model: str, data: str, out: Path, urls: list[str], *extra: str, n: int = 4) -> int:
    return main(
        [
            "eval",
            "--model",
            model,
            "--data-file",
            data,
            "--out",
            str(out),
            "--n",
            str(n),
            "--max-tokens",
            "12",
            "--temperature",
            "1.0",
            "--backend",
            "openai",
            "--base-url",
            ",".join(urls),
            "--no-progress",
            "--request-retries",
            "1",
            *extra,
        ]
    )


def stored(out: Path) -> list[dict]:
    lines = (out / "samples.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def meta(out: Path) -> dict:
    return json.loads((out / "meta.json").read_text())


def problem_prompts(out: Path) -> dict[str, str]:
    rows = [json.loads(line) for line in (out / "problems.jsonl").read_text().splitlines() if line.strip()]
    return {str(r["id"]): r["prompt"] for r in rows}


def assert_each_sample_is_its_seeds(out: Path, n: int, seed: int = 0) -> None:
    prompts = problem_prompts(out)
    records = stored(out)
    keys = sorted((r["problem"], r["sample"]) for r in records)
    assert keys == sorted((p, s) for p in prompts for s in range(n))
    for r in records:
        text, correct = seeded_text(sample_seed(seed, r["problem"], r["sample"]), prompts[r["problem"]])
        assert (r["text"], r["correct"]) == (text, correct), r


# ---------------------------------------------------------------------------------------------- attacks


def test_attack_out_of_order(tiny_model_dir, data_file, tmp_path, servers):
    import random
    import time

    a, b = servers(tiny_model_dir), servers(tiny_model_dir)
    rng = random.Random(1)

    def slow(payload):
        time.sleep(rng.random() * 0.05)
        return a.seeded_answer(payload)

    a.answer = b.answer = slow
    out = tmp_path / "store"
    assert run_eval(tiny_model_dir, data_file, out, [a.url, b.url], "--concurrency", "7", n=8) == 0
    assert_each_sample_is_its_seeds(out, 8)


def test_attack_second_url_ignores_seed(tiny_model_dir, data_file, tmp_path, servers, capsys):
    import random

    good, bad = servers(tiny_model_dir), servers(tiny_model_dir)
    rng = random.Random(2)
    bad.answer = lambda p: completion(f"random {rng.random()} \\boxed{{1}}")
    out = tmp_path / "store"
    assert run_eval(tiny_model_dir, data_file, out, [good.url, bad.url], n=4) == 0
    print(capsys.readouterr().err)
    assert meta(out).get("server_ignores_seed") is True


def test_attack_two_urls_two_roots(tiny_model_dir, data_file, tmp_path, servers, capsys):
    a = servers("qwen", root="/ckpt/step-100")
    b = servers("qwen", root="/ckpt/step-200")
    out = tmp_path / "store"
    rc = run_eval(tiny_model_dir, data_file, out, [a.url, b.url], "--served-model", "qwen")
    print(capsys.readouterr().err)
    assert rc == 2


def test_attack_resume_other_root(tiny_model_dir, data_file, tmp_path, servers, capsys):
    a = servers("qwen", root="/ckpt/step-100")
    out = tmp_path / "store"
    assert run_eval(tiny_model_dir, data_file, out, [a.url], "--served-model", "qwen", "--limit", "4") == 0
    (out / "results.json").unlink()
    lines = (out / "samples.jsonl").read_text().splitlines(keepends=True)
    (out / "samples.jsonl").write_text("".join(lines[:5]))
    b = servers("qwen", root="/ckpt/step-200")
    rc = run_eval(tiny_model_dir, data_file, out, [b.url], "--served-model", "qwen", "--limit", "4")
    print(capsys.readouterr().err)
    assert rc == 2


def test_attack_resume_other_version(tiny_model_dir, data_file, tmp_path, servers, capsys):
    a = servers(tiny_model_dir, version="0.31.0")
    out = tmp_path / "store"
    assert run_eval(tiny_model_dir, data_file, out, [a.url], "--limit", "4") == 0
    lines = (out / "samples.jsonl").read_text().splitlines(keepends=True)
    (out / "samples.jsonl").write_text("".join(lines[:5]))
    b = servers(tiny_model_dir, version="0.32.0")
    rc = run_eval(tiny_model_dir, data_file, out, [b.url], "--limit", "4")
    print(capsys.readouterr().err, meta(out))
    assert rc == 2


def test_attack_server_caps_tokens(tiny_model_dir, data_file, tmp_path, servers, capsys):
    a = servers(tiny_model_dir)
    a.answer = lambda p: a.seeded_answer(p, "length", 6)
    out = tmp_path / "store"
    rc = run_eval(tiny_model_dir, data_file, out, [a.url], "--limit", "2")
    print(capsys.readouterr().err)
    assert rc == 2


def test_attack_server_ignores_max_tokens(tiny_model_dir, data_file, tmp_path, servers, capsys):
    a = servers(tiny_model_dir)
    a.answer = lambda p: a.seeded_answer(p, "stop", 40)
    out = tmp_path / "store"
    rc = run_eval(tiny_model_dir, data_file, out, [a.url], "--limit", "2")
    print(capsys.readouterr().err)
    assert rc == 2


def test_attack_abort(tiny_model_dir, data_file, tmp_path, servers, capsys):
    a = servers(tiny_model_dir)
    a.answer = lambda p: a.seeded_answer(p, "abort", 3)
    out = tmp_path / "store"
    rc = run_eval(tiny_model_dir, data_file, out, [a.url], "--limit", "2")
    print(capsys.readouterr().err)
    assert rc != 0 or {r["finish_reason"] for r in stored(out)} != {"stop"}


def test_attack_results_mark_ignored_seed(tiny_model_dir, data_file, tmp_path, servers):
    import random

    a = servers(tiny_model_dir)
    rng = random.Random(3)
    a.answer = lambda p: completion(f"random {rng.random()} \\boxed{{1}}")
    out = tmp_path / "store"
    assert run_eval(tiny_model_dir, data_file, out, [a.url], "--limit", "2") == 0
    assert meta(out)["server_ignores_seed"] is True
    assert "server_ignores_seed" in (out / "results.json").read_text()


def test_attack_key_leak(tiny_model_dir, data_file, tmp_path, servers, monkeypatch, capsys):
    monkeypatch.setenv("RLVR_API_KEY", "sk-SECRET-1234")
    a = servers(tiny_model_dir)
    out = tmp_path / "store"
    assert run_eval(tiny_model_dir, data_file, out, [a.url], "--limit", "2") == 0
    assert a.payloads[0]["_auth"] == "Bearer sk-SECRET-1234"
    captured = capsys.readouterr()
    assert "SECRET" not in captured.out + captured.err
    for f in out.iterdir():
        assert b"SECRET" not in f.read_bytes(), f


def test_attack_surrogate(tiny_model_dir, data_file, tmp_path, servers, capsys):
    a = servers(tiny_model_dir)
    a.answer = lambda p: completion("\ud800 \x00 \u2028 \\boxed{1}")
    out = tmp_path / "store"
    rc = run_eval(tiny_model_dir, data_file, out, [a.url], "--limit", "2", "--temperature", "0", n=1)
    print(capsys.readouterr().err)
    assert rc == 0
    assert stored(out)[0]["text"] == "\ud800 \x00 \u2028 \\boxed{1}"
    assert len(stored(out)) == 2


def test_attack_sequential(tiny_model_dir, data_file, tmp_path, servers):
    import random
    import time

    from rlvr.evaluate.sequential import StopRule, stop_point

    a = servers(tiny_model_dir)
    rng = random.Random(4)

    def slow(payload):
        time.sleep(rng.random() * 0.02)
        return a.seeded_answer(payload)

    a.answer = slow
    out = tmp_path / "store"
    n, m = 24, 2
    assert (
        run_eval(
            tiny_model_dir, data_file, out, [a.url], "--stop-at-correct", str(m), "--concurrency", "50", n=n
        )
        == 0
    )
    results = json.loads((out / "results.json").read_text())
    prompts = problem_prompts(out)
    rule = StopRule(m, n)
    for pid, prompt in prompts.items():
        flags = {s: seeded_text(sample_seed(0, pid, s), prompt)[1] for s in range(n)}
        t, c = stop_point(flags, rule)
        assert results["problems"][pid] == {"n": t, "correct": c}
    for r in stored(out):
        assert r["text"] == seeded_text(sample_seed(0, r["problem"], r["sample"]), prompts[r["problem"]])[0]
