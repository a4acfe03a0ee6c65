"""transformers `generate` backend: many problems' samples packed into one call, left padding."""

from __future__ import annotations

import torch

from rlvr.evaluate.backends.base import Generation, SamplingSettings


class HFBackend:
    name = "hf"

    def __init__(self, model: str, dtype: str = "auto", device: str | None = None) -> None:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        if self.device == "cpu":
            from rlvr.threads import use_free_cores

            use_free_cores()
        self.tokenizer = AutoTokenizer.from_pretrained(model)
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        torch_dtype = {"auto": "auto", "bf16": torch.bfloat16, "bfloat16": torch.bfloat16, "fp16": torch.float16,
                       "float16": torch.float16, "fp32": torch.float32, "float32": torch.float32}[dtype]
        if torch_dtype == "auto" and self.device == "cpu":
            torch_dtype = torch.float32
        self.model = AutoModelForCausalLM.from_pretrained(model, dtype=torch_dtype).to(self.device).eval()
        eos = self.model.generation_config.eos_token_id
        self.eos_ids = set(eos if isinstance(eos, list) else [eos if eos is not None else self.tokenizer.eos_token_id])

    @torch.no_grad()
    def generate(self, prompts: list[str], counts: list[int], settings: SamplingSettings, seed: int) -> list[list[Generation]]:
        """counts[i] samples of prompts[i], all in one `generate` call seeded with `seed`."""
        expanded = [p for p, c in zip(prompts, counts) for _ in range(c)]
        batch = self.tokenizer(expanded, return_tensors="pt", padding=True, add_special_tokens=False).to(self.device)
        torch.manual_seed(seed)
        if self.device.startswith("cuda"):
            torch.cuda.manual_seed_all(seed)
        out = self.model.generate(
            **batch,
            do_sample=settings.temperature > 0,
            temperature=settings.temperature if settings.temperature > 0 else None,
            top_p=settings.top_p if settings.temperature > 0 else None,
            top_k=None,
            max_new_tokens=settings.max_tokens,
            pad_token_id=self.tokenizer.pad_token_id,
        )
        new = out[:, batch["input_ids"].shape[1]:].tolist()
        generations = []
        for row in new:
            length = next((i + 1 for i, t in enumerate(row) if t in self.eos_ids), None)
            finish = "stop" if length is not None else "length"
            kept = row[:length] if length is not None else row
            text = self.tokenizer.decode(kept, skip_special_tokens=True)
            generations.append(Generation(text, len(kept), finish))
        grouped, start = [], 0
        for c in counts:
            grouped.append(generations[start:start + c])
            start += c
        return grouped
