"""Per-response perplexity of one model on stored responses: how expected are another model's answers?"""

from __future__ import annotations

import math

import torch


@torch.no_grad()
def response_perplexities(model_path: str, prompts: list[str], responses: list[str], batch_size: int = 16,
                          device: str | None = None, progress: bool = True) -> list[float]:
    """exp(mean negative log-likelihood of the response tokens given the prompt), one per response."""
    from tqdm.auto import tqdm
    from transformers import AutoModelForCausalLM, AutoTokenizer

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    tokenizer = AutoTokenizer.from_pretrained(model_path)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    model = AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.float32 if device == "cpu" else "auto").to(device).eval()
    out: list[float] = []
    for start in tqdm(range(0, len(prompts), batch_size), desc="perplexity", disable=not progress):
        seqs, masks = [], []
        for prompt, response in zip(prompts[start:start + batch_size], responses[start:start + batch_size]):
            p = tokenizer(prompt, add_special_tokens=False)["input_ids"]
            r = tokenizer(response, add_special_tokens=False)["input_ids"]
            seqs.append(p + r)
            masks.append([0] * len(p) + [1] * len(r))
        width = max(len(s) for s in seqs)
        ids = torch.tensor([s + [pad_id] * (width - len(s)) for s in seqs], device=device)
        attention = torch.tensor([[1] * len(s) + [0] * (width - len(s)) for s in seqs], device=device)
        scored = torch.tensor([m + [0] * (width - len(m)) for m in masks], device=device, dtype=torch.float32)
        logits = model(input_ids=ids, attention_mask=attention).logits[:, :-1].float()
        nll = torch.nn.functional.cross_entropy(logits.transpose(1, 2), ids[:, 1:], reduction="none")
        weight = scored[:, 1:]
        for row_nll, row_w in zip(nll, weight):
            count = row_w.sum().item()
            out.append(math.exp((row_nll * row_w).sum().item() / count) if count else float("nan"))
    return out
