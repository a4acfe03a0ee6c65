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
    """One OpenAI-compatible server. `answer(payload)` makes the completion's JSON (or a (status, JSON) pair);
    each test sets its own."""

    def __init__(self, model_id: str, root: str | None = None, version: str | None = "0.31.0") -> None:
        self.model_id, self.root, self.version = model_id, root, version
        self.payloads: list[dict] = []
        self.lock = threading.Lock()
        self.answer = self.seeded_answer
        self.on_models = lambda: None  # called on each GET /v1/models
        self.models_body: object = None  # what GET /v1/models answers instead of the listing, when set
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
                    server.on_models()
                    if server.models_body is not None:
                        self._send(200, server.models_body)
                        return
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
                answer = server.answer(payload)
                self._send(*(answer if isinstance(answer, tuple) else (200, answer)))

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


def random_answer(seed: int):
    """A server that ignores `seed`: fresh randomness per request."""
    import random

    rng = random.Random(seed)
    return lambda payload: completion(f"r{rng.random()} so \\boxed{{1}}")


def truncate_samples(out: Path, keep: int) -> None:
    """A run killed after `keep` samples: the rest of the plan is still to draw."""
    lines = (out / "samples.jsonl").read_text().splitlines(keepends=True)
    (out / "samples.jsonl").write_text("".join(lines[:keep]))
    (out / "results.json").unlink(missing_ok=True)


# ---------------------------------------------------------------------------------------------- findings


def test_a_second_url_that_ignores_seeds_is_named_and_recorded(
    tiny_model_dir, data_file, tmp_path, servers, capsys
):
    """Finding: the seed check sent its two requests to the least busy URL, always the first: a replica
    behind the second URL that ignores seeds filled half the store unseen, with server_ignores_seed false."""
    good, bad = servers(tiny_model_dir), servers(tiny_model_dir)
    bad.answer = random_answer(2)
    out = tmp_path / "store"
    assert run_eval(tiny_model_dir, data_file, out, [good.url, bad.url], "--limit", "2") == 0
    said = [line for line in capsys.readouterr().err.splitlines() if "ignores `seed`" in line]
    assert len(said) == 1 and bad.url in said[0] and good.url not in said[0]
    assert meta(out)["server_ignores_seed"] is True
    assert json.loads((out / "results.json").read_text())["server"]["server_ignores_seed"] is True


def test_two_urls_that_sample_one_seed_differently_are_recorded(
    tiny_model_dir, data_file, tmp_path, servers, capsys
):
    """Finding: two URLs each honouring seeds but drawing other texts for one seed (another precision or
    build) went unnoticed: which URL drew a sample decided it, and nothing said so."""
    a, b = servers(tiny_model_dir), servers(tiny_model_dir)
    b.answer = lambda p: completion("other " + seeded_text(p["seed"], p["prompt"])[0])
    out = tmp_path / "store"
    assert run_eval(tiny_model_dir, data_file, out, [a.url, b.url], "--limit", "2") == 0
    assert "servers_disagree" in capsys.readouterr().err
    assert (meta(out)["servers_disagree"], meta(out)["server_ignores_seed"]) == (True, False)
    # two URLs that agree are recorded as agreeing
    out2 = tmp_path / "agree"
    c = servers(tiny_model_dir)
    assert run_eval(tiny_model_dir, data_file, out2, [a.url, c.url], "--limit", "2") == 0
    assert (meta(out2)["servers_disagree"], meta(out2)["server_ignores_seed"]) == (False, False)
    assert_each_sample_is_its_seeds(out2, 4)


def test_two_urls_serving_one_name_from_different_roots_are_refused(
    tiny_model_dir, data_file, tmp_path, servers, capsys
):
    """Finding: with --served-model only the name was compared, so two URLs serving other checkpoints
    under one name (vLLM's --served-model-name) filled one store with two models' samples."""
    a = servers("qwen", root="/ckpt/step-100")
    b = servers("qwen", root="/ckpt/step-200")
    out = tmp_path / "store"
    assert run_eval(tiny_model_dir, data_file, out, [a.url, b.url], "--served-model", "qwen") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "/ckpt/step-100" in err[0] and "/ckpt/step-200" in err[0]
    assert not a.payloads and not b.payloads  # refused before a request was sent


