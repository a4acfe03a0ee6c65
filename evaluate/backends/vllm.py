"""vLLM backend: `LLM.generate` with SamplingParams(n, temperature, top_p, max_tokens, seed).

Imported only when chosen, so rlvr works where vLLM can't be installed.
"""

from __future__ import annotations

from rlvr.evaluate.backends.base import Generation, SamplingSettings


def sampling_params_kwargs(count: int, settings: SamplingSettings, seed: int) -> dict:
    """Per-request sampling parameters; a seed per request keeps results independent of batching."""
    return {"n": count, "temperature": settings.temperature, "top_p": settings.top_p,
            "max_tokens": settings.max_tokens, "seed": seed}


class VLLMBackend:
    name = "vllm"

    def __init__(self, model: str, dtype: str = "auto", tensor_parallel_size: int = 1,
                 gpu_memory_utilization: float = 0.9, max_model_len: int | None = None) -> None:
        try:
            from vllm import LLM
        except ImportError as exc:
            raise ValueError("the vllm backend needs vLLM: pip install 'rlvr[vllm]' (GPU only), or use --backend hf") from exc
        self.llm = LLM(model=model, dtype=dtype, tensor_parallel_size=tensor_parallel_size,
                       gpu_memory_utilization=gpu_memory_utilization, enable_prefix_caching=True,
                       max_model_len=max_model_len)

    def generate(self, prompts: list[str], counts: list[int], settings: SamplingSettings, seed: int) -> list[list[Generation]]:
        from vllm import SamplingParams

        params = [SamplingParams(**sampling_params_kwargs(c, settings, seed + i)) for i, c in enumerate(counts)]
        outputs = self.llm.generate(prompts, params, use_tqdm=False)
        return [[Generation(o.text, len(o.token_ids), "length" if o.finish_reason == "length" else "stop")
                 for o in request.outputs] for request in outputs]
