"""`rlvr eval --backend openai` against a tiny OpenAI-compatible server written here (tests/openai_stub.py):
each sample's text must be the server's answer for that sample's own seed; retries, a server that ignores seeds,
a server that dies mid-run and a rerun that resumes, several URLs sharing a bounded number of requests.
(tests/test_openai_backend.py runs the same against vLLM's own server in the vLLM lane.)"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest
from openai_stub import StubServer, stub_finish, stub_text, stub_tokens

from rlvr.cli import main

N, SEED = 6, 5


def seed_of(problem: str, sample: int) -> int:
    """The per-sample seed, computed here from its definition (sha256 of seed:problem:sample, 63 bits)."""
    return int.from_bytes(hashlib.sha256(f"{SEED}:{problem}:{sample}".encode()).digest()[:8], "big") >> 1


def args(model: str, data: str, out: Path, urls: str, *extra: str) -> list[str]:
    return [
        "eval",
        "--model",
        model,
        "--data-file",
        data,
        "--template",
        "plain",
        "--chat",
        "raw",
        "--n",
        str(N),
        "--seed",
        str(SEED),
        "--max-tokens",
        "16",
        "--temperature",
        "0.8",
        "--top-p",
        "0.9",
        "--backend",
        "openai",
        "--base-url",
        urls,
        "--served-model",
        "stub-model",
        "--no-progress",
        "--out",
        str(out),
        *extra,
    ]


def stored(out: Path) -> dict[tuple[str, int], dict]:
    rows = [json.loads(x) for x in (out / "samples.jsonl").read_text().splitlines() if x.strip()]
    return {(r["problem"], r["sample"]): r for r in rows}


def expected(out: Path) -> dict[tuple[str, int], tuple[str, str, int]]:
    prompts = {
        p["id"]: p["prompt"] for p in map(json.loads, (out / "problems.jsonl").read_text().splitlines())
    }
    return {
        (pid, s): (
            stub_text(seed_of(pid, s), prompt),
            stub_finish(seed_of(pid, s)),
            stub_tokens(seed_of(pid, s), stub_text(seed_of(pid, s), prompt), 16),
        )
        for pid, prompt in prompts.items()
        for s in range(N)
    }


def as_served(out: Path) -> dict[tuple[str, int], tuple[str, str, int]]:
    return {k: (r["text"], r["finish_reason"], r["tokens"]) for k, r in stored(out).items()}


@pytest.fixture
def servers():
    running: list[StubServer] = []
    yield running
    for server in running:
        try:
            server.stop()
        except OSError:
            pass


def test_two_servers_share_bounded_requests_and_each_sample_is_its_seeds_answer(
    tiny_model_dir, data_file, tmp_path, servers, monkeypatch
):
    monkeypatch.setenv("RLVR_API_KEY", "secret-key")
    servers += [StubServer(), StubServer()]
    out = tmp_path / "store"
    urls = f"{servers[0].url}/v1,{servers[1].url}"
    assert main(args(tiny_model_dir, data_file, out, urls, "--concurrency", "3")) == 0
    assert as_served(out) == expected(out)  # 8 problems x 6 samples, each its own seed's text
    requests = servers[0].requests + servers[1].requests
    assert len(requests) == 8 * N + 3  # one sample sent twice to each URL: the seed check
    assert all(len(s.requests) > 0 for s in servers)
    assert (
        servers[0].most_in_flight + servers[1].most_in_flight <= 3 + 1
    )  # each at most 3, together 3 at once
    assert max(s.most_in_flight for s in servers) <= 3
    first = requests[-1]
    assert (first["model"], first["n"], first["temperature"], first["top_p"], first["max_tokens"]) == (
        "stub-model",
        1,
        0.8,
        0.9,
        16,
    )
    assert {h["Authorization"] for s in servers for h in s.headers} == {"Bearer secret-key"}
    assert not any("add_special_tokens" in r for r in requests)  # this tokenizer adds no BOS
    assert not any(key in r for r in requests for key in ("top_k", "min_p", "stop"))  # off: not sent
    meta = json.loads((out / "meta.json").read_text())
    assert (meta["backend"], meta["served_model"], meta["server_version"]) == (
        "openai",
        "stub-model",
        "stub-1",
    )
    assert meta["server_ignores_seed"] is False
    results = json.loads((out / "results.json").read_text())
    assert sum(p["n"] for p in results["problems"].values()) == 8 * N


def test_failed_and_dropped_requests_are_retried(tiny_model_dir, data_file, tmp_path, servers):
    servers.append(StubServer())
    servers[0].fail_next, servers[0].drop_next = 2, 1
    out = tmp_path / "store"
    assert main(args(tiny_model_dir, data_file, out, servers[0].url, "--concurrency", "2")) == 0
    assert as_served(out) == expected(out)
    assert len(servers[0].requests) == 8 * N + 1 + 3


def test_top_k_min_p_and_stop_are_sent_and_a_kept_stop_string_is_cut(
    tiny_model_dir, data_file, tmp_path, servers
):
    """vLLM's extra sampling parameters go in every request when set; the stub keeps stop strings in its texts
    (as a server that ignores `stop` would), so the backend cuts them as vLLM does: before the first one."""
    servers.append(StubServer())
    out = tmp_path / "store"
    extra = ("--top-k", "20", "--min-p", "0.05", "--stop", " (", "--stop", "never")
    assert main(args(tiny_model_dir, data_file, out, servers[0].url, *extra)) == 0
    assert all(
        (r["top_k"], r["min_p"], r["stop"]) == (20, 0.05, [" (", "never"]) for r in servers[0].requests
    )
    served = expected(out)
    assert as_served(out) == {
        key: (text[: text.index(" (")], "stop", tokens) for key, (text, _, tokens) in served.items()
    }


def test_a_server_that_ignores_seeds_is_named_once_and_recorded(
    tiny_model_dir, data_file, tmp_path, servers, capsys
):
    servers.append(StubServer())
    servers[0].ignore_seed = True
    out = tmp_path / "store"
    assert main(args(tiny_model_dir, data_file, out, servers[0].url)) == 0
    assert capsys.readouterr().err.count("ignores `seed`") == 1
    assert json.loads((out / "meta.json").read_text())["server_ignores_seed"] is True
    assert len(stored(out)) == 8 * N


def test_a_server_that_dies_costs_no_answered_sample_and_a_rerun_resumes(
    tiny_model_dir, data_file, tmp_path, servers, capsys, monkeypatch
):
    servers.append(StubServer())
    servers[0].die_after = 20
    out = tmp_path / "store"
    command = args(
        tiny_model_dir, data_file, out, servers[0].url, "--concurrency", "4", "--request-retries", "2"
    )
    monkeypatch.setattr(sys, "argv", ["rlvr", *command])
    assert main(command) == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert "did not answer after 3 tries" in error and "rerun the same command to resume" in error
    assert "--backend openai" in error  # the command that resumes
    assert len(stored(out)) == 20 - 1  # every answered sample is stored (one answer was the seed check's)
    servers.append(StubServer(port=servers[0].port))  # the server comes back at the same address
    assert main(command) == 0
    assert as_served(out) == expected(out)
    assert len(servers[1].requests) == 8 * N - 19 + 1


def test_a_store_resumes_only_through_a_server_of_its_model(
    tiny_model_dir, data_file, tmp_path, servers, capsys
):
    servers.append(StubServer(models=("stub-model", "other-model")))
    servers[0].die_after = 10
    out = tmp_path / "store"
    command = args(tiny_model_dir, data_file, out, servers[0].url, "--request-retries", "0")
    assert main(command) == 2
    servers.append(StubServer(models=("stub-model", "other-model")))
    other = [*command]
    other[other.index(servers[0].url)] = servers[1].url
    other[other.index("stub-model")] = "other-model"
    capsys.readouterr()
    assert main(other) == 2
    assert "made with served_model='stub-model', not 'other-model'" in capsys.readouterr().err
    assert servers[1].requests == []  # refused before any request
    unknown = [*command]
    unknown[unknown.index(servers[0].url)] = servers[1].url
    unknown[unknown.index("stub-model")] = "missing-model"
    assert main(unknown) == 2


def test_served_model_defaults_to_the_one_served_as_model_and_chat_sends_messages(
    tiny_model_dir, data_file, tmp_path, servers
):
    servers.append(StubServer(models=("served-name",), root=tiny_model_dir))
    out = tmp_path / "store"
    command = args(tiny_model_dir, data_file, out, servers[0].url, "--api", "chat")
    command[command.index("--chat") + 1] = "auto"
    del command[command.index("--served-model") : command.index("--served-model") + 2]
    assert main(command) == 0
    sent = servers[0].requests[-1]
    assert sent["model"] == "served-name"
    assert [m["role"] for m in sent["messages"]][-1] == "user" and "What is" in sent["messages"][-1][
        "content"
    ]
    assert len(stored(out)) == 8 * N


def test_stream_pulls_calls_lazily_and_waits_out_empty_ones(tiny_model_dir, servers):
    from rlvr.evaluate.backends import SamplingSettings, make_backend
    from rlvr.evaluate.backends.openai_server import discover
    from rlvr.evaluate.plan import Request

    servers.append(StubServer())
    server = discover([servers[0].url], "stub-model", tiny_model_dir, "stub-model")
    backend = make_backend("openai", tiny_model_dir, server=server, concurrency=2)
    pulled: list[int] = []

    def calls():
        for i in range(6):
            pulled.append(servers[0].answered)
            yield (
                []
                if i % 2
                else [Request(f"p{i}", f"prompt {i}", (0, 1, 2), (11 * i, 11 * i + 1, 11 * i + 2))]
            )

    got = [pair for batch in backend.stream(calls(), SamplingSettings(3, 0.7, 1.0, 8)) for pair in batch]
    assert sorted((r.problem, r.samples[0], g[0].text) for r, g in got) == sorted(
        (f"p{i}", s, stub_text(11 * i + s, f"prompt {i}")) for i in (0, 2, 4) for s in range(3)
    )
    # the first sample is the seed check (answered twice); the other two fill both slots, so the next call is
    # pulled only once one of them has come back
    assert pulled[1] >= 3


def test_probe_watch_samples_each_checkpoint_from_the_server_serving_it(tmp_path, servers):
    """`rlvr probe --watch` with probe.backend openai: step 0 from the server's copy of the starting model,
    checkpoint-1 from the one serving that checkpoint (by the path a server reports as its model's root)."""
    import shutil

    from rlvr.train.probe import read_probe_log, save_run_recipe
    from rlvr.train.recipe import load_recipe
    from rlvr.train.tiny_task import write_task

    task = write_task(tmp_path / "task", train=4, probe=3)
    run_dir = tmp_path / "run"
    checkpoint = run_dir / "checkpoint-1"
    shutil.copytree(task / "model", checkpoint)
    (checkpoint / "trainer_state.json").write_text("{}")
    (run_dir / "final").mkdir()
    servers.append(StubServer(models=(str(task / "model"), str(checkpoint))))
    recipe = load_recipe(
        Path(__file__).resolve().parents[1] / "recipes" / "tiny" / "grpo.yaml",
        [
            f"model.path={task / 'model'}",
            f"data.data_file={task / 'train.jsonl'}",
            f"data.probe_file={task / 'probe.jsonl'}",
            f"trainer.output_dir={run_dir}",
            "logging.report_to=none",
            "probe.mode=detached",
            "probe.n=4",
            "probe.backend=openai",
            f"probe.base_url={servers[0].url}",
        ],
    )
    save_run_recipe(recipe)
    assert main(["probe", "--watch", str(run_dir), "--no-progress"]) == 0
    assert [r["step"] for r in read_probe_log(run_dir)] == [0, 1]
    assert {r["model"] for r in servers[0].requests} == {str(task / "model"), str(checkpoint)}
    assert len(servers[0].requests) == 2 * (3 * 4 + 1)


@pytest.mark.parametrize(
    "flags, said",
    [
        (
            ["--backend", "hf", "--base-url", "http://127.0.0.1:9"],
            "--base-url only apply to --backend openai",
        ),
        (["--backend", "openai", "--dtype", "bf16", "--base-url", "http://x:1"], "--dtype is the server's"),
        (["--backend", "openai", "--base-url", "127.0.0.1:8000"], "must start with http://"),
        (["--backend", "openai"], "--backend openai needs --base-url"),
        (["--backend", "openai", "--base-url", "http://x:1", "--request-retries", "-1"], "must be 0 or more"),
        (["--backend", "openai", "--base-url", "http://127.0.0.1:9"], "GET /v1/models failed"),
    ],
)
def test_server_flags_are_refused_in_one_line(tiny_model_dir, data_file, tmp_path, capsys, flags, said):
    command = [
        "eval",
        "--model",
        tiny_model_dir,
        "--data-file",
        data_file,
        "--max-tokens",
        "8",
        "--out",
        str(tmp_path / "s"),
        *flags,
    ]
    assert main(command) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and said in err[0]


def test_a_prompt_that_already_holds_its_bos_is_sent_without_another(
    tiny_model_dir, data_file, tmp_path, servers
):
    """A tokenizer that adds a BOS to plain text: the rendered prompt is sent with add_special_tokens false
    (vLLM's field), as the in-process backends tokenize it; without one the field is left out (tests above)."""
    import shutil

    from tokenizers import Tokenizer, processors

    model = tmp_path / "bos-model"
    shutil.copytree(tiny_model_dir, model)
    tokenizer = Tokenizer.from_file(str(model / "tokenizer.json"))
    bos = tokenizer.token_to_id("<|im_start|>")
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<|im_start|> $A", special_tokens=[("<|im_start|>", bos)]
    )
    tokenizer.save(str(model / "tokenizer.json"))
    servers.append(StubServer())
    out = tmp_path / "store"
    assert main(args(str(model), data_file, out, servers[0].url)) == 0
    assert {r.get("add_special_tokens") for r in servers[0].requests} == {False}