def test_a_store_is_not_resumed_through_another_checkpoint_under_the_same_name(
    tiny_model_dir, data_file, tmp_path, servers, capsys
):
    """Finding: the store's identity held the served name only, so a killed store resumed through a server
    serving another checkpoint under that name, mixing two models' samples in one pass@k."""
    out = tmp_path / "store"
    a = servers("qwen", root="/ckpt/step-100")
    assert run_eval(tiny_model_dir, data_file, out, [a.url], "--served-model", "qwen", "--limit", "4") == 0
    assert meta(out)["served_root"] == "/ckpt/step-100"
    truncate_samples(out, 5)
    b = servers("qwen", root="/ckpt/step-200")
    assert run_eval(tiny_model_dir, data_file, out, [b.url], "--served-model", "qwen", "--limit", "4") == 2
    err = capsys.readouterr().err
    assert "served_root='/ckpt/step-100', not '/ckpt/step-200'" in err
    assert not b.payloads and len(stored(out)) == 5
    # the same checkpoint resumes
    a2 = servers("qwen", root="/ckpt/step-100")
    assert run_eval(tiny_model_dir, data_file, out, [a2.url], "--served-model", "qwen", "--limit", "4") == 0
    assert len(stored(out)) == 16


def test_a_store_is_not_resumed_through_another_server_version(
    tiny_model_dir, data_file, tmp_path, servers, capsys
):
    """Finding: a store resumed through a server of another version (whose kernels draw a seed's sample
    differently) was accepted, and meta.json went on naming the first version alone."""
    out = tmp_path / "store"
    a = servers(tiny_model_dir, version="0.31.0")
    assert run_eval(tiny_model_dir, data_file, out, [a.url], "--limit", "4") == 0
    truncate_samples(out, 5)
    b = servers(tiny_model_dir, version="0.32.0")
    assert run_eval(tiny_model_dir, data_file, out, [b.url], "--limit", "4") == 2
    assert "server_version='0.31.0', not '0.32.0'" in capsys.readouterr().err
    assert not b.payloads and len(stored(out)) == 5


@pytest.mark.parametrize(
    "finish, tokens, said",
    [
        ("length", 6, "cut (finish_reason length) at 6 tokens, before --max-tokens 12"),
        ("stop", 40, "40 tokens, more than --max-tokens 12"),
        ("content_filter", 5, "finish_reason 'content_filter'"),
        (None, 5, "finish_reason None"),
    ],
)
def test_an_answer_that_is_not_what_was_asked_stops_the_run(
    tiny_model_dir, data_file, tmp_path, servers, capsys, finish, tokens, said
):
    """Finding: a server that cut samples short of --max-tokens (a shorter context or its own cap) had them
    stored as `length` under the store's max_tokens; one that ran past max_tokens, or gave a finish reason
    that says nothing of truncation, had its samples stored as finished (`stop`)."""
    a = servers(tiny_model_dir)
    a.answer = lambda p: a.seeded_answer(p, finish, tokens)
    out = tmp_path / "store"
    assert run_eval(tiny_model_dir, data_file, out, [a.url], "--limit", "2") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert said in err[-1] and a.url in err[-1]
    assert not (out / "samples.jsonl").exists() or not stored(out)


def test_an_aborted_answer_is_asked_again_not_stored_as_finished(
    tiny_model_dir, data_file, tmp_path, servers
):
    """Finding: vLLM and SGLang answer `finish_reason: abort` for a request they gave up on part way; its
    cut text was stored as a finished sample (`stop`) and graded. It is a failed request: tried again."""
    a = servers(tiny_model_dir)
    aborted: set[int] = set()

    def abort_once(payload):
        if payload["seed"] not in aborted:
            aborted.add(payload["seed"])
            return completion("cut sh", "abort", 2)
        text, _ = seeded_text(payload["seed"], payload["prompt"])
        finish = "length" if payload["seed"] % 2 else "stop"
        return completion(text, finish, 12 if finish == "length" else 5)

    a.answer = abort_once
    out = tmp_path / "store"
    assert run_eval(tiny_model_dir, data_file, out, [a.url], "--limit", "2", "--request-retries", "2") == 0
    assert_each_sample_is_its_seeds(out, 4)
    for r in stored(out):
        seed = sample_seed(0, r["problem"], r["sample"])
        assert (r["finish_reason"], r["tokens"]) == (("length", 12) if seed % 2 else ("stop", 5))


def test_results_json_marks_a_server_that_ignores_seeds(tiny_model_dir, data_file, tmp_path, servers):
    """Finding: a server found ignoring seeds was noted in meta.json only; results.json (what compare and
    readers take) carried its pass@k with no mark of it, nor of the served model."""
    a = servers(tiny_model_dir, root="/models/m")
    a.answer = random_answer(3)
    out = tmp_path / "store"
    assert run_eval(tiny_model_dir, data_file, out, [a.url], "--limit", "2") == 0
    server = json.loads((out / "results.json").read_text())["server"]
    assert server == {
        "served_model": tiny_model_dir,
        "served_root": "/models/m",
        "server_version": "0.31.0",
        "api": "completions",
        "server_ignores_seed": True,
        "servers_disagree": None,
    }


