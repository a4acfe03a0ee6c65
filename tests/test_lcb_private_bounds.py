"""LiveCodeBench's private tests are inflated to a bounded size: a zlib bomb is refused by problem, never
expanded into gigabytes; real-sized test sets still read."""

from __future__ import annotations

import base64
import json
import pickle
import zlib

import pytest

from rlvr.benchmarks import MAX_PRIVATE_TESTS_MB, decode_private_tests


def _packed(text: str) -> str:
    return base64.b64encode(zlib.compress(pickle.dumps(text), 9)).decode()


def test_a_stream_that_expands_past_the_cap_is_refused_naming_the_problem(monkeypatch):
    monkeypatch.setenv("RLVR_MAX_PRIVATE_TESTS_MB", "1")
    bomb = _packed(json.dumps([{"input": "0" * (3 * 2**20), "output": "0"}]))
    assert len(bomb) < 20_000  # a few KB that would inflate to 3 MiB
    with pytest.raises(ValueError, match=r"problem abc123: .* more than 1 MiB .*RLVR_MAX_PRIVATE_TESTS_MB"):
        decode_private_tests(bomb, "abc123")


def test_test_sets_under_the_cap_decode_whole(monkeypatch):
    monkeypatch.setenv("RLVR_MAX_PRIVATE_TESTS_MB", "1")
    cases = [{"input": f"{i}\n" * 5000, "output": str(i), "testtype": "stdin"} for i in range(20)]
    assert decode_private_tests(_packed(json.dumps(cases)), "p") == cases
    monkeypatch.delenv("RLVR_MAX_PRIVATE_TESTS_MB")
    big = [{"input": "9 " * 2**20, "output": "1"}] * 4  # 8 MiB of input, a large real test set's size
    assert decode_private_tests(_packed(json.dumps(big)), "p") == big
    assert MAX_PRIVATE_TESTS_MB >= 256


def test_a_truncated_stream_is_named():
    whole = zlib.compress(pickle.dumps(json.dumps([{"input": "1", "output": "2"}] * 100)))
    with pytest.raises(ValueError, match="problem q: .*truncated"):
        decode_private_tests(base64.b64encode(whole[: len(whole) // 2]).decode(), "q")
