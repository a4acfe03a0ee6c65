"""The sample store under damage, kills, edits and a second writer; compare refuses what it cannot honestly
compare. Every case here failed before (data lost, silently wrong, or a traceback)."""

from __future__ import annotations

import json
import random
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from cli_helpers import one_line_error
from store_helpers import N, eval_cmd, same_results, snapshot

from rlvr.cli import main as rlvr
from rlvr.evaluate.store import SampleStore

TOTAL = 8 * N


def _run(cmd: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600)


def _kill_after(cmd: list[str], samples: Path, at_least: int, rng: random.Random) -> None:
    """Start `cmd`, SIGKILL it at a random moment once `samples` has more than `at_least` lines."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        if samples.exists() and samples.read_bytes().count(b"\n") > at_least:
            break
        time.sleep(0.005)
    time.sleep(rng.uniform(0, 0.4))
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def test_random_kills_and_a_corrupt_line_end_equal_to_an_uninterrupted_run(
    tiny_model_dir, data_file, full_run, tmp_path
):
    out = tmp_path / "store"
    samples = out / "samples.jsonl"
    rng = random.Random(3)
    cmd = eval_cmd(tiny_model_dir, data_file, out)
    for _ in range(3):
        have = samples.read_bytes().count(b"\n") if samples.exists() else 0
        if have >= TOTAL:
            break
        _kill_after(cmd, samples, have, rng)
    lines = samples.read_bytes().split(b"\n")
    assert len(lines) > 4, "the kills should leave samples behind"
    middle = len(lines) // 2
    flipped = bytearray(lines[middle])
    flipped[flipped.index(b'"correct":') + 9] ^= 0x5A  # a flipped byte in the middle of the file
    lines[middle] = bytes(flipped)
    lines[1] = b"\x00" * len(lines[1])  # NUL bytes, as after a crash of the file system
    samples.write_bytes(b"\n".join(lines))
    done = _run(cmd)
    assert done.returncode == 0, done.stderr
    assert "unreadable" in done.stderr
    assert snapshot(out) == snapshot(full_run)
    assert same_results(out, full_run)
    side = (out / "samples.jsonl.unreadable").read_bytes()
    assert bytes(flipped) in side and b"\x00" * 8 in side  # set aside, never deleted
    again = _run(cmd)  # a further rerun adds nothing
    assert again.returncode == 0 and len(samples.read_bytes().splitlines()) == TOTAL


def test_edited_data_file_is_refused_and_the_same_file_elsewhere_resumes(
    tiny_model_dir, data_file, full_run, tmp_path
):
    out = tmp_path / "store"
    shutil.copytree(full_run, out)
    moved = tmp_path / "elsewhere" / "same.jsonl"
    moved.parent.mkdir()
    shutil.copy(data_file, moved)
    done = _run(eval_cmd(tiny_model_dir, str(moved), out))
    assert done.returncode == 0, done.stderr  # the same content by another path
    assert len(SampleStore.open_existing(out).records()) == TOTAL
    rows = [json.loads(line) for line in Path(data_file).read_text().splitlines()]
    rows[3]["answer"] = "999"
    rows.append({"id": "p8", "problem": "What is 8 + 2?", "answer": "10"})
    moved.write_text("".join(json.dumps(r) + "\n" for r in rows))
    done = _run(eval_cmd(tiny_model_dir, str(moved), out))
    assert done.returncode == 2
    assert (
        "1 added: p8" in done.stderr
        and "1 changed: p3 (answer)" in done.stderr
        and "another --out" in done.stderr
    )
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_second_writer_is_refused(tiny_model_dir, data_file, full_run, tmp_path):
    out = tmp_path / "store"
    shutil.copytree(full_run, out)
    holder = SampleStore.create_or_resume(
        out, json.loads((out / "meta.json").read_text()), SampleStore.open_existing(out).problems()
    )
    try:
        done = _run(eval_cmd(tiny_model_dir, data_file, out))
    finally:
        holder.close()
    assert done.returncode == 2 and "is being written by rlvr eval (pid" in done.stderr


def _counts_csv(path: Path, rows: dict[str, tuple[int, int]]) -> str:
    path.write_text("problem,n,correct\n" + "".join(f"{p},{n},{c}\n" for p, (n, c) in rows.items()))
    return str(path)


def test_compare_refuses_different_problem_sets_unless_intersect(tmp_path, capsys):
    a = _counts_csv(tmp_path / "a.csv", {"x": (4, 1), "y": (4, 2), "z": (4, 0)})
    b = _counts_csv(tmp_path / "b.csv", {"x": (4, 3), "y": (4, 4), "w": (4, 1)})
    assert rlvr(["compare", a, b, "--out", str(tmp_path / "r"), "--resamples", "20"]) == 2
    err = capsys.readouterr().err
    assert (
        "a has 1 the others lack (z)" in err and "b has 1 the others lack (w)" in err and "--intersect" in err
    )
    assert rlvr(["compare", a, b, "--intersect", "--out", str(tmp_path / "r"), "--resamples", "20"]) == 0
    out = capsys.readouterr().out
    assert "over the 2 problems all inputs share" in out and "a 1 (z)" in out


def test_compare_refuses_an_unfinished_store_unless_allow_partial(full_run, tmp_path, capsys):
    partial = tmp_path / "partial"
    shutil.copytree(full_run, partial)
    lines = (partial / "samples.jsonl").read_text().splitlines(keepends=True)
    (partial / "samples.jsonl").write_text("".join(lines[:-5]))
    args = ["compare", str(full_run), str(partial), "--labels", "full,partial", "--resamples", "20"]
    assert rlvr([*args, "--out", str(tmp_path / "r")]) == 2
    assert "unfinished: 5 samples missing" in capsys.readouterr().err
    assert rlvr([*args, "--allow-partial", "--out", str(tmp_path / "r")]) == 0


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        (
            "syntax.jsonl",
            b'{"id": 1, "problem": "a", "answer": "1"}\n' * 6 + b'{"id": 7, "problem" "b"}\n',
            "line 7, column",
        ),
        (
            "latin1.jsonl",
            b'{"id": 1, "problem": "caf\xe9", "answer": "1"}\n',
            "line 1, column 26 is not UTF-8",
        ),
        ("list.jsonl", b'{"id": 1, "problem": "a", "answer": "1"}\n[1, 2]\n', "line 2 is a JSON list"),
        (
            "ragged.csv",
            b"id,problem,answer\n1,What is 1 + 1?,2\n2,What is 1, 2?,3\n",
            "line 3 has a different number of fields",
        ),
        ("null_gold.jsonl", b'{"id": 1, "problem": "a", "answer": null}\n', "line 1: the answer is empty"),
        ("empty_gold.csv", b"id,problem,answer\n1,a,\n", "line 2: the answer is empty"),
        (
            "blank_problem.jsonl",
            b'{"id": 1, "problem": "a", "answer": "1"}\n{"id": 2, "problem": " ", "answer": "1"}\n',
            "line 2: the problem is empty",
        ),
        (
            "same_ids.jsonl",
            b'{"id": 7, "problem": "a", "answer": "1"}\n{"id": 8, "problem": "b", "answer": "2"}\n'
            b'{"id": 7, "problem": "c", "answer": "3"}\n',
            "problem ids are not unique: '7' (2 rows)",
        ),
    ],
)
def test_bad_data_files_end_in_one_line_naming_file_and_line(
    tiny_model_dir, tmp_path, capsys, name, content, expected
):
    path = tmp_path / name
    path.write_bytes(content)
    err = one_line_error(
        capsys, "eval", "--model", tiny_model_dir, "--data-file", str(path), "--out", str(tmp_path / "o")
    )
    assert str(path) in err and expected in err, err


def test_a_directory_as_data_file_and_a_missing_model_are_one_line(tiny_model_dir, tmp_path, capsys):
    assert (
        rlvr(["eval", "--model", tiny_model_dir, "--data-file", str(tmp_path), "--out", str(tmp_path / "o")])
        == 2
    )
    assert "is a directory" in capsys.readouterr().err
    data = tmp_path / "d.jsonl"
    data.write_text('{"id": 1, "problem": "a", "answer": "1"}\n')
    err = one_line_error(
        capsys,
        "eval",
        "--model",
        str(tmp_path / "no-model"),
        "--data-file",
        str(data),
        "--out",
        str(tmp_path / "o"),
    )
    assert "no such directory" in err


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (["--temperature", "-1"], "--temperature must be 0 (greedy) or more, not -1.0"),
        (["--top-p", "1.5"], "--top-p must be in (0, 1] (1 keeps the whole vocabulary), not 1.5"),
        (["--top-p", "0"], "--top-p must be in (0, 1]"),
        (["--n", "0"], "--n must be at least 1 (samples per problem), not 0"),
        (["--limit", "-3"], "--limit must be at least 1 (leave it out for every problem), not -3"),
    ],
)
def test_sampling_settings_out_of_range_are_one_line_before_the_model_loads(
    tmp_path, capsys, flags, expected
):
    """Out of range they used to sample anyway (a negative temperature fell back to greedy) and store a run."""
    data = tmp_path / "d.jsonl"
    data.write_text('{"id": 1, "problem": "a", "answer": "1"}\n')
    err = one_line_error(
        capsys,
        "eval",
        "--model",
        str(tmp_path / "no-model"),
        "--data-file",
        str(data),
        "--out",
        str(tmp_path / "o"),
        *flags,
    )
    assert expected in err, err
    assert not (tmp_path / "o").exists()


def test_greedy_sampling_of_several_samples_says_they_are_all_the_same(
    tiny_model_dir, data_file, tmp_path, capsys
):
    assert (
        rlvr(
            [
                "eval",
                "--model",
                tiny_model_dir,
                "--data-file",
                data_file,
                "--out",
                str(tmp_path / "o"),
                "--n",
                "3",
                "--max-tokens",
                "4",
                "--temperature",
                "0",
                "--limit",
                "1",
                "--no-progress",
            ]
        )
        == 0
    )
    assert "the 3 samples of a problem are all the same" in capsys.readouterr().err
    texts = [r["text"] for r in SampleStore.open_existing(tmp_path / "o").records()]
    assert len(texts) == 3 and len(set(texts)) == 1


def test_a_csv_with_a_bom_keeps_its_id_column(tmp_path):
    from rlvr.data import load_problems

    path = tmp_path / "excel.csv"
    path.write_bytes("id,problem,answer\nq1,What is 1 + 1?,2\n".encode("utf-8-sig"))
    problems, _ = load_problems(data_file=str(path))
    assert problems[0].id == "q1"


def test_counts_files_with_bad_numbers_or_ragged_rows_are_one_line(tmp_path, capsys):
    good = _counts_csv(tmp_path / "good.csv", {"x": (4, 1)})
    bad = tmp_path / "bad.csv"
    bad.write_text("problem,n,correct\nx,four,1\n")
    assert rlvr(["compare", good, str(bad), "--out", str(tmp_path / "r")]) == 2
    assert "line 2: n='four' is not a whole number" in capsys.readouterr().err
    bad.write_text("problem,n,correct\nx,4\n")
    assert rlvr(["compare", good, str(bad), "--out", str(tmp_path / "r")]) == 2
    assert "line 2 has 2 fields; the header has 3" in capsys.readouterr().err


def test_a_read_only_out_is_one_line(tiny_model_dir, data_file, tmp_path, capsys):
    import os

    if os.geteuid() == 0:
        pytest.skip("root writes into read-only directories")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        err = one_line_error(
            capsys,
            "eval",
            "--model",
            tiny_model_dir,
            "--data-file",
            data_file,
            "--max-tokens",
            "12",
            "--out",
            str(locked / "store"),
        )
    finally:
        locked.chmod(0o700)
    assert "Permission denied" in err


def test_an_out_under_a_file_is_one_line(tiny_model_dir, data_file, tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    err = one_line_error(
        capsys,
        "eval",
        "--model",
        tiny_model_dir,
        "--data-file",
        data_file,
        "--max-tokens",
        "12",
        "--out",
        str(blocker / "store"),
    )
    assert "Not a directory" in err


def test_prompts_past_the_context_are_refused_by_id_before_sampling(tiny_model_dir, tmp_path, capsys):
    path = tmp_path / "long.jsonl"
    rows = [
        {"id": "ok", "problem": "What is 1 + 1?", "answer": "2"},
        {"id": "long", "problem": "1 + " * 400 + "1", "answer": "401"},
        {"id": "huge", "problem": "x" * 5_000_000, "answer": "1"},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    start = time.monotonic()
    assert (
        rlvr(
            [
                "eval",
                "--model",
                tiny_model_dir,
                "--data-file",
                str(path),
                "--max-tokens",
                "64",
                "--out",
                str(tmp_path / "o"),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert (
        "2 prompt(s) do not fit the model's context of 1024 tokens" in err
        and "long (" in err
        and "huge (far longer)" in err
    )
    assert time.monotonic() - start < 60
    assert not (tmp_path / "o" / "samples.jsonl").exists()


def test_a_full_disk_is_one_line_and_the_rerun_completes_the_store(
    tiny_model_dir, data_file, full_run, tmp_path
):
    """A disk that fills mid-run (a file-size limit stands in for it: writes fail with EFBIG, as ENOSPC would)."""
    import resource

    out = tmp_path / "store"

    def small_files() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails instead of killing
        resource.setrlimit(resource.RLIMIT_FSIZE, (6000, 6000))

    done = subprocess.run(
        eval_cmd(tiny_model_dir, data_file, out),
        capture_output=True,
        text=True,
        timeout=600,
        preexec_fn=small_files,
    )
    assert done.returncode == 2, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert (
        last.startswith("rlvr eval: error: cannot write ")
        and "samples.jsonl: File too large; free some space" in last
    )
    assert 0 < len(SampleStore.open_existing(out).records()) < TOTAL
    assert _run(eval_cmd(tiny_model_dir, data_file, out)).returncode == 0
    assert snapshot(out) == snapshot(full_run)


def test_regrade_refuses_an_unfinished_store_unless_allow_partial(full_run, tmp_path, capsys):
    """regrade goes through the same completeness check as compare and results.json: the missing count is
    named and nothing is written; with --allow-partial, results.json says what it lacks."""
    partial = tmp_path / "partial"
    shutil.copytree(full_run, partial)
    lines = (partial / "samples.jsonl").read_text().splitlines(keepends=True)
    (partial / "samples.jsonl").write_text("".join(lines[:-3]))
    out = tmp_path / "regraded"
    err = one_line_error(capsys, "regrade", str(partial), "--reward", "math_strict", "--out", str(out))
    assert "unfinished: 3 samples missing over" in err and "--allow-partial" in err
    assert not out.exists()
    assert (
        rlvr(["regrade", str(partial), "--reward", "math_strict", "--out", str(out), "--allow-partial"]) == 0
    )
    results = json.loads((out / "results.json").read_text())
    assert results["unfinished"]["missing_samples"] == 3
    assert sum(p["n"] for p in results["problems"].values()) == TOTAL - 3


def test_results_are_written_for_a_complete_store_only(full_run, tmp_path):
    partial = tmp_path / "partial"
    shutil.copytree(full_run, partial)
    lines = (partial / "samples.jsonl").read_text().splitlines(keepends=True)
    (partial / "samples.jsonl").write_text("".join(lines[1:]))
    store = SampleStore.open_existing(partial)
    with pytest.raises(ValueError, match="unfinished: 1 samples missing"):
        store.write_results()


def test_records_outside_the_plan_are_set_aside_never_counted(full_run, tmp_path):
    """A sample index past n and an unknown problem are read like unreadable lines: not counted by readers,
    moved to samples.jsonl.unreadable when the store is opened for writing."""
    from rlvr.evaluate.counts import load_counts

    store_dir = tmp_path / "store"
    shutil.copytree(full_run, store_dir)
    samples = store_dir / "samples.jsonl"
    first = json.loads(samples.read_text().splitlines()[0])
    outside = [
        {**first, "sample": N, "correct": True},  # past n
        {**first, "sample": N + 7, "correct": True},
        {**first, "problem": "not-a-problem", "sample": 0, "correct": True},
        {**first, "sample": -1, "correct": True},
    ]
    extra = "".join(json.dumps(r) + "\n" for r in outside)
    with samples.open("a") as f:
        f.write(extra)
    ids = [str(json.loads(line)["id"]) for line in (store_dir / "problems.jsonl").read_text().splitlines()]
    counts = load_counts(store_dir)
    assert list(counts.problems) == ids and list(counts.n) == [N] * len(ids)  # never 9 of 8
    assert counts.correct.tolist() == load_counts(full_run).correct.tolist()
    results = SampleStore.open_existing(store_dir).write_results()
    assert {p["n"] for p in results["problems"].values()} == {N}
    meta = json.loads((store_dir / "meta.json").read_text())
    writer = SampleStore.create_or_resume(store_dir, meta, SampleStore.open_existing(store_dir).problems())
    writer.close()
    assert (store_dir / "samples.jsonl.unreadable").read_text() == extra
    assert samples.read_text() == (full_run / "samples.jsonl").read_text()


def _open_shard(path: str, shard: int, shards: int, start_at: float) -> str:
    """One shard of an array job opening the store (a process of its own): '' or the error it met."""
    import time as clock

    from rlvr.evaluate.plan import SAMPLE_SEEDS
    from rlvr.evaluate.store import SampleStore

    meta = {"model": "m", "dataset": "d", "n": 4, "seed": 0, "max_tokens": 8, "sample_seeds": SAMPLE_SEEDS}
    problems = [{"id": f"p{i}", "prompt": f"Q{i}", "answer": str(i)} for i in range(5)]
    while clock.time() < start_at:  # every shard starts at once, as SLURM starts an array's tasks
        pass
    try:
        SampleStore.create_or_resume(path, meta, problems, (shard, shards)).close()
        return ""
    except Exception as exc:  # noqa: BLE001 - the test reports whatever a shard met
        return f"{type(exc).__name__}: {exc}"


def test_shards_that_create_one_store_at_once_all_open_it(tmp_path):
    """Shards start together and each finds no meta.json: the checks and writes are one step under a lock, and
    each writer's temporary file is its own (a shared name let one shard rename another's file away)."""
    import multiprocessing
    import time

    context = multiprocessing.get_context("spawn")
    for attempt in range(4):
        path = tmp_path / f"store-{attempt}"
        with context.Pool(6) as pool:
            start_at = time.time() + 3.0  # after every worker has imported the store
            errors = pool.starmap(_open_shard, [(str(path), i, 6, start_at) for i in range(6)])
        assert errors == [""] * 6
        assert json.loads((path / "meta.json").read_text())["n"] == 4
        assert not list(path.glob("*.tmp"))