def test_a_run_that_fails_in_process_leaves_the_store_unlocked(
    tiny_model_dir, data_file, tmp_path, servers, capsys
):
    """Finding: a run that stopped on an error (a dead server) kept the store's lock until the garbage
    collector closed it, so a rerun in the same process (rlvr probe --watch, a notebook) was refused as
    'being written by rlvr eval (pid <its own pid>)'."""
    a = servers(tiny_model_dir)
    a.answer = lambda p: (400, {"error": "maximum context length exceeded"})  # a 4xx stops the run
    out = tmp_path / "store"
    import gc

    gc.disable()  # the lock must be released by the run, not by a collection that happens to run
    try:
        assert run_eval(tiny_model_dir, data_file, out, [a.url], "--limit", "2") == 2
        a.answer = a.seeded_answer
        assert run_eval(tiny_model_dir, data_file, out, [a.url], "--limit", "2") == 0, capsys.readouterr().err
    finally:
        gc.enable()
    assert_each_sample_is_its_seeds(out, 4)


def test_a_server_restarted_mid_run_with_another_checkpoint_stops_the_run(
    tiny_model_dir, data_file, tmp_path, servers, capsys
):
    """Finding: the served model was checked once, before the first request; a server that went down
    mid-run and came back (retries reach it again) serving another checkpoint under the same name filled the
    rest of the store with that model's samples. Now a URL that failed is asked what it serves before its next
    request is sent and before an answer that was in flight across the failure is kept."""
    a = servers("qwen", root="/ckpt/step-100")
    state = {"answered": 0, "phase": "old"}  # old -> restarting (every request fails) -> new
    lock = threading.Lock()

    def restarted():
        with lock:
            if state["phase"] == "restarting":
                a.root, state["phase"] = "/ckpt/step-200", "new"

    def answer(payload):
        with lock:
            state["answered"] += 1
            if state["answered"] == 20:
                state["phase"] = "restarting"
            phase = state["phase"]
        if phase == "restarting":
            return 503, {"error": "loading the model"}
        if phase == "new":
            return completion(f"new model {payload['seed']} \\boxed{{1}}")
        return a.seeded_answer(payload)

    a.answer, a.on_models = answer, restarted
    out = tmp_path / "store"
    extra = ("--served-model", "qwen", "--concurrency", "4", "--request-retries", "3")
    assert run_eval(tiny_model_dir, data_file, out, [a.url], *extra, n=8) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "now serves 'qwen' from /ckpt/step-200" in err[-1] and "from /ckpt/step-100" in err[-1]
    assert state["phase"] == "new"
    records = stored(out)
    assert 0 < len(records) < 20 and not any(r["text"].startswith("new model") for r in records)
    prompts = problem_prompts(out)
    for r in records:  # what was stored is the old checkpoint's answer for the sample's own seed
        assert r["text"] == seeded_text(sample_seed(0, r["problem"], r["sample"]), prompts[r["problem"]])[0]


def test_an_answer_with_several_choices_stops_the_run(tiny_model_dir, data_file, tmp_path, servers, capsys):
    """Finding: a server that ignored `n: 1` and answered two choices had the first one in the list stored,
    whichever its index, without a word: a server that ignores n may ignore the other settings too."""
    a = servers(tiny_model_dir)

    def two(payload):
        body = a.seeded_answer(payload)
        body["choices"].insert(0, {"index": 1, "text": "another \\boxed{1}", "finish_reason": "stop"})
        return body

    a.answer = two
    out = tmp_path / "store"
    assert run_eval(tiny_model_dir, data_file, out, [a.url], "--limit", "2") == 2
    assert "2 choices to a request for one" in capsys.readouterr().err
    assert not (out / "samples.jsonl").exists() or not stored(out)


