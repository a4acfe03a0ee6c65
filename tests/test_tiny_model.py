import torch
from transformers import AutoModelForCausalLM, AutoTokenizer


def test_model_loads_and_is_tiny(tiny_model_dir):
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    assert model.config.model_type == "qwen2"
    assert sum(p.numel() for p in model.parameters()) < 1_000_000


def test_tokenizer_round_trips_any_text(tiny_model_dir):
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    for text in ["What is 3 + 4? \\boxed{7}", "naïve café — 日本語 🙂", "  spaces\n\ttabs  "]:
        ids = tokenizer(text)["input_ids"]
        assert tokenizer.decode(ids) == text
    assert tokenizer.pad_token_id != tokenizer.eos_token_id


def test_chat_template_and_generation(tiny_model_dir):
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    prompt = tokenizer.apply_chat_template(
        [{"role": "user", "content": "1 + 1?"}], tokenize=False, add_generation_prompt=True
    )
    assert prompt.endswith("<|im_start|>assistant\n")
    batch = tokenizer([prompt], return_tensors="pt")
    torch.manual_seed(0)
    out = model.generate(**batch, max_new_tokens=8, do_sample=True)
    new_tokens = out[0, batch["input_ids"].shape[1] :]
    assert 1 <= len(new_tokens) <= 8
    assert isinstance(tokenizer.decode(new_tokens), str)
