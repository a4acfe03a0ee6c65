"""Stop strings as vLLM applies them (its default, include_stop_str_in_output=False).

A sample ends at the token that completes the first occurrence of any stop string in its text; its stored text
is cut just before that occurrence (the stop string is not kept), its token count includes the token that
completed it, and it is a natural end (finish_reason "stop"), not a truncation. Where one token completes
several stop strings at once, the text is cut at the first of them in the order given, as vLLM's
check_stop_strings does (it tries each stop string in turn on the text that ends in the token's characters).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


def stop_in_new_text(text: str, new_chars: int, stops: Sequence[str]) -> int | None:
    """Where the text is cut when its last `new_chars` characters arrived with one token: at the first stop
    string, in the order given, that has an occurrence ending in them (vLLM's check_stop_strings); None when
    none has."""
    if new_chars <= 0:
        return None
    for stop in stops:
        index = text.find(stop, max(0, len(text) - new_chars - len(stop) + 1))
        if index >= 0:
            return index
    return None


def cut_at_stop(text: str, stops: Sequence[str]) -> str | None:
    """The text before the stop string that completes first in it (ties: the first in the order given), as
    vLLM would cut it one character per token: for a server's text, whose token boundaries are not known; None
    when it holds none."""
    best: tuple[int, int] | None = None  # (end, start) of the first stop string to complete
    for stop in stops:
        index = text.find(stop)
        if index >= 0 and (best is None or index + len(stop) < best[0]):
            best = (index + len(stop), index)
    return text[: best[1]] if best is not None else None


def prompt_suffix(tokenizer, prompt: list[int]) -> list[int]:
    """The prompt's last tokens vLLM's detokenizer is primed with (its FastIncrementalDetokenizer): the shortest
    suffix of 4 to 23 tokens that decodes without a broken character, else the whole prompt. Primed, the first new
    token decodes as it does mid-text (a SentencePiece '▁The' as ' The', not 'The')."""
    if len(prompt) > 4:
        for i in range(4, min(len(prompt) + 1, 24)):
            if "\ufffd" not in tokenizer.decode(prompt[-i:], skip_special_tokens=True):
                return prompt[-i:]
    return list(prompt)


def generated_text(tokenizer, suffix: list[int], tokens: list[int]) -> str:
    """The new tokens' text as it follows the prompt (as vLLM's detokenizer gives it), special tokens skipped;
    `suffix` is the prompt's `prompt_suffix`, found once per prompt."""
    before = tokenizer.decode(suffix, skip_special_tokens=True)
    both = tokenizer.decode(suffix + list(tokens), skip_special_tokens=True)
    return (
        both[len(before) :] if both.startswith(before) else tokenizer.decode(tokens, skip_special_tokens=True)
    )


class StopScanner:
    """Each row's text as its tokens arrive, decoded incrementally as vLLM's detokenizer does (tokenizers'
    DecodeStream primed with the prompt's suffix, special tokens skipped), and where it first holds a stop string:
    `ended[row]` is then the number of tokens the row keeps and `cut[row]` its text before the stop string. Called
    once per step with the rows drawn at it (`sample_pruned`'s `ends`); `suffixes` are the rows' prompt suffixes
    (`prompt_suffix`)."""

    def __init__(self, tokenizer, stops: Sequence[str], suffixes: list[list[int]]) -> None:
        self.tokenizer = tokenizer
        self.stops = tuple(stops)
        self._rust = getattr(tokenizer, "_tokenizer", None)  # a fast tokenizer's own; slow ones decode anew
        self._suffixes = suffixes
        if self._rust is not None:
            from tokenizers.decoders import DecodeStream

            self._streams = [DecodeStream(skip_special_tokens=True) for _ in suffixes]
            for stream, suffix in zip(self._streams, self._suffixes):
                for token in suffix:  # primed as vLLM primes it: the prompt's text is not the sample's
                    stream.step(self._rust, token)
        rows = len(suffixes)
        self._tokens: list[list[int]] = [[] for _ in range(rows)]
        self._text = [""] * rows
        self.ended: dict[int, int] = {}
        self.cut: dict[int, str] = {}

    def step(self, rows: list[int], tokens: list[int]) -> list[bool]:
        """Each row's next token; whether the row has ended on a stop string (now or before)."""
        return [self._add(row, token) for row, token in zip(rows, tokens)]

    def _add(self, row: int, token: int) -> bool:
        if row in self.ended:
            return True
        self._tokens[row].append(token)
        old = self._text[row]
        if self._rust is not None:
            chunk = self._streams[row].step(self._rust, token)
            if chunk:
                self._text[row] += chunk
            new_chars = len(self._text[row]) - len(old)
        else:  # decoded anew: the characters from the first one that changed are new
            self._text[row] = generated_text(self.tokenizer, self._suffixes[row], self._tokens[row])
            same = next(
                (i for i, (a, b) in enumerate(zip(old, self._text[row])) if a != b),
                min(len(old), len(self._text[row])),
            )
            new_chars = len(self._text[row]) - same
        index = stop_in_new_text(self._text[row], new_chars, self.stops)
        if index is not None:
            self.ended[row] = len(self._tokens[row])
            self.cut[row] = self._text[row][:index]
            return True
        return False


class RowsEnded:
    """`generate`'s stopping criterion for stop strings (transformers' StoppingCriteria protocol: a bool per row):
    a row ends at the token that completes one, and then takes padding, as after its end of sequence; rows that
    have ended are not fed their padding."""

    def __init__(self, scanner: StopScanner, eos_ids: set[int]) -> None:
        self.scanner = scanner
        self.eos_ids = eos_ids
        self.done: set[int] = set()

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor, **kwargs) -> torch.BoolTensor:
        last = input_ids[:, -1].tolist()
        live = [row for row in range(len(last)) if row not in self.done]
        for row, ended in zip(live, self.scanner.step(live, [last[row] for row in live])):
            if ended or last[row] in self.eos_ids:
                self.done.add(row)
        return torch.tensor([row in self.done for row in range(len(last))], device=input_ids.device)
