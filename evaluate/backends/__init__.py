"""Sampling backends behind one interface: `generate(prompts, counts, settings, seed)`."""

from __future__ import annotations

import importlib.util

from rlvr.evaluate.backends.base import Generation, SamplingSettings

BACKENDS = ("auto", "vllm", "hf")


def resolve_backend_name(name: str) -> str:
    """`auto` means vLLM when it imports and a GPU is present, else transformers."""
    if name not in BACKENDS:
        raise ValueError(f"unknown backend {name!r}; choose one of {BACKENDS}")
    if name != "auto":
        return name
    import torch

    return "vllm" if importlib.util.find_spec("vllm") is not None and torch.cuda.is_available() else "hf"


def make_backend(name: str, model: str, dtype: str = "auto", **kwargs):
    """`kwargs` are vLLM's options (tensor_parallel_size, gpu_memory_utilization, max_model_len); the hf
    backend takes none, and `rlvr eval` refuses non-default ones for it before anything loads."""
    name = resolve_backend_name(name)
    if name == "vllm":
        from rlvr.evaluate.backends.vllm import VLLMBackend

        return VLLMBackend(model, dtype, **kwargs)
    from rlvr.evaluate.backends.hf import HFBackend

    return HFBackend(model, dtype)


__all__ = ["BACKENDS", "Generation", "SamplingSettings", "make_backend", "resolve_backend_name"]
