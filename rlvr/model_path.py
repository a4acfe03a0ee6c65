"""Is a model path loadable? Said in one line before anything heavy is imported or loaded."""

from __future__ import annotations

import os
import re

_HUB_ID_RE = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def looks_like_hub_id(name: str) -> bool:
    """`org/name`, as Hub model and dataset ids are written (a local path can look the same: check it first)."""
    return bool(_HUB_ID_RE.match(name))


def model_path_problem(path: str, revision: str | None = None) -> str | None:
    """Why `path` cannot be a model (a local directory, a GGUF file, or a Hub id: offline, a cached one), or None."""
    from rlvr.models import is_gguf, smollm2_path

    if is_gguf(path):
        if path == "smollm2":
            try:
                smollm2_path()
            except FileNotFoundError as exc:
                return str(exc)
            return None
        return None if os.path.isfile(path) else f"{path}: no such GGUF file"
    if os.path.isdir(path):
        if not os.path.exists(os.path.join(path, "config.json")):
            return (
                f"{path} is a directory without config.json; point it at a saved model "
                f"(save_pretrained's output, or `rlvr convert` of a GGUF file)"
            )
        return None
    if not looks_like_hub_id(path):
        return f"{path}: no such directory (and not a Hub id like Qwen/Qwen2.5-Math-1.5B)"
    if os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false", "False"):
        from huggingface_hub import try_to_load_from_cache

        if not isinstance(try_to_load_from_cache(path, "config.json", revision=revision), str):
            return (
                f"{path}: no such directory, and HF_HUB_OFFLINE is set but the Hub id is not in the local cache; "
                f"download it first or give a local path"
            )
    return None
