"""The sample store: one directory per model x dataset x sampling settings.

meta.json      what produced it (model, dataset, template, sampling settings, seed, grader, versions, and a
               hash of the problems it was made for)
problems.jsonl the problems with their prompts and what the grader reads (so `regrade` needs no dataset)
samples*.jsonl one line per sample; append-only, flushed and fsynced per batch; one file per shard
results.json   per problem n and correct, and the pass@k curve; written only once every sample is in

Damage is repaired on reopen, never deleted: a torn last line (a killed writer) and any unreadable line
(a flipped byte, a bad block, a hand edit, NUL bytes) move to `samples*.jsonl.unreadable`, and rerunning
the same command redoes only the samples they held, with the same per-call seeds. One writer per samples
file at a time (a lock); a store knows its problems by content, so an edited data file is refused.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import sys
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from rlvr.evaluate.counts import Counts, preview
from rlvr.evaluate.passk import log2_ks
from rlvr.evaluate.sequential import StopRule, graded_by_problem, stop_point

# Settings that must match for a rerun to resume into an existing store. The data is known by its content
# (problems_sha256), not by its name or path: the same file by another path resumes, an edited one is refused.
# samples_per_call is not one: each sample has its own seed, so a resume may pack calls differently.
IDENTITY_KEYS = (
    "model",
    "split",
    "template",
    "chat",
    "n",
    "temperature",
    "top_p",
    "max_tokens",
    "seed",
    "sample_seeds",
    "limit",
    "grader",
    "dtype",  # bf16 and fp32 are different models' samples (docs/benchmarks.md): a store holds one
)
# Compared like IDENTITY_KEYS, but only where the stored meta.json has them (stores made before they were
# recorded resume as before).
# sampled_dtype is what `--dtype auto` became on the machine that sampled (fp32 on a CPU, the checkpoint's own
# on a GPU): one store holds one precision's samples.
# served_model: the name a server reported for the model (--backend openai): such a store resumes only through a
# server of the same model, and api (completions or chat) only with the same kind of request; served_root, the
# path a server reported loading the model from (vLLM's `root`: any checkpoint can be served under one name), and
# server_version (a server of another version samples a seed differently) likewise.
# model_weights_sha256: a hash of the weight files' bytes (rlvr.model_identity), so that a checkpoint overwritten in
# place is not resumed into its old samples; model_revision: the Hub revision pinned.
OPTIONAL_IDENTITY_KEYS = (
    "sampled_dtype",
    "served_model",
    "served_root",
    "server_version",
    "api",
    "model_weights_sha256",
    "model_revision",
)
SERVER_KEYS = ("served_model", "served_root", "server_version")
SERVER_FIX = "resume through servers of the same model, path and version (GET /v1/models and /version)"
# Sampling settings recorded since top-k, min-p and stop strings came in: a store made before sampled with them
# off, so a key it lacks reads as that default (it resumes at the defaults and is refused at any other value).
SETTING_DEFAULTS = {"top_k": 0, "min_p": 0.0, "stop": []}
# The sequential rule (--stop-at-correct, --min-samples): a store without them is uniform (None), so they are
# compared with that default.
RULE_KEYS = ("stop_at_correct", "min_samples")
SAMPLING_KEYS = (
    "n",
    "temperature",
    "top_p",
    *SETTING_DEFAULTS,
    "max_tokens",
    "seed",
    "sample_seeds",
    *RULE_KEYS,
)
# results.json 2 adds the sequential rule and each problem's stop; meta.json's store_version 2 marks a store
# whose counts follow a rule (an older rlvr would count every stored sample: it must not read one).
RESULTS_SCHEMA_VERSION = 2
STORE_VERSION = 2
RECORD_KEYS = ("problem", "sample", "text", "extracted", "verdict", "correct", "tokens", "finish_reason")


def setting(meta: dict, key: str):
    """A sampling setting of a store's meta.json; one recorded only lately reads as its default where absent.
    A stop string given twice is one (the first of a stop string's places decides the cut, as in vLLM)."""
    value = meta.get(key, SETTING_DEFAULTS.get(key))
    if key == "stop" and value is not None:
        return list(dict.fromkeys(value))
    return list(value) if isinstance(value, tuple) else value


def problems_sha256(problems: list[dict]) -> str:
    """A hash of the problems as stored: ids, prompts, and what the grader reads."""
    digest = hashlib.sha256()
    for row in problems:
        digest.update(json.dumps(row, sort_keys=True).encode() + b"\n")
    return digest.hexdigest()


def _parse_line(line: bytes) -> dict | None:
    """A sample record, or None when the line is unreadable."""
    if b"\x00" in line:
        return None
    try:
        record = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None
    if not isinstance(record, dict) or set(record) != set(RECORD_KEYS):
        return None  # a hand edit or a flipped byte in a key
    if not isinstance(record["problem"], (str, int)) or type(record["sample"]) is not int:
        return None
    if not isinstance(record["correct"], bool) or not isinstance(record["text"], str):
        return None
    return record


def _scan(path: Path, plan: tuple[set[str], int | None] | None = None) -> tuple[list[dict], list[bytes]]:
    """(readable records, lines set aside: unreadable ones, a torn last line, and, given the plan (problem
    ids, n), records of an unknown problem or a sample index outside 0..n-1)."""
    if not path.exists():
        return [], []
    data = path.read_bytes()
    good_end = data.rfind(b"\n") + 1
    records, bad = [], []
    for line in data[:good_end].split(b"\n"):
        if not line.strip():
            continue
        record = _parse_line(line)
        if record is None or (plan is not None and not _in_plan(record, plan)):
            bad.append(line)
        else:
            records.append(record)
    if good_end != len(data):
        bad.append(data[good_end:])
    return records, bad


def _in_plan(record: dict, plan: tuple[set[str], int | None]) -> bool:
    problems, n = plan
    sample = record["sample"]
    return str(record["problem"]) in problems and sample >= 0 and (n is None or sample < n)


def _repair(path: Path, plan: tuple[set[str], int | None] | None = None) -> int:
    """Move the lines `_scan` sets aside to PATH.unreadable (appended, fsynced) and keep the rest; the count."""
    records, bad = _scan(path, plan)
    if not bad:
        return 0
    side = path.with_name(path.name + ".unreadable")
    with side.open("ab") as f:
        f.write(b"".join(line.rstrip(b"\n") + b"\n" for line in bad))
        f.flush()
        os.fsync(f.fileno())
    _write_atomic(path, "".join(json.dumps(r) + "\n" for r in records))
    return len(bad)


def _problem_changes(old: list[dict], new: list[dict]) -> str:
    new = json.loads(json.dumps(new))  # as stored: tuples are lists
    old_by_id = {str(p["id"]): p for p in old}
    new_by_id = {str(p["id"]): p for p in new}
    added = [p for p in new_by_id if p not in old_by_id]
    removed = [p for p in old_by_id if p not in new_by_id]
    changed = [
        f"{p} ({', '.join(k for k in sorted(set(old_by_id[p]) | set(new_by_id[p])) if old_by_id[p].get(k) != new_by_id[p].get(k))})"
        for p in new_by_id
        if p in old_by_id and old_by_id[p] != new_by_id[p]
    ]
    parts = []
    for name, ids in (("added", added), ("removed", removed), ("changed", changed)):
        if ids:
            parts.append(f"{len(ids)} {name}: {preview(ids)}")
    if not parts and [str(p["id"]) for p in old] != [str(p["id"]) for p in new]:
        parts.append("the same problems in another order")
    return "; ".join(parts)


class SampleStore:
    def __init__(self, path: str | Path, meta: dict, shard: tuple[int, int] | None = None) -> None:
        self.path = Path(path)
        self.meta = meta
        self.shard = shard
        name = "samples.jsonl" if shard is None else f"samples.shard-{shard[0]}-of-{shard[1]}.jsonl"
        self.samples_file = self.path / name
        self._lock = None
        self._problems: list[dict] | None = None

    @classmethod
    def create_or_resume(
        cls, path: str | Path, meta: dict, problems: list[dict], shard: tuple[int, int] | None = None
    ) -> SampleStore:
        """Open the store for writing; an existing one must have been made with the same settings and problems."""
        path = Path(path)
        if path.exists() and not path.is_dir():
            raise ValueError(f"--out {path} is a file, not a sample store directory; choose another --out")
        path.mkdir(parents=True, exist_ok=True)
        # checked and written as one step under meta.json.lock: shards of an array job start together
        with _meta_lock(path):
            meta = {**meta, "problems_sha256": problems_sha256(problems)}
            meta_file = path / "meta.json"
            problems_file = path / "problems.jsonl"
            if not meta_file.exists() and (
                problems_file.exists() or any(f.stat().st_size for f in _sample_files(path))
            ):
                # meta.json is written first, so no kill leaves this: without it nothing says what the samples are
                raise ValueError(
                    f"{path} holds samples or problems but no meta.json, so nothing says what made them; "
                    f"restore {meta_file}, or choose another --out"
                )
            if meta_file.exists():
                old = _read_meta(meta_file)
                for key in RULE_KEYS:
                    if old.get(key) != meta.get(key):
                        raise ValueError(
                            f"{path} holds a sample store made with {_rule_text(old)}, not {_rule_text(meta)}; rerun "
                            f"with the same --stop-at-correct and --min-samples to resume, or choose another --out"
                        )
                compared = (
                    IDENTITY_KEYS
                    + tuple(k for k in OPTIONAL_IDENTITY_KEYS if k in old)
                    + tuple(SETTING_DEFAULTS)
                )
                for key in compared:
                    if key == "sample_seeds" and old.get(key) is None:
                        raise ValueError(
                            f"{path} was made by an older rlvr that seeded whole generate calls; its samples cannot be "
                            f"continued with per-sample seeds: finish it with that version, or choose another --out"
                        )
                    if setting(old, key) != setting(meta, key):
                        fix = SERVER_FIX if key in SERVER_KEYS else "rerun with the same settings to resume"
                        raise ValueError(
                            f"{path} holds a sample store made with {key}={setting(old, key)!r}, not "
                            f"{setting(meta, key)!r}; {fix}, or choose another --out"
                        )
                if "served_model" in old and old.get("sent_when_off", []) != meta.get("sent_when_off", []):
                    # a vLLM server not sent top_k/min_p sampled with the model's generation_config.json defaults
                    raise ValueError(
                        f"{path} holds samples from a server sent {old.get('sent_when_off') or 'no'} sampling settings "
                        f"when off (an older rlvr, or a server other than vLLM), not {meta.get('sent_when_off') or 'none'}"
                        f": vLLM fills one left out from the model's generation_config.json, so the samples would mix "
                        f"two distributions; finish it with the rlvr that made it, or choose another --out"
                    )
                if old["problems_sha256"] != meta["problems_sha256"]:
                    changes = (
                        _problem_changes(_read_problems(problems_file), problems)
                        if problems_file.exists()
                        else ""
                    )
                    raise ValueError(
                        f"the problems differ from those the store {path} was made for"
                        f"{f' ({changes})' if changes else ''}; to evaluate them, choose another --out "
                        f"(or delete {path} to start over)"
                    )
            else:
                if meta.get("stop_at_correct") is not None:
                    meta["store_version"] = STORE_VERSION
                _write_atomic(meta_file, json.dumps(meta, indent=2))
            stored = _checked_problems(problems_file, meta) if problems_file.exists() else None
            if stored is None:
                _write_atomic(problems_file, "".join(json.dumps(p) + "\n" for p in problems))
        store = cls(path, meta, shard)
        store._problems = stored  # read and checked once (None: read back when first needed)
        store._acquire_lock()
        moved = _repair(store.samples_file, store.plan())
        if moved:
            print(
                f"rlvr: {moved} unreadable or unplanned line(s) of {store.samples_file} set aside in "
                f"{store.samples_file.name}.unreadable; their samples are redone",
                file=sys.stderr,
            )
        return store

    def _acquire_lock(self) -> None:
        """One writer per samples file: a second `rlvr eval` on the same store and shard is refused."""
        lock_file = self.samples_file.with_name(self.samples_file.name + ".lock")
        handle = lock_file.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise ValueError(
                f"{self.samples_file} is being written by {holder}; wait for it to finish (rerunning then resumes), "
                f"or choose another --out"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"rlvr eval (pid {os.getpid()})")
        handle.flush()
        self._lock = handle

    def note(self, key: str, value) -> None:
        """Record in meta.json something learnt while sampling (a server that ignores seeds). A flag once
        true stays true: part of the store was sampled under it. Shards share meta.json and start together
        (a SLURM array): the read and the write are one step under a lock, so no shard's note is lost."""
        meta_file = self.path / "meta.json"
        with _meta_lock(self.path):
            meta = _read_meta(meta_file)
            if meta.get(key) is True or meta.get(key) == value:
                return
            meta[key] = value
            self.meta[key] = value
            _write_atomic(meta_file, json.dumps(meta, indent=2))

    def close(self) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    @classmethod
    def open_existing(cls, path: str | Path) -> SampleStore:
        path = Path(path)
        if not (path / "meta.json").exists():
            raise FileNotFoundError(
                f"{path} is not a sample store (no meta.json); run `rlvr eval --out {path}` first"
            )
        return cls(path, _read_meta(path / "meta.json"))

    def problems(self) -> list[dict]:
        """The stored problems, refused unless they are those meta.json was made for."""
        if self._problems is None:
            self._problems = _checked_problems(self.path / "problems.jsonl", self.meta)
        return self._problems

    def sample_files(self) -> list[Path]:
        return _sample_files(self.path)

    @property
    def rule(self) -> StopRule | None:
        """The sequential rule the store was sampled under (--stop-at-correct), or None for uniform n."""
        return StopRule.from_meta(self.meta)

    def stops(self, records: list[dict] | None = None) -> dict[str, tuple[int, int] | None]:
        """Under a rule: problem -> (T, c), the samples its estimate counts and the correct among them, or None
        while the rule has not closed it."""
        flags = graded_by_problem(self.records() if records is None else records)
        return {str(p["id"]): stop_point(flags.get(str(p["id"]), {}), self.rule) for p in self.problems()}

    def plan(self) -> tuple[set[str], int | None]:
        """What the store is meant to hold: its problems' ids, and samples 0..n-1 of each (any index >= 0
        when meta.json names no n)."""
        n = self.meta.get("n")
        return {str(p["id"]) for p in self.problems()}, int(n) if n else None

    def records(self) -> list[dict]:
        """Every readable sample of the plan across shard files, each (problem, sample) once, in a stable
        order; a record of an unknown problem or past n is passed over like an unreadable line."""
        plan = self.plan()
        seen: dict[tuple, dict] = {}
        for file in self.sample_files():
            for record in _scan(file, plan)[0]:
                seen.setdefault((str(record["problem"]), int(record["sample"])), record)
        return [seen[key] for key in sorted(seen, key=lambda k: (k[0], k[1]))]

    def done(self, records: list[dict] | None = None) -> dict[str, set[int]]:
        """Sample indices already stored per problem (this shard's file and any others)."""
        out: dict[str, set[int]] = defaultdict(set)
        for record in self.records() if records is None else records:
            out[str(record["problem"])].add(int(record["sample"]))
        return out

    def missing(self, records: list[dict] | None = None) -> dict[str, int]:
        """Samples still to be drawn per problem (only problems with any missing), from meta's n. Pass
        `records` already read to spare reading the store again."""
        n = int(self.meta.get("n") or 0)
        if self.rule is not None:  # an open problem lacks at least the samples from its first gap to n_max
            done = self.done(records)
            return {
                pid: n - _prefix_length(done.get(pid, set()))
                for pid, stop in self.stops(records).items()
                if stop is None
            }
        done = self.done(records)
        out = {}
        for problem in self.problems():
            pid = str(problem["id"])
            have = sum(1 for s in done.get(pid, ()) if 0 <= s < n)
            if have < n:
                out[pid] = n - have
        return out

    def check_complete(
        self, records: list[dict] | None = None, allow_partial: bool = False
    ) -> dict[str, int]:
        """The one completeness check of every reader that reports on the whole store (compare, regrade,
        results.json): an unfinished store is refused naming what is missing, unless `allow_partial`.
        Returns the samples missing per problem."""
        missing = self.missing(records)
        if missing and not allow_partial and self.rule is not None:
            raise ValueError(
                f"{self.path} is unfinished: {len(missing)} problems not yet closed by --stop-at-correct "
                f"{self.rule.m} (e.g. {next(iter(missing))}); finish it by rerunning its `rlvr eval` command, "
                f"or pass --allow-partial"
            )
        if missing and not allow_partial:
            raise ValueError(
                f"{self.path} is unfinished: {sum(missing.values())} samples missing over {len(missing)} problems "
                f"(e.g. {next(iter(missing))}); finish it by rerunning its `rlvr eval` command, or pass --allow-partial"
            )
        return missing

    def append(self, records: list[dict]) -> None:
        """Write one batch durably: a kill after this returns loses nothing of it."""
        if not records:
            return
        try:
            with self.samples_file.open("a") as f:
                f.write("".join(json.dumps({k: r.get(k) for k in RECORD_KEYS}) + "\n" for r in records))
                f.flush()
                os.fsync(f.fileno())
        except OSError as exc:  # a full disk: name the file (a torn line it left is set aside on the rerun)
            raise OSError(exc.errno, exc.strerror, str(self.samples_file)) from None

    def counts(self, label: str | None = None, records: list[dict] | None = None) -> Counts:
        """Per-problem counts as every analysis reads them: all samples, or under a rule the (T, c) it
        stopped at (samples drawn past the stop are not counted; a problem still open counts its unbroken
        prefix and is marked open)."""
        records = self.records() if records is None else records
        if self.rule is not None:
            counts = self._rule_counts(label, records)
            counts.spend = self.spend(records)  # what a report says the rule drew
            return counts
        order = [str(p["id"]) for p in self.problems()]
        n: dict[str, int] = defaultdict(int)
        c: dict[str, int] = defaultdict(int)
        for record in self.records() if records is None else records:
            pid = str(record["problem"])
            n[pid] += 1
            c[pid] += bool(record["correct"])
        present = [p for p in order if n[p] > 0]
        return Counts(
            label or self.meta.get("label") or self.path.name,
            present,
            np.array([n[p] for p in present]),
            np.array([c[p] for p in present]),
            str(self.path),
        )

    def counted_records(self, records: list[dict] | None = None) -> list[dict]:
        """The samples the estimate counts: all of them, or under a rule each problem's first T (an open
        problem's unbroken prefix); samples drawn past a stop are left out."""
        records = self.records() if records is None else records
        if self.rule is None:
            return records
        counts = self._rule_counts(None, records)
        upto = dict(zip(counts.problems, counts.n.tolist()))
        return [r for r in records if int(r["sample"]) < upto.get(str(r["problem"]), 0)]

    def _rule_counts(self, label: str | None, records: list[dict]) -> Counts:
        flags = graded_by_problem(records)
        problems, n, c, still_open = [], [], [], []
        for problem in self.problems():
            pid = str(problem["id"])
            graded = flags.get(pid, {})
            stop = stop_point(graded, self.rule)
            is_open = stop is None
            if is_open:
                t = _prefix_length(set(graded))
                if t == 0:
                    continue
                stop = (t, sum(graded[i] for i in range(t)))
            problems.append(pid)
            n.append(stop[0])
            c.append(stop[1])
            still_open.append(is_open)
        return Counts(
            label or self.meta.get("label") or self.path.name,
            problems,
            np.array(n, dtype=np.int64),
            np.array(c, dtype=np.int64),
            str(self.path),
            self.rule,
            np.array(still_open, dtype=bool),
        )

    def spend(self, records: list[dict] | None = None) -> dict:
        """Samples and tokens drawn (every stored sample, counted or not) against what uniform n would cost
        (its tokens estimated at the drawn samples' mean length)."""
        records = self.records() if records is None else records
        n = int(self.meta["n"])
        problems = len(self.problems())
        drawn = len(records)
        tokens = sum(int(r.get("tokens") or 0) for r in records)
        uniform = n * problems
        return {
            "samples": drawn,
            "tokens": tokens,
            "uniform_samples": uniform,
            "uniform_tokens_estimate": round(tokens / drawn * uniform) if drawn else 0,
            "samples_saved_ratio": uniform / drawn if drawn else None,
        }

    def write_results(
        self, provenance: dict | None = None, records: list[dict] | None = None, allow_partial: bool = False
    ) -> dict:
        """results.json (schema in the README): what produced it, per-problem counts, mean pass@k for every k
        with a 95% bootstrap interval over problems (1000 resamples, seed 0), and coverage. Only for a complete
        store, unless `allow_partial`: then `unfinished` says how many samples the figures lack."""
        from rlvr.evaluate.stats import bootstrap_curve

        records = self.records() if records is None else records
        missing = self.check_complete(records, allow_partial)
        counts = self.counts(records=records)
        k_max = counts.k_limit
        interval = bootstrap_curve(counts, k_max, resamples=1000, seed=0)
        curve = interval.mean
        solved = int((counts.correct > 0).sum())
        results = {
            "schema_version": RESULTS_SCHEMA_VERSION,
            **(provenance or {}),
            "model": self.meta.get("model"),
            "model_path": self.meta.get("model_path"),
            "model_weights_sha256": self.meta.get("model_weights_sha256"),
            "dataset": self.meta.get("dataset") or self.meta.get("data_file"),
            "grader": self.meta.get("grader"),
            "sampling": {key: setting(self.meta, key) for key in SAMPLING_KEYS},
            "problems": {
                p: {"n": int(n), "correct": int(c)}
                for p, n, c in zip(counts.problems, counts.n, counts.correct)
            },
            "sequential": None if counts.rule is None else counts.rule.as_meta(),
            "spend": self.spend(records),
            "pass_at_k": {str(k): float(curve[k - 1]) for k in range(1, len(curve) + 1)},
            "pass_at_k_ci": {
                str(k): [float(interval.low[k - 1]), float(interval.high[k - 1])] for k in range(1, k_max + 1)
            },
            "summary": {f"pass@{k}": float(curve[k - 1]) for k in log2_ks(len(curve))},
            "coverage": {
                "solved": solved,
                "problems": len(counts.problems),
                "fraction": solved / len(counts.problems),
            },
        }
        if (server := _server_results(self.meta)) is not None:
            results["server"] = server
        floor = _chance_floor(self, records, counts.problems, k_max)
        if floor is not None:
            results["chance_floor"] = floor
        if missing:
            results["unfinished"] = {"missing_samples": sum(missing.values()), "problems": len(missing)}
        _write_atomic(self.path / "results.json", json.dumps(results, indent=2))
        return results


def read_results(path: str | Path) -> dict:
    """A results.json, refused in one line when its schema is newer than this rlvr reads."""
    path = Path(path)
    results = _read_json(path)
    version = results.get("schema_version") if isinstance(results, dict) else None
    if type(version) is not int or version > RESULTS_SCHEMA_VERSION:
        raise ValueError(
            f"{path} has schema_version {version!r}; this rlvr reads up to {RESULTS_SCHEMA_VERSION}: upgrade rlvr "
            f"(pip install -U rlvr) to read it"
        )
    return results


def _server_results(meta: dict) -> dict | None:
    """What results.json says of the servers that sampled (--backend openai), the seed checks' findings
    included: numbers from a server that ignores seeds must not travel without that mark. None in-process."""
    if meta.get("backend") != "openai":
        return None
    keys = ("served_model", "served_root", "server_version", "api", "server_ignores_seed", "servers_disagree")
    return {key: meta.get(key) for key in keys}


def _prefix_length(indices: set[int]) -> int:
    """How many samples from index 0 are stored without a gap."""
    t = 0
    while t in indices:
        t += 1
    return t


def _rule_text(meta: dict) -> str:
    m = meta.get("stop_at_correct")
    if m is None:
        return "uniform n (no --stop-at-correct)"
    return f"--stop-at-correct {m} --min-samples {meta.get('min_samples') or 0}"


def _chance_floor(store: SampleStore, records: list[dict], problems: list[str], k_max: int) -> dict | None:
    """results.json's `chance_floor`: mean pass@k by guessing from the model's own answers, k = 1..k_max
    (evaluate/chance_floor.py); None when the store's grader compares no answers (code)."""
    from rlvr.evaluate.chance_floor import floor_curve, store_guess_probabilities

    try:
        q = store_guess_probabilities(store, records)
    except Exception as exc:  # noqa: BLE001 - the counts matter more than the floor: results.json is written
        print(f"rlvr: {store.path}: no chance floor in results.json ({exc})", file=sys.stderr)
        return None
    if q is None:
        return None
    curve = floor_curve({p: q[p] for p in problems if p in q}, k_max)
    return {str(k): float(curve[k - 1]) for k in range(1, k_max + 1)}


@contextmanager
def _meta_lock(path: Path) -> Iterator[None]:
    """meta.json's readers-then-writers (a store's creation, a note) one at a time, across processes."""
    with (path / "meta.json.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _write_atomic(path: Path, text: str) -> None:
    """Write `path` whole or not at all. The temporary file's name is this writer's own: shards of an array job
    start together and write one meta.json, and a shared name let one rename the other's file away."""
    import secrets

    tmp = path.with_name(f"{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
    try:
        with tmp.open("w") as f:  # the umask's permissions, as any file the store writes
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(
            f"{path} is damaged ({exc}); the samples are intact: restore it, or start a new --out"
        ) from None


def _sample_files(path: Path) -> list[Path]:
    return sorted(path.glob("samples*.jsonl"))


def _read_meta(path: Path) -> dict:
    """meta.json, with what every reader relies on checked: a count n of samples per problem and the hash
    of the problems (without them an unfinished store would read as a finished one)."""
    meta = _read_json(path)
    if not isinstance(meta, dict):
        raise ValueError(f"{path} is not a JSON object; restore it, or start a new --out")
    version = meta.get("store_version", 1)
    if type(version) is not int or version > STORE_VERSION:
        raise ValueError(
            f"{path} is a sample store of format {version!r}, newer than this rlvr reads ({STORE_VERSION}); "
            f"upgrade rlvr (pip install -U rlvr) to read it"
        )
    if version == STORE_VERSION and meta.get("stop_at_correct") is None:
        raise ValueError(
            f"{path} marks a sequential store (store_version 2) but names no stop_at_correct, so nothing says which "
            f"samples count; restore it, or start a new --out"
        )
    n, digest = meta.get("n"), meta.get("problems_sha256")
    if type(n) is not int or n < 1 or not isinstance(digest, str):
        raise ValueError(
            f"{path} names n={n!r} and problems_sha256={digest!r}, not a whole number n >= 1 and the problems' "
            f"hash; restore it, or start a new --out"
        )
    return meta


def _checked_problems(path: Path, meta: dict) -> list[dict]:
    if not path.exists():
        raise ValueError(f"{path} is missing; restore it, or start a new --out")
    problems = _read_problems(path)
    if problems_sha256(problems) != meta["problems_sha256"]:
        raise ValueError(
            f"{path} is not the problems {path.parent / 'meta.json'} was made for (their hash differs); "
            f"restore it, or start a new --out"
        )
    for number, row in enumerate(problems, 1):
        if not isinstance(row, dict) or "id" not in row:
            raise ValueError(f"{path}: problem {number} has no id; restore the file, or start a new --out")
    return problems


def _read_problems(path: Path) -> list[dict]:
    records = []
    for number, line in enumerate(path.read_bytes().split(b"\n"), 1):
        if line.strip():
            try:
                records.append(json.loads(line))
            except (json.JSONDecodeError, UnicodeDecodeError):
                raise ValueError(
                    f"{path}: line {number} is damaged; restore the file, or start a new --out"
                ) from None
    return records
