"""The sample store: one directory per model x dataset x sampling settings.

meta.json      what produced it (model, dataset, template, sampling settings, seed, grader, versions)
problems.jsonl the problems with their prompts and what the grader reads (so `regrade` needs no dataset)
samples*.jsonl one line per sample; append-only, flushed and fsynced per batch; one file per shard
results.json   per problem n and correct, and the pass@k curve

A torn last line (a killed writer) is cut off on reopen; rerunning the same command resumes.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path

import numpy as np

from rlvr.evaluate.counts import Counts
from rlvr.evaluate.passk import log2_ks, mean_pass_at_k

# Settings that must match for a rerun to resume into an existing store.
IDENTITY_KEYS = ("model", "dataset", "data_file", "split", "template", "chat", "n", "temperature", "top_p",
                 "max_tokens", "seed", "samples_per_call", "limit", "grader")
RECORD_KEYS = ("problem", "sample", "text", "extracted", "verdict", "correct", "tokens", "finish_reason")


def _read_jsonl(path: Path, repair: bool = False) -> list[dict]:
    """Every complete line; with `repair`, cut a torn tail off the file so appends start clean."""
    if not path.exists():
        return []
    data = path.read_bytes()
    good_end = data.rfind(b"\n") + 1
    records = []
    for line in data[:good_end].splitlines():
        if line.strip():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                break
    if repair and good_end != len(data):
        with path.open("r+b") as f:
            f.truncate(good_end)
    return records


class SampleStore:
    def __init__(self, path: str | Path, meta: dict, shard: tuple[int, int] | None = None) -> None:
        self.path = Path(path)
        self.meta = meta
        self.shard = shard
        name = "samples.jsonl" if shard is None else f"samples.shard-{shard[0]}-of-{shard[1]}.jsonl"
        self.samples_file = self.path / name

    @classmethod
    def create_or_resume(cls, path: str | Path, meta: dict, problems: list[dict],
                         shard: tuple[int, int] | None = None) -> SampleStore:
        """Open the store for writing; an existing one must have been made with the same settings."""
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        meta_file = path / "meta.json"
        if meta_file.exists():
            old = json.loads(meta_file.read_text())
            for key in IDENTITY_KEYS:
                if old.get(key) != meta.get(key):
                    raise ValueError(
                        f"{path} holds a sample store made with {key}={old.get(key)!r}, not {meta.get(key)!r}; "
                        f"rerun with the same settings to resume, or choose another --out"
                    )
        else:
            meta_file.write_text(json.dumps(meta, indent=2))
        problems_file = path / "problems.jsonl"
        if not problems_file.exists():
            tmp = problems_file.with_suffix(".tmp")
            tmp.write_text("".join(json.dumps(p) + "\n" for p in problems))
            os.replace(tmp, problems_file)
        store = cls(path, meta, shard)
        _read_jsonl(store.samples_file, repair=True)
        return store

    @classmethod
    def open_existing(cls, path: str | Path) -> SampleStore:
        path = Path(path)
        if not (path / "meta.json").exists():
            raise FileNotFoundError(f"{path} is not a sample store (no meta.json); run `rlvr eval --out {path}` first")
        return cls(path, json.loads((path / "meta.json").read_text()))

    def problems(self) -> list[dict]:
        return _read_jsonl(self.path / "problems.jsonl")

    def sample_files(self) -> list[Path]:
        return sorted(self.path.glob("samples*.jsonl"))

    def records(self) -> list[dict]:
        """Every stored sample across shard files, each (problem, sample) once, in a stable order."""
        seen: dict[tuple, dict] = {}
        for file in self.sample_files():
            for record in _read_jsonl(file):
                seen.setdefault((str(record["problem"]), int(record["sample"])), record)
        return [seen[key] for key in sorted(seen, key=lambda k: (k[0], k[1]))]

    def done(self) -> dict[str, set[int]]:
        """Sample indices already stored per problem (this shard's file and any others)."""
        out: dict[str, set[int]] = defaultdict(set)
        for record in self.records():
            out[str(record["problem"])].add(int(record["sample"]))
        return out

    def append(self, records: list[dict]) -> None:
        """Write one batch durably: a kill after this returns loses nothing of it."""
        if not records:
            return
        with self.samples_file.open("a") as f:
            f.write("".join(json.dumps({k: r.get(k) for k in RECORD_KEYS}) + "\n" for r in records))
            f.flush()
            os.fsync(f.fileno())

    def counts(self, label: str | None = None) -> Counts:
        order = [str(p["id"]) for p in self.problems()]
        n: dict[str, int] = defaultdict(int)
        c: dict[str, int] = defaultdict(int)
        for record in self.records():
            pid = str(record["problem"])
            n[pid] += 1
            c[pid] += bool(record["correct"])
        present = [p for p in order if n[p] > 0]
        return Counts(label or self.meta.get("label") or self.path.name, present,
                      np.array([n[p] for p in present]), np.array([c[p] for p in present]), str(self.path))

    def write_results(self) -> dict:
        counts = self.counts()
        curve = mean_pass_at_k(counts.n, counts.correct)
        results = {
            "problems": {p: {"n": int(n), "correct": int(c)} for p, n, c in zip(counts.problems, counts.n, counts.correct)},
            "pass_at_k": {str(k): float(curve[k - 1]) for k in range(1, len(curve) + 1)},
            "summary": {f"pass@{k}": float(curve[k - 1]) for k in log2_ks(len(curve))},
        }
        tmp = self.path / "results.json.tmp"
        tmp.write_text(json.dumps(results, indent=2))
        os.replace(tmp, self.path / "results.json")
        return results
