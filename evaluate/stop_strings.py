"""Stop strings as vLLM applies them (its default, include_stop_str_in_output=False).

A sample ends at the token that completes the first occurrence of any stop string in its text; its stored text
is cut just before that occurrence (the stop string is not kept), its token count includes the token that
completed it, and it is a natural end (finish_reason "stop"), not a truncation. Where one token completes
several stop strings at once, the text is cut at the earliest of them.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


def cut_at_stop(text: str, stops: Sequence[str]) -> str | None:
    """The text before the first occurrence of any stop string; None when it holds none."""
    found = [i for i in (text.find(s) for s in stops) if i >= 0]
    return text[: min(found)] if found else None


class StopScanner:
    """Each row's text as its tokens arrive, decoded incrementally as vLLM's detokenizer does (tokenizers'
    DecodeStream, special tokens skipped), and where it first holds a stop string: `ended[row]` is then the
    number of tokens the row keeps. Called once per step with the rows drawn at it (`sample_pruned`'s `ends`)."""

    def __init__(self, tokenizer, stops: Sequence[str], rows: int) -> None:
        self.tokenizer = tokenizer
        self.stops = tuple(stops)
        self._longest = max(len(s) for s in self.stops)
        self._rust = getattr(tokenizer, "_tokenizer", None)  # a fast tokenizer's own; slow ones decode anew
        if self._rust is not None:
            from tokenizers.decoders import DecodeStream

            self._streams = [DecodeStream(skip_special_tokens=True) for _ in range(rows)]
        self._tokens: list[list[int]] = [[] for _ in range(rows)]
        self._text = [""] * rows
        self.ended: dict[int, int] = {}

    def step(self, rows: list[int], tokens: list[int]) -> list[bool]:
        """Each row's next token; whether the row has ended on a stop string (now or before)."""
        return [self._add(row, token) for row, token in zip(rows, tokens)]

    def _add(self, row: int, token: int) -> bool:
        if row in self.ended:
            return True
        self._tokens[row].append(token)
        before = len(self._text[row])
        if self._rust is not None:
            chunk = self._streams[row].step(self._rust, token)
            if chunk:
                self._text[row] += chunk
            start = max(0, before - self._longest + 1)  # an occurrence must end in the new characters
        else:
            self._text[row] = self.tokenizer.decode(self._tokens[row], skip_special_tokens=True)
            start = 0
        if any(s in self._text[row][start:] for s in self.stops):
            self.ended[row] = len(self._tokens[row])
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