@pytest.mark.timeout(300)  # before the fix the resume never ended
def test_a_sequential_store_resumed_past_a_lost_sample_closes(
    tiny_model_dir, data_file, tmp_path, servers, capsys
):
    """Finding: with --stop-at-correct, a server that died left a problem with its samples 1..3 stored (two
    correct) and sample 0 lost. On the rerun the planner counted the m correct it already held and asked for
    nothing more, while the stop, walked from index 0, waited for sample 0: the resume spun forever."""
    seeds = {sample_seed(0, f"p{i}", s): (f"p{i}", s) for i in range(8) for s in range(8)}
    a = servers(tiny_model_dir)
    down = {"p3/0": True}

    def answer(payload):
        pid, s = seeds[payload["seed"]]
        if (pid, s) == ("p3", 0) and down["p3/0"]:
            return 503, {"error": "out of memory"}
        x, y = (int(v) for v in PROBLEM.search(payload["prompt"]).groups())
        return completion(f"sample {s}: \\boxed{{{x + y if s in (1, 2) else x + y + 1}}}")

    a.answer = answer
    out = tmp_path / "store"
    rule = ("--stop-at-correct", "2")
    assert run_eval(tiny_model_dir, data_file, out, [a.url], *rule, n=8) == 2
    assert "did not answer after 2 tries" in capsys.readouterr().err
    assert sorted(r["sample"] for r in stored(out) if r["problem"] == "p3") == [1, 2, 3]  # sample 0 lost
    down["p3/0"] = False
    assert run_eval(tiny_model_dir, data_file, out, [a.url], *rule, n=8) == 0
    # every problem: sample 0 wrong, 1 and 2 correct, so the 2nd correct is at index 2: N = 3, c = 2
    problems = json.loads((out / "results.json").read_text())["problems"]
    assert problems == {f"p{i}": {"n": 3, "correct": 2} for i in range(8)}


@pytest.mark.parametrize("off_by", [0, 1, -3])
def test_a_server_that_counts_the_prompt_otherwise_stops_the_run(
    tiny_model_dir, data_file, tmp_path, servers, capsys, off_by
):
    """Finding: nothing tied the served model to --model's tokenizer: with --served-model NAME any model
    could answer prompts rendered with --model's chat template, and a server that ignores
    add_special_tokens (SGLang, llama.cpp) put a second BOS before a rendered prompt; both sampled silently.
    The prompt's token count a server reports (usage.prompt_tokens) must be --model's tokenizer's."""
    from transformers import AutoTokenizer

    tokenizer, lock = AutoTokenizer.from_pretrained(tiny_model_dir), threading.Lock()

    def counted(payload):
        body = a.seeded_answer(payload)
        with lock:
            body["usage"]["prompt_tokens"] = len(
                tokenizer(payload["prompt"], add_special_tokens=False)["input_ids"]
            )
        body["usage"]["prompt_tokens"] += off_by
        return body

    a = servers("default")
    a.answer = counted
    out = tmp_path / "store"
    rc = run_eval(tiny_model_dir, data_file, out, [a.url], "--served-model", "default", "--limit", "2")
    if off_by == 0:
        assert rc == 0
        assert_each_sample_is_its_seeds(out, 4)
    else:
        assert rc == 2
        assert "prompt tokens where --model's tokenizer counts" in capsys.readouterr().err
        assert not (out / "samples.jsonl").exists() or not stored(out)


def test_two_shards_noting_at_once_lose_neither_note(
    tiny_model_dir, data_file, tmp_path, servers, monkeypatch
):
    """Finding: shards of one store (--shard i/N, each with its own servers, started together by a SLURM
    array) each note their seed check in meta.json by read, change, write: a shard that read before the other
    wrote put back meta.json without the other's note, so `server_ignores_seed: true` could vanish."""
    import rlvr.evaluate.store as store_module
    from rlvr.evaluate.store import SampleStore

    a = servers(tiny_model_dir)
    out = tmp_path / "store"
    assert run_eval(tiny_model_dir, data_file, out, [a.url], "--limit", "2") == 0
    first, second = SampleStore.open_existing(out), SampleStore.open_existing(out)
    read_meta, second_read = store_module._read_meta, threading.Event()

    def interleaved(path):  # the first shard's read waits (up to 5 s) for the second shard's read
        meta = read_meta(path)
        if threading.current_thread().name == "first":
            second_read.wait(5)
        else:
            second_read.set()
        return meta

    monkeypatch.setattr(store_module, "_read_meta", interleaved)
    threads = [
        threading.Thread(target=first.note, args=("server_ignores_seed", True), name="first"),
        threading.Thread(target=second.note, args=("servers_disagree", True), name="second"),
    ]
    threads[0].start()
    threads[1].start()
    for thread in threads:
        thread.join()
    assert (meta(out)["server_ignores_seed"], meta(out)["servers_disagree"]) == (True, True)


@pytest.mark.parametrize("body", [["stub-model"], {"data": "stub-model"}, "ok"])
def test_a_models_listing_that_is_not_one_is_one_line(
    tiny_model_dir, data_file, tmp_path, servers, capsys, body
):
    """A proxy or another API at --base-url answers GET /v1/models with something else: one line, no traceback."""
    server = servers("stub-model")
    server.models_body = body
    assert run_eval(tiny_model_dir, data_file, tmp_path / "s", [server.url]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "GET /v1/models answered" in err[0] and server.url in err[0]
