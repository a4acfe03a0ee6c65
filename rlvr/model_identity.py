"""What a model is, beyond the name typed for it: its local directory (a Hub id's snapshot at a pinned revision)
and a hash of its weights' bytes.

A sample store records both, so a checkpoint overwritten in place (same path, other weights) is not resumed into
the store its old weights began. The hash is sha256 over each weight file's own sha256 and name; a Hub snapshot's
files are content-addressed already (the blob's name is its sha256), and other large files are hashed once per
(path, size, mtime) and cached.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

WEIGHT_PATTERNS = (
    "*.safetensors",
    "*.bin",
    "*.pt",
    "*.pth",
)  # the first that matches any file is the weights
# What a Hub snapshot need not fetch: other frameworks' copies of the weights
HUB_IGNORE = ["*.onnx", "onnx/*", "*.msgpack", "*.h5", "*.ot", "*.gguf", "original/*", "*.tflite"]
CACHE_FROM_BYTES = 64 << 20  # files at least this large have their hash cached
_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


def local_model_dir(model_dir: str, revision: str | None = None) -> str:
    """The absolute directory a model loads from: a local one as is; a Hub id's snapshot at `revision` (a branch,
    tag or commit; the default branch when None), downloaded when missing and taken from the cache offline."""
    if os.path.isdir(model_dir):
        if revision:
            raise ValueError(
                f"--model-revision {revision} applies to Hub ids, but {model_dir} is a local directory; drop it"
            )
        return os.path.abspath(model_dir)
    from huggingface_hub import constants, snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError, RevisionNotFoundError

    try:  # offline, the cache alone (a commit hash would otherwise still list the repository's files)
        return snapshot_download(
            model_dir,
            revision=revision,
            ignore_patterns=HUB_IGNORE,
            local_files_only=constants.HF_HUB_OFFLINE,
        )
    except RevisionNotFoundError:
        raise ValueError(
            f"--model-revision {revision}: {model_dir} has no such branch, tag or commit"
        ) from None
    except LocalEntryNotFoundError:
        at = f" at revision {revision}" if revision else ""
        raise ValueError(
            f"--model {model_dir}{at} is not in the local Hub cache and the Hub cannot be reached; "
            f"download it first (rlvr fetch) or give a local path"
        ) from None


def weight_files(directory: str | Path) -> list[Path]:
    """The weight files of a saved model: its safetensors, else its PyTorch files."""
    for pattern in WEIGHT_PATTERNS:
        files = sorted(Path(directory).glob(pattern))
        if files:
            return files
    return []


def weights_sha256(directory: str | Path) -> str | None:
    """sha256 over "name<TAB>sha256 of the file<LF>" for each weight file in name order; None without weights."""
    files = weight_files(directory)
    if not files:
        return None
    digest = hashlib.sha256()
    for file in files:
        digest.update(f"{file.name}\t{file_sha256_cached(file)}\n".encode())
    return digest.hexdigest()


def file_sha256_cached(file: Path) -> str:
    real = file.resolve()
    if real.parent.name == "blobs" and _SHA256_HEX.match(real.name):  # a Hub cache blob, named by its sha256
        return real.name
    stat = real.stat()
    if stat.st_size < CACHE_FROM_BYTES:
        return _sha256(real)
    from rlvr.models import cache_dir

    cache_file = cache_dir() / "weights-sha256.json"
    key = f"{real}:{stat.st_size}:{stat.st_mtime_ns}"
    try:
        cache = json.loads(cache_file.read_text())
    except (OSError, ValueError):
        cache = {}
    if not isinstance(cache, dict):
        cache = {}
    if key not in cache:
        cache[key] = _sha256(real)
        try:
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache_file.with_name(f"{cache_file.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps(cache, indent=1))
            os.replace(tmp, cache_file)
        except OSError:
            pass  # a read-only cache only costs the next run the hashing
    return cache[key]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


def check_same_weights(out: str | Path, weights: str | None) -> None:
    """Refuse to resume a store that was sampled from other weights (a checkpoint overwritten in place). A store
    made before the hash was recorded, or an unreadable meta.json (the store itself says what is wrong), passes."""
    meta_file = Path(out) / "meta.json"
    try:
        stored = json.loads(meta_file.read_text()).get("model_weights_sha256")
    except (OSError, ValueError, AttributeError):
        return
    if stored and stored != weights:
        raise ValueError(
            f"{out} was sampled from other weights than the model's now (sha256 {stored[:12]}… then, "
            f"{(weights or 'none')[:12]}… now: a checkpoint overwritten in place?); choose another --out"
        )
