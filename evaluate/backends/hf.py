"""transformers `generate` backend: many problems' samples packed into one call, left padding, a seed per sample."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator

import torch

from rlvr.evaluate.backends.base import Generation, SamplingSettings
from rlvr.evaluate.plan import Request


def cpu_has_bf16() -> bool:
    """Whether oneDNN has bfloat16 kernels for this CPU (avx512_bf16 or AMX)."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


class HFBackend:
    name = "hf"

    def __init__(self, model: str, dtype: str = "auto", device: str | None = None) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        if self.device == "cpu":
            from rlvr.threads import fix_cpu_threads

            fix_cpu_threads()
        self.tokenizer = AutoTokenizer.from_pretrained(model)
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        torch_dtype = {
            "auto": "auto",
            "bf16": torch.bfloat16,
            "bfloat16": torch.bfloat16,
            "fp16": torch.float16,
            "float16": torch.float16,
            "fp32": torch.float32,
            "float32": torch.float32,
        }[dtype]
        if torch_dtype == "auto" and self.device == "cpu":
            torch_dtype = torch.float32  # bf16 samples differ from fp32 ones (docs/benchmarks.md); opt in
        if torch_dtype == torch.bfloat16 and self.device == "cpu" and not cpu_has_bf16():
            print(
                "rlvr: this CPU has no native bfloat16 (avx512_bf16 or AMX): bf16 runs emulated, slower than "
                "fp32; --dtype fp32 is faster here",
                file=sys.stderr,
            )
        self.model = AutoModelForCausalLM.from_pretrained(model, dtype=torch_dtype).to(self.device).eval()
        eos = self.model.generation_config.eos_token_id
        self.eos_ids = set(
            eos if isinstance(eos, list) else [eos if eos is not None else self.tokenizer.eos_token_id]
        )
        self.row_limit: int | None = None  # lowered when a call runs out of memory
        from rlvr.evaluate import pruned_decode

        # on a CPU a step costs per row: finished rows leave the batch (pruned_decode); on a GPU packed generate
        self.prune_finished = self.device == "cpu" and pruned_decode.supports(self.model)

    def samples_per_call(self, prompt_tokens: int, max_tokens: int) -> int:
        """`--samples-per-call auto`: what the free GPU memory holds (call_size), a fixed size on a CPU."""
        from rlvr.evaluate import call_size

        if not self.device.startswith("cuda"):
            return call_size.CPU_SAMPLES_PER_CALL
        free, _ = torch.cuda.mem_get_info(torch.device(self.device))
        dtype_bytes = torch.finfo(self.model.dtype).bits // 8
        per_sequence = call_size.bytes_per_sequence(self.model.config, dtype_bytes, prompt_tokens, max_tokens)
        return call_size.fit_samples_per_call(
            free, per_sequence, self.model.config.get_text_config().vocab_size
        )

    def stream(
        self, calls: Iterable[list[Request]], settings: SamplingSettings, chunk_size: int | None = None
    ) -> Iterator[list[tuple[Request, list[Generation]]]]:
        """Each call's results as soon as it is generated (an empty call, from a planner waiting on grades,
        is passed over)."""
        for call in calls:
            if call:
                yield list(zip(call, self.generate(call, settings)))

    def generate(self, requests: list[Request], settings: SamplingSettings) -> list[list[Generation]]:
        """One Generation per sample of each request; rows are split only if a call runs out of memory."""
        rows = [(r.prompt, seed) for r in requests for seed in r.seeds]
        generations: list[Generation] = []
        while len(generations) < len(rows):
            size = min(len(rows) - len(generations), self.row_limit or len(rows))
            try:
                generations += self._generate_rows(rows[len(generations) : len(generations) + size], settings)
            except torch.OutOfMemoryError:
                if size == 1:
                    raise
                self.row_limit = max(1, size // 2)
                if self.device.startswith("cuda"):
                    torch.cuda.empty_cache()
                print(
                    f"rlvr: out of memory at {size} sequences per call; retrying at {self.row_limit} "
                    "(each sample keeps its seed)",
                    file=sys.stderr,
                )
        grouped, start = [], 0
        for request in requests:
            grouped.append(generations[start : start + len(request.seeds)])
            start += len(request.seeds)
        return grouped

    @torch.no_grad()
    def _generate_rows(self, rows: list[tuple[str, int]], settings: SamplingSettings) -> list[Generation]:
        from transformers import LogitsProcessorList, StoppingCriteriaList

        from rlvr.evaluate.pruned_decode import sample_pruned
        from rlvr.evaluate.seeded_sampling import SeededSampler
        from rlvr.evaluate.stop_strings import RowsEnded, StopScanner, prompt_suffix

        batch = self.tokenizer(
            [p for p, _ in rows], return_tensors="pt", padding=True, add_special_tokens=False
        ).to(self.device)
        prompt_length = batch["input_ids"].shape[1]
        seeds = [s for _, s in rows]
        found: dict[tuple[int, ...], list[int]] = {}  # a call repeats its prompts: each suffix found once
        suffixes = []
        for ids, mask in zip(batch["input_ids"].tolist(), batch["attention_mask"].tolist()):
            prompt = tuple(t for t, m in zip(ids, mask) if m)
            if prompt not in found:
                found[prompt] = prompt_suffix(self.tokenizer, list(prompt))
            suffixes.append(found[prompt])
        scanner = StopScanner(self.tokenizer, settings.stop, suffixes) if settings.stop else None
        limits = {"top_k": settings.top_k, "min_p": settings.min_p}
        if self.prune_finished:
            new_tokens = sample_pruned(
                self.model,
                batch["input_ids"],
                batch["attention_mask"],
                seeds,
                settings.max_tokens,
                self.eos_ids,
                settings.temperature,
                settings.top_p,
                **limits,
                ends=scanner.step if scanner else None,
            )
        else:
            sampler = (
                [SeededSampler(seeds, prompt_length, settings.temperature, settings.top_p, **limits)]
                if settings.temperature > 0
                else []
            )
            out = self.model.generate(
                **batch,
                do_sample=False,
                temperature=None,
                top_p=None,
                top_k=None,
                logits_processor=LogitsProcessorList(sampler),
                stopping_criteria=StoppingCriteriaList([RowsEnded(scanner, self.eos_ids)] if scanner else []),
                max_new_tokens=settings.max_tokens,
                pad_token_id=self.tokenizer.pad_token_id,
            )
            new_tokens = out[:, prompt_length:].tolist()
        return [self._generation(i, row, scanner, suffixes[i]) for i, row in enumerate(new_tokens)]

    def _generation(self, i: int, row: list[int], scanner, suffix: list[int]) -> Generation:
        """Row i's tokens up to its end of sequence or stop string (whichever came first) as a Generation: its
        text as it follows the prompt (vLLM's), a stopped row's the scanner's, cut where vLLM cuts it
        (evaluate/stop_strings.py)."""
        from rlvr.evaluate.stop_strings import generated_text

        length = next((j + 1 for j, t in enumerate(row) if t in self.eos_ids), None)
        ended = scanner.ended.get(i) if scanner else None
        if ended is not None and (length is None or ended < length):
            return Generation(scanner.cut[i], ended, "stop")
        kept = row[:length] if length is not None else row
        text = generated_text(self.tokenizer, suffix, kept)
        return Generation(text, len(kept), "stop" if length is not None else "length")
