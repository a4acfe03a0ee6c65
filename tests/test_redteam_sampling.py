"""Red-team findings on the sampling controls (--temperature, --top-k, --min-p, --stop) of `rlvr eval` and the
probe: each test is one attack that once got a sample other than the one vLLM draws under the same settings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from rlvr.evaluate.backends.base import SamplingSettings
from rlvr.evaluate.plan import Request
from rlvr.evaluate.seeded_sampling import draw, uniforms
from rlvr.evaluate.stop_strings import cut_at_stop

PROMPT = "Question: What is 3 + 4? Let's think step by step."
SEEDS = tuple(range(101, 109))


@pytest.fixture(scope="module")
def backend(tiny_model_dir):
    from rlvr.evaluate.backends.hf import HFBackend

    return HFBackend(tiny_model_dir)


def generate(backend, settings: SamplingSettings, prune: bool):
    """The samples of SEEDS on PROMPT, through the CPU's pruned decode loop or packed `generate` (the GPU's)."""
    backend.prune_finished = prune
    request = Request("p", PROMPT, tuple(range(len(SEEDS))), SEEDS)
    return [(g.text, g.tokens, g.finish_reason) for g in backend.generate([request], settings)[0]]


def test_a_tiny_temperature_samples_greedily_not_the_least_probable_token(backend):
    """--temperature 1e-40 passed the range check (>= 0) and divided the logits into float32 infinities: the
    softmax was nan and the draw picked the last token, the least probable one here. vLLM samples greedily below
    1e-5 (its _SAMPLING_EPS); so must this."""
    logits = torch.tensor([[2.0, 1.0, 0.5, -1.0]])  # token 0 is the most probable, by hand
    for temperature in (1e-6, 1e-30, 1e-40, 1e-45):
        for seed in range(20):
            u = uniforms(torch.tensor([seed]), 0)
            assert int(draw(logits, u, temperature, 0.95)) == 0
            assert int(draw(logits, u, temperature, 1.0, top_k=2, min_p=0.1)) == 0
    greedy = SamplingSettings(n=len(SEEDS), temperature=0.0, top_p=1.0, max_tokens=12)
    tiny = SamplingSettings(n=len(SEEDS), temperature=1e-40, top_p=0.95, max_tokens=12, top_k=5)
    for prune in (True, False):
        assert generate(backend, tiny, prune) == generate(backend, greedy, prune)


def vllm_cut(tokenizer, tokens: list[int], stops: list[str]) -> tuple[str, int] | None:
    """vLLM's check_stop_strings over a sample's tokens, written out here from its definition: after each token,
    the stop strings are tried in the order given, each searched from len(text) + 1 - new_chars - len(stop), and
    the first found cuts the text where it starts; (text, tokens kept)."""
    text = ""
    for count in range(1, len(tokens) + 1):
        longer = tokenizer.decode(tokens[:count], skip_special_tokens=True)
        new_chars = len(longer) - len(text)
        text = longer
        for stop in stops:
            index = text.find(stop, max(0, len(text) + 1 - new_chars - len(stop)))
            if new_chars and index >= 0:
                return text[:index], count
    return None


def test_one_token_completing_two_stop_strings_cuts_at_the_first_listed_as_vllm(backend):
    """vLLM tries the stop strings in the order given and cuts at the first it finds ending in the new token's
    characters; the hf backend cut at the earliest-starting one, so with `--stop '=' --stop ' ='` (both completed
    by the token ' =') it stored 'NP' where vLLM stores 'NP ', and a store resumed on the other backend mixed
    the two cuts."""
    plain = SamplingSettings(n=len(SEEDS), temperature=1.0, top_p=1.0, max_tokens=30)
    tokenizer = backend.tokenizer  # the unstopped samples' tokens, drawn with the same seeds:
    batch = tokenizer([PROMPT] * len(SEEDS), return_tensors="pt", add_special_tokens=False)
    from rlvr.evaluate.pruned_decode import sample_pruned

    rows = sample_pruned(
        backend.model, batch["input_ids"], batch["attention_mask"], list(SEEDS), 30, backend.eos_ids, 1.0, 1.0
    )
    # a token whose text has two or more characters, none seen earlier in its sample: the last character and
    # the whole piece are two stop strings that one token completes together
    stops = None
    for tokens in rows:
        seen = ""
        for token in tokens:
            piece = tokenizer.decode([token])
            if (
                len(piece) >= 2
                and piece.isprintable()
                and piece[-1] not in seen + piece[:-1]
                and piece not in seen
            ):
                stops = [piece[-1], piece]
                break
            seen += piece
        if stops:
            break
    assert stops is not None
    settings = SamplingSettings(n=len(SEEDS), temperature=1.0, top_p=1.0, max_tokens=30, stop=tuple(stops))
    expected, differs = [], False
    for tokens in rows:
        eos = next((j + 1 for j, t in enumerate(tokens) if t in backend.eos_ids), len(tokens))
        cut = vllm_cut(tokenizer, tokens[:eos], stops)
        if cut is None:
            text = tokenizer.decode(tokens[:eos], skip_special_tokens=True)
            ended = eos < len(tokens) or tokens[-1] in backend.eos_ids
            expected.append((text, eos, "stop" if ended else "length"))
            continue
        expected.append((cut[0], cut[1], "stop"))
        full = tokenizer.decode(tokens[: cut[1]], skip_special_tokens=True)
        differs |= full[: min(full.find(s) for s in stops if s in full)] != cut[0]  # the earliest-start cut
    assert differs  # the attack bites: a sample the two rules cut differently
    for prune in (True, False):
        assert generate(backend, settings, prune) == expected
    assert [g[:2] for g in generate(backend, plain, True)] != [g[:2] for g in expected]


def test_a_servers_uncut_text_is_cut_at_the_stop_string_that_completes_first():
    """A server that ignores `stop` returns the whole text; the backend cut it at the earliest-starting stop
    string. Whatever the tokens, 'b' completes no later than 'xab' (it ends it), so vLLM, trying 'b' first,
    keeps 'xa'."""
    assert cut_at_stop("the xab end", ["b", "xab"]) == "the xa"
    assert cut_at_stop("the xab end", ["xab", "b"]) == "the "  # both end at one character: the first listed
    assert cut_at_stop("a = 7 (x)", [" (", " = "]) == "a"  # ' = ' completes first
    assert cut_at_stop("nothing here", ["zz"]) is None


def test_servers_that_fill_defaults_are_sent_top_k_and_min_p_even_when_off(
    tiny_model_dir, data_file, tmp_path
):
    """vLLM's OpenAI server fills a sampling parameter a request leaves out from the model's
    generation_config.json (`--generation-config auto`, its default; protocol.py's to_sampling_params): top_k
    and min_p left out when off meant Qwen2.5's top_k 20 on the server while the store said top_k 0. A server
    that says it is vLLM, SGLang (which fills them alike) or llama.cpp (top_k 40 and min_p 0.05 of its own) in
    /v1/models' owned_by must be sent them; others still are not."""
    from openai_stub import StubServer

    from rlvr.cli import main

    def run(server: StubServer, out: Path) -> list[dict]:
        argv = [
            "eval",
            "--model",
            tiny_model_dir,
            "--data-file",
            data_file,
            "--template",
            "plain",
            "--chat",
            "raw",
            "--n",
            "2",
            "--max-tokens",
            "8",
            "--backend",
            "openai",
            "--base-url",
            server.url,
            "--served-model",
            "stub-model",
            "--limit",
            "2",
            "--no-progress",
            "--out",
            str(out),
        ]
        try:
            assert main(argv) == 0
        finally:
            server.stop()
        return [r for r in server.requests]

    for owner in ("vllm", "sglang", "llamacpp"):  # llama.cpp's own defaults: top_k 40, min_p 0.05
        requests = run(StubServer(owned_by=owner), tmp_path / owner)
        assert requests and all(
            (r["top_k"], r["min_p"]) == (-1, 0.0) for r in requests
        )  # -1: off to all three
        assert "stop" not in requests[0]
    other = run(StubServer(), tmp_path / "other")
    assert other and not any("top_k" in r or "min_p" in r for r in other)
    meta_file = tmp_path / "vllm" / "meta.json"
    meta = json.loads(meta_file.read_text())
    assert (meta["top_k"], meta["min_p"]) == (0, 0.0)
    assert not run(StubServer(owned_by="vllm"), tmp_path / "vllm")  # the same store resumes: nothing to draw


def test_a_vllm_server_store_from_before_top_k_was_sent_is_not_resumed(
    tiny_model_dir, data_file, tmp_path, capsys
):
    """A store a vLLM server filled while top_k/min_p were left out holds generation_config-default samples;
    resumed now (top_k 0 sent) it would silently mix two distributions under one top_k=0: refused."""
    from openai_stub import StubServer

    from rlvr.cli import main

    out = tmp_path / "store"

    def argv(server: StubServer, n: int) -> list[str]:
        return [
            *("eval", "--model", tiny_model_dir, "--data-file", data_file, "--template", "plain"),
            *("--chat", "raw", "--n", str(n), "--max-tokens", "8", "--backend", "openai"),
            *("--base-url", server.url, "--served-model", "stub-model", "--limit", "2"),
            *("--no-progress", "--out", str(out)),
        ]

    server = StubServer(owned_by="vllm")
    try:
        assert main(argv(server, 2)) == 0
        meta = json.loads((out / "meta.json").read_text())
        assert meta["sent_when_off"] == ["top_k", "min_p"]
        del meta["sent_when_off"]  # as an rlvr that sent neither wrote it
        (out / "meta.json").write_text(json.dumps(meta))
        sent = len(server.requests)
        capsys.readouterr()
        assert main(argv(server, 2)) != 0
        assert "generation_config" in capsys.readouterr().err
        assert len(server.requests) == sent  # nothing sampled into it
    finally:
        server.stop()


@pytest.mark.xfail(
    strict=True,
    reason="openai backend: when it cuts a stop string a server left in its text (a server that ignores `stop`), "
    "the stored `tokens` stays the server's completion_tokens for the whole uncut text, not the tokens up to and "
    "including the one that completed the stop string (docs/evaluate.md); the server's token boundaries are not "
    "known, so the right count is only estimable by re-tokenising, and test_openai_backend_stub pins the "
    "server's count",
)
def test_a_stop_string_cut_from_a_servers_text_also_cuts_its_token_count(tiny_model_dir, data_file, tmp_path):
    """The stub ignores `stop` and answers ' I think it is ...' (6 or more words, completion_tokens counting
    them); cut at ' I', the stored text is '' and at most the 2 characters ' I' were generated up to the stop,
    so no tokenizer gives more than 2 tokens."""
    from openai_stub import StubServer

    from rlvr.cli import main

    out = tmp_path / "store"
    server = StubServer()
    try:
        argv = [
            *("eval", "--model", tiny_model_dir, "--data-file", data_file, "--template", "plain"),
            *("--chat", "raw", "--n", "2", "--max-tokens", "8", "--backend", "openai", "--stop", " I"),
            *("--base-url", server.url, "--served-model", "stub-model", "--limit", "2"),
            *("--no-progress", "--out", str(out)),
        ]
        assert main(argv) == 0
    finally:
        server.stop()
    rows = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    assert rows and all((r["text"], r["finish_reason"]) == ("", "stop") for r in rows)
    assert all(r["tokens"] <= 2 for r in rows)


def test_compare_names_stores_sampled_under_different_top_k_or_stop(tmp_path, capsys):
    """`rlvr compare` paired a store drawn with --top-k 20 --stop '\\n\\n' against one drawn with neither, without a
    word: the pass@k difference then mixes the models with the sampling. A store from before top_k was recorded
    reads as top_k 0, so it is named only where the other differs."""
    from store_build import build_store

    from rlvr.cli import main

    problems = [
        {"id": f"q{i}", "prompt": f"What is {i}?", "problem": f"What is {i}?", "answer": str(i)}
        for i in range(3)
    ]
    samples = {f"q{i}": [(f"\\boxed{{{i}}}", str(i), True), ("no", None, False)] for i in range(3)}
    base = build_store(tmp_path / "base", problems, samples, "base")  # no top_k/min_p/stop keys: the defaults
    same = build_store(tmp_path / "same", problems, samples, "same", top_k=0, min_p=0.0, stop=[])
    other = build_store(tmp_path / "other", problems, samples, "other", top_k=20, stop=["\n\n"])
    capsys.readouterr()
    assert main(["compare", str(base), str(same), "--out", str(tmp_path / "r1"), "--resamples", "20"]) == 0
    assert "sampled with different" not in capsys.readouterr().err
    assert main(["compare", str(base), str(other), "--out", str(tmp_path / "r2"), "--resamples", "20"]) == 0
    err = capsys.readouterr().err
    assert "different top_k (base 0, other 20)" in err
    assert "different stop (base [], other ['\\n\\n'])" in err
    assert "different temperature" not in err and "different min_p" not in err


def test_a_stop_string_given_twice_resumes_but_another_order_does_not(tmp_path):
    """`--stop a --stop b --stop a` draws what `--stop a --stop b` draws (the first place of 'a' decides), so its
    store resumes with either; another order can cut a sample elsewhere (vLLM tries them in turn), so it is
    refused, as is another set."""
    from store_build import build_store

    from rlvr.evaluate.store import SampleStore

    problems = [{"id": "q0", "prompt": "What is 0?", "problem": "What is 0?", "answer": "0"}]
    samples = {"q0": [("\\boxed{0}", "0", True)]}
    base = {"n": 1, "label": "s", "temperature": 1.0, "grader": "math", "sample_seeds": 1}
    path = build_store(tmp_path / "s", problems, samples, "s", stop=["a", "b", "a"], sample_seeds=1)
    SampleStore.create_or_resume(path, {**base, "stop": ["a", "b"]}, problems).close()
    SampleStore.create_or_resume(path, {**base, "stop": ["a", "b", "b", "a"]}, problems).close()
    for other in (["b", "a"], ["a"], ["a", "b", "c"]):
        with pytest.raises(ValueError, match="stop="):
            SampleStore.create_or_resume(path, {**base, "stop": other}, problems)


@pytest.fixture(scope="module")
def sentencepiece_model_dir(tmp_path_factory) -> str:
    """The tiny model with a SentencePiece-style tokenizer (Metaspace '▁', as Llama 2 and Mistral have), whose
    decode drops the space of a text's first word: '▁The' alone decodes as 'The', after a prompt as ' The'."""
    from conftest import TINY_CORPUS
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import AutoModelForCausalLM, LlamaConfig, PreTrainedTokenizerFast

    from rlvr.tiny import CHAT_TEMPLATE, SPECIAL_TOKENS

    raw = Tokenizer(models.BPE())
    raw.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first")
    raw.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="first")
    trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=SPECIAL_TOKENS, show_progress=False)
    raw.train_from_iterator(TINY_CORPUS, trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=raw,
        bos_token=None,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        unk_token=None,
        clean_up_tokenization_spaces=False,
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    out = tmp_path_factory.mktemp("sentencepiece-model")
    torch.manual_seed(0)
    config = (
        LlamaConfig(  # a Llama: transformers 5 loads a Qwen2 model's tokenizer with Qwen2's ByteLevel decoder
            vocab_size=len(tokenizer),
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=4,
            max_position_embeddings=256,
            tie_word_embeddings=True,
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=tokenizer.eos_token_id,
            bos_token_id=None,
        )
    )
    model = AutoModelForCausalLM.from_config(config)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return str(out)


def test_the_first_new_word_keeps_its_space_as_vllm_decodes_it(sentencepiece_model_dir):
    """vLLM primes its detokenizer with the prompt's last tokens, so a sample's first '▁is' is ' is' in its text
    and a stop string ' is' ends the sample there; the hf backend decoded the new tokens alone ('is'), so the
    stop was missed (the sample ran on) and every text lost its first space."""
    from rlvr.evaluate.backends.hf import HFBackend

    backend = HFBackend(sentencepiece_model_dir)
    tokenizer = backend.tokenizer
    prompt = "What is 3 + 4 ?"
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    batch = tokenizer([prompt] * len(SEEDS), return_tensors="pt", add_special_tokens=False)
    from rlvr.evaluate.pruned_decode import sample_pruned

    rows = sample_pruned(
        backend.model, batch["input_ids"], batch["attention_mask"], list(SEEDS), 12, backend.eos_ids, 1.0, 1.0
    )
    # by hand: the text that follows the whole prompt, and a sample whose first token is a '▁' word
    follows = [
        tokenizer.decode(prompt_ids + r, skip_special_tokens=True)[len(tokenizer.decode(prompt_ids)) :]
        for r in (r[: next((j + 1 for j, t in enumerate(r) if t in backend.eos_ids), len(r))] for r in rows)
    ]
    first = next(
        i
        for i, r in enumerate(rows)
        if tokenizer.convert_ids_to_tokens(r[0]).startswith("▁")
        and len(tokenizer.convert_ids_to_tokens(r[0])) > 1
    )
    word = tokenizer.convert_ids_to_tokens(rows[first][0]).replace("▁", " ")
    assert follows[first].startswith(word)
    plain = SamplingSettings(n=len(SEEDS), temperature=1.0, top_p=1.0, max_tokens=12)
    stopped = SamplingSettings(n=len(SEEDS), temperature=1.0, top_p=1.0, max_tokens=12, stop=(word,))
    for prune in (True, False):
        backend.prune_finished = prune
        request = Request("p", prompt, tuple(range(len(SEEDS))), SEEDS)
        assert [g.text for g in backend.generate([request], plain)[0]] == follows
        got = backend.generate([request], stopped)[0][first]
        assert (got.text, got.tokens, got.finish_reason) == ("", 1, "stop")
