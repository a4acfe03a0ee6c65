"""Backend selection and the vLLM request mapping, testable without vLLM installed."""

from __future__ import annotations

import importlib.util

import pytest

from rlvr.evaluate.backends import SamplingSettings, resolve_backend_name
from rlvr.evaluate.backends.vllm import sampling_params_kwargs
from rlvr.evaluate.runner import call_seed, plan_calls


def test_auto_falls_back_to_hf_without_vllm_or_gpu():
    import torch

    expected = "vllm" if importlib.util.find_spec("vllm") and torch.cuda.is_available() else "hf"
    assert resolve_backend_name("auto") == expected
    with pytest.raises(ValueError, match="unknown backend"):
        resolve_backend_name("vlm")


def test_vllm_request_carries_every_setting():
    kwargs = sampling_params_kwargs(64, SamplingSettings(n=256, temperature=0.6, top_p=0.95, max_tokens=4096), seed=11)
    assert kwargs == {"n": 64, "temperature": 0.6, "top_p": 0.95, "max_tokens": 4096, "seed": 11}


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vLLM is installed here")
def test_vllm_backend_without_vllm_says_how_to_install():
    from rlvr.evaluate.backends.vllm import VLLMBackend

    with pytest.raises(ValueError, match=r"rlvr\[vllm\]"):
        VLLMBackend("some/model")


def test_plan_packs_problems_and_splits_large_n():
    calls = plan_calls(["a", "b", "c"], n=4, per_call=8)
    assert calls == [[("a", 0, 4), ("b", 0, 4)], [("c", 0, 4)]]
    calls = plan_calls(["a"], n=10, per_call=4)
    assert calls == [[("a", 0, 4)], [("a", 4, 4)], [("a", 8, 2)]]
    assert call_seed(0, 1) != call_seed(0, 2) and call_seed(3, 1) == call_seed(3, 1)