def test_sequential_sampling_opens_requests_only_for_open_problems(
    tiny_model_dir, data_file, tmp_path, servers
):
    """--stop-at-correct through a server: each problem's stop is the rule walked over its seeds' answers in
    index order, and fewer requests are sent than uniform n would send."""
    from rate_grader import grader

    from rlvr.evaluate.sequential import StopRule, stop_point
    from rlvr.evaluate.store import SampleStore

    servers.append(StubServer())
    out = tmp_path / "store"
    n_max = 24
    argv = args(tiny_model_dir, data_file, out, servers[0].url, "--reward", "rate_grader:grader")
    argv[argv.index("--n") + 1] = str(n_max)
    assert main(argv + ["--stop-at-correct", "2", "--concurrency", "4"]) == 0
    store = SampleStore.open_existing(out)
    prompts = {str(p["id"]): p for p in store.problems()}
    counts = store.counts()
    rule = StopRule(2, n_max)
    for pid, t, c in zip(counts.problems, counts.n, counts.correct):
        seeds = [
            int.from_bytes(hashlib.sha256(f"{SEED}:{pid}:{s}".encode()).digest()[:8], "big") >> 1
            for s in range(n_max)
        ]
        texts = [stub_text(seed, prompts[pid]["prompt"]) for seed in seeds]
        flags = {s: g.correct for s, g in enumerate(grader.grade(texts, [prompts[pid]["answer"]] * n_max))}
        assert stop_point(flags, rule) == (t, c), pid
    assert len(servers[0].requests) < 8 * n_max
