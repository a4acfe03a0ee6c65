"""A store records the model's directory and a hash of its weights' bytes: resuming into it from other weights (a
checkpoint overwritten in place) is refused; a Hub model's revision is pinned by --model-revision."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from cli_helpers import one_line_error
from conftest import TINY_CORPUS

from rlvr.cli import main as rlvr


def expected_hash(model_dir: str | Path) -> str:
    """sha256 over "name<TAB>sha256<LF>" of each safetensors file, computed here from the bytes."""
    lines = "".join(
        f"{f.name}\t{hashlib.sha256(f.read_bytes()).hexdigest()}\n"
        for f in sorted(Path(model_dir).glob("*.safetensors"))
    )
    return hashlib.sha256(lines.encode()).hexdigest()


def test_results_carry_the_resolved_path_and_the_weights_hash(full_run, tiny_model_dir):
    meta = json.loads((full_run / "meta.json").read_text())
    results = json.loads((full_run / "results.json").read_text())
    for record in (meta, results):
        assert record["model_path"] == os.path.abspath(tiny_model_dir)
        assert record["model_weights_sha256"] == expected_hash(tiny_model_dir)


def _eval(model: str, data: str, out: Path, *extra: str) -> list[str]:
    return ["eval", "--model", model, "--data-file", data, "--limit", "2", "--n", "2", "--max-tokens", "4",
            "--no-progress", "--out", str(out), *extra]  # fmt: skip


def test_a_checkpoint_overwritten_in_place_does_not_resume_its_old_store(
    tiny_model_dir, data_file, tmp_path, capsys
):
    from rlvr.tiny import save_tiny_model

    model = tmp_path / "checkpoint"
    shutil.copytree(tiny_model_dir, model)
    store = tmp_path / "store"
    assert rlvr(_eval(str(model), data_file, store)) == 0
    older = tmp_path / "older"  # a store made before the hash was recorded
    shutil.copytree(store, older)
    meta = json.loads((older / "meta.json").read_text())
    del meta["model_weights_sha256"]
    (older / "meta.json").write_text(json.dumps(meta))
    save_tiny_model(model, TINY_CORPUS, vocab_size=400, hidden_size=32, layers=2, heads=4, seed=1)
    capsys.readouterr()
    err = one_line_error(capsys, *_eval(str(model), data_file, store))
    old, new = expected_hash(tiny_model_dir), expected_hash(model)
    assert old != new
    assert err == (
        f"rlvr eval: error: {store} was sampled from other weights than the model's now (sha256 {old[:12]}… then, "
        f"{new[:12]}… now: a checkpoint overwritten in place?); choose another --out"
    )
    assert rlvr(_eval(str(model), data_file, older)) == 0
    err = one_line_error(capsys, *_eval(str(model), data_file, tmp_path / "x", "--model-revision", "v1"))
    assert "--model-revision v1 applies to Hub ids" in err


def _hub_cache(cache: Path, repo: str, snapshots: dict[str, Path], main: str) -> None:
    """The Hugging Face cache's layout for `repo`: each snapshot's files as links to content-named blobs."""
    root = cache / f"models--{repo.replace('/', '--')}"
    (root / "blobs").mkdir(parents=True, exist_ok=True)
    for commit, source in snapshots.items():
        snapshot = root / "snapshots" / commit
        snapshot.mkdir(parents=True)
        for file in source.iterdir():
            blob = root / "blobs" / hashlib.sha256(file.read_bytes()).hexdigest()
            shutil.copyfile(file, blob)
            (snapshot / file.name).symlink_to(os.path.relpath(blob, snapshot))
    (root / "refs").mkdir()
    (root / "refs" / "main").write_text(main)


def test_model_revision_pins_a_hub_snapshot(tiny_model_dir, data_file, tmp_path):
    from rlvr.tiny import save_tiny_model

    other = save_tiny_model(
        tmp_path / "other", TINY_CORPUS, vocab_size=400, hidden_size=32, layers=2, heads=4, seed=1
    )
    old, new = "a" * 40, "b" * 40
    cache = tmp_path / "hub"
    _hub_cache(cache, "someone/tiny", {old: Path(tiny_model_dir), new: other}, main=new)
    env = {**os.environ, "HF_HUB_CACHE": str(cache), "HF_HUB_OFFLINE": "1"}
    store = tmp_path / "store"
    argv = [
        sys.executable,
        "-m",
        "rlvr.cli",
        *_eval("someone/tiny", data_file, store, "--model-revision", old),
    ]
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr
    meta = json.loads((store / "meta.json").read_text())
    assert meta["model"] == "someone/tiny" and meta["model_revision"] == old
    assert Path(meta["model_path"]) == cache / "models--someone--tiny" / "snapshots" / old
    assert meta["model_weights_sha256"] == expected_hash(tiny_model_dir)
    argv[argv.index(old)] = "main"  # the default branch is the other snapshot: another store's weights
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 2 and "was sampled from other weights" in done.stderr, done.stderr
