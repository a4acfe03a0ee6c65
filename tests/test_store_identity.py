"""A store is read only as what its meta.json says it is: the problems it was made for, n samples of each, in
one precision. Swapped, missing or damaged files are refused in one line, never read as another store's."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from cli_helpers import one_line_error
from store_helpers import eval_cmd

from rlvr.cli import main as rlvr


def _copy(full_run: Path, tmp_path: Path, name: str = "store") -> Path:
    store = tmp_path / name
    shutil.copytree(full_run, store)
    return store


def _edit_meta(store: Path, **changes) -> None:
    meta = json.loads((store / "meta.json").read_text())
    for key, value in changes.items():
        if value is None:
            meta.pop(key, None)
        else:
            meta[key] = value
    (store / "meta.json").write_text(json.dumps(meta))


def _other_problems(store: Path) -> None:
    """problems.jsonl of other problems under the same ids (another data file's store, copied in)."""
    rows = [json.loads(line) for line in (store / "problems.jsonl").read_text().splitlines()]
    rows[0] = {**rows[0], "problem": "What is 40 + 2?", "answer": "42"}
    (store / "problems.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))


def _resume(model: str, data: str, store: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(eval_cmd(model, data, store, *extra), capture_output=True, text=True, timeout=600)


def test_problems_of_another_store_are_refused_by_every_reader(
    tiny_model_dir, data_file, full_run, tmp_path, capsys
):
    store = _copy(full_run, tmp_path)
    _other_problems(store)
    for argv in (
        ["regrade", str(store), "--reward", "math_strict", "--out", str(tmp_path / "regraded")],
        [
            "compare",
            str(full_run),
            str(store),
            "--labels",
            "a,b",
            "--resamples",
            "20",
            "--out",
            str(tmp_path / "r"),
        ],
    ):
        err = one_line_error(capsys, *argv)
        assert "is not the problems" in err and "meta.json" in err, err
    assert not (tmp_path / "regraded").exists()
    done = _resume(tiny_model_dir, data_file, store)
    assert done.returncode == 2 and "is not the problems" in done.stderr, done.stderr


def test_a_missing_problems_file_is_rewritten_only_for_the_same_problems(
    tiny_model_dir, data_file, full_run, tmp_path
):
    store = _copy(full_run, tmp_path)
    (store / "problems.jsonl").unlink()
    other = tmp_path / "other.jsonl"
    rows = [json.loads(line) for line in Path(data_file).read_text().splitlines()]
    rows[0]["problem"] = "What is 40 + 2?"
    other.write_text("".join(json.dumps(r) + "\n" for r in rows))
    done = _resume(tiny_model_dir, str(other), store)
    assert done.returncode == 2 and "the problems differ from those the store" in done.stderr, done.stderr
    assert _resume(tiny_model_dir, data_file, store).returncode == 0
    assert (store / "problems.jsonl").read_bytes() == (full_run / "problems.jsonl").read_bytes()


def test_samples_without_a_meta_json_are_not_adopted(tiny_model_dir, data_file, full_run, tmp_path):
    store = _copy(full_run, tmp_path)
    (store / "meta.json").unlink()
    done = _resume(tiny_model_dir, data_file, store, "--temperature", "1.5")
    assert done.returncode == 2 and "no meta.json" in done.stderr, done.stderr
    assert (store / "samples.jsonl").read_bytes() == (full_run / "samples.jsonl").read_bytes()


@pytest.mark.parametrize("n", [None, 0, True, 4.5, "16"])
def test_a_meta_json_without_a_whole_n_is_refused(full_run, tmp_path, capsys, n):
    """Without n nothing is missing, so an unfinished store would read as a finished one."""
    store = _copy(full_run, tmp_path)
    lines = (store / "samples.jsonl").read_text().splitlines(keepends=True)
    (store / "samples.jsonl").write_text("".join(lines[:-7]))
    _edit_meta(store, n=n)  # None: no n at all
    err = one_line_error(capsys, "regrade", str(store), "--reward", "math", "--out", str(tmp_path / "re"))
    assert "meta.json" in err and "n >= 1" in err, err
    err = one_line_error(capsys, "compare", str(store), "--resamples", "20", "--out", str(tmp_path / "r"))
    assert "meta.json" in err and "n >= 1" in err, err


def test_a_store_sampled_in_another_precision_is_not_resumed(tiny_model_dir, data_file, full_run, tmp_path):
    """`--dtype auto` is float32 on a CPU and the checkpoint's own dtype on a GPU: the store records which."""
    meta = json.loads((full_run / "meta.json").read_text())
    assert meta["dtype"] == "auto" and meta["sampled_dtype"] == "float32"
    store = _copy(full_run, tmp_path)
    _edit_meta(store, sampled_dtype="bfloat16")  # as a GPU machine would have sampled a bf16 checkpoint
    done = _resume(tiny_model_dir, data_file, store)
    assert done.returncode == 2 and "sampled_dtype='bfloat16', not 'float32'" in done.stderr, done.stderr
    older = _copy(full_run, tmp_path, "older")
    _edit_meta(older, sampled_dtype=None)  # a store made before the precision was recorded resumes
    assert _resume(tiny_model_dir, data_file, older).returncode == 0


def test_regrading_a_store_with_no_samples_is_one_line(full_run, tmp_path, capsys):
    """A store killed before its first sample: --allow-partial has nothing to report, and says so."""
    store = tmp_path / "empty"
    store.mkdir()
    for name in ("meta.json", "problems.jsonl"):
        shutil.copy(full_run / name, store / name)
    argv = ["regrade", str(store), "--reward", "math", "--allow-partial", "--out", str(tmp_path / "re")]
    assert rlvr(argv) == 2  # the warning that it is unfinished, then the error: no traceback
    assert "no problems" in capsys.readouterr().err.strip().splitlines()[-1]
