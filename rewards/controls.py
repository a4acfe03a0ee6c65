"""Control rewards: arms that pay something other than correctness, to train beside the true reward.

If a model gains as much under a coin flip (`random`), under the answer's format alone (`format_only`) or
under another problem's answer (`wrong_label`) as under the true grader, the gain is not evidence that the
reward taught anything (Shao et al. 2025, "Spurious Rewards"). They shape training only (no `grade()`):
the probe of a run trained on a control still grades with the task's true grader (`CONTROL_PROBE_GRADER`).
"""

from __future__ import annotations

import hashlib
import random

from rlvr.rewards.math_extract import extract_answer, extract_gold
from rlvr.rewards.verdict import completion_text, prompt_text

# What the boundary probe grades a control run with: None is the true grader of the task's kind (math for
# answers, code for tests), as `rlvr eval` picks it.
CONTROL_PROBE_GRADER: str | None = None


def _coin(seed: int, step: int, prompt: str, occurrence: int, probability: float) -> float:
    """A coin that depends on the seed, the step, the prompt and which of its rollouts this is: never on
    the completion's text."""
    key = f"{seed}\0{step}\0{occurrence}\0{prompt}".encode()
    value = int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big") / 2**64
    return 1.0 if value < probability else 0.0


class RandomReward:
    """1.0 with probability `probability` per completion, else 0.0, whatever the completion says. The coin of
    the j-th rollout of a prompt at training step s is seeded by (seed, s, prompt, j), so the same run draws
    the same coins again (on a resume too) and no coin ever looks at the text."""

    def __init__(self, seed: int = 0, probability: float = 0.5) -> None:
        if not 0.0 <= probability <= 1.0:
            raise ValueError(f"the random reward's probability must lie in [0, 1], not {probability}")
        self.seed, self.probability = seed, probability
        self.__name__ = "random"
        self._calls = 0  # the step, when the trainer does not say it (TRL passes trainer_state)

    def __call__(self, prompts=None, completions=None, trainer_state=None, **kwargs) -> list[float]:
        step = trainer_state.global_step if trainer_state is not None else self._calls
        self._calls += 1
        prompts = prompts if prompts is not None else [""] * len(completions)
        seen: dict[str, int] = {}
        rewards = []
        for prompt in prompts:
            text = prompt_text(prompt)
            occurrence = seen.get(text, 0)
            seen[text] = occurrence + 1
            rewards.append(_coin(self.seed, step, text, occurrence, self.probability))
        return rewards


def _states_code(text: str) -> bool:
    from rlvr.rewards.code_reward import _FENCE_RE

    return _FENCE_RE.search(text) is not None


def format_only(prompts=None, completions=None, tests=None, **kwargs) -> list[float]:
    """1.0 when the completion states an answer where the task's grader reads one, right or wrong: a final
    answer the strict math reader finds (\\boxed{}, "The answer is ..."), or, for code tasks (a `tests`
    column), a fenced code block. Its value is never checked."""
    texts = [completion_text(c) for c in completions]
    if tests is not None:
        return [1.0 if _states_code(t) else 0.0 for t in texts]
    return [0.0 if extract_answer(t, "strict") is None else 1.0 for t in texts]


def wrong_labels(golds: list, seed: int = 0) -> dict[str, str]:
    """Each distinct gold answer -> another problem's gold: a derangement of the distinct values (shuffled by
    `seed`, each sent to the next in the cycle). Keyed by value, not by row, so a problem is never paid for
    its own answer even when another problem shares it."""
    by_value: dict[str, str] = {}
    for gold in golds:
        text = str(gold).strip()
        by_value.setdefault(extract_gold(text), text)
    values = sorted(by_value)
    if len(values) < 2:
        raise ValueError(
            f"wrong_label needs at least two distinct gold answers to swap; the dataset has {len(values)}: "
            "use a larger data set or the random control"
        )
    random.Random(seed).shuffle(values)
    return {value: by_value[values[(i + 1) % len(values)]] for i, value in enumerate(values)}


class WrongLabelReward:
    """The math grader against another problem's gold answer, the same one for a problem all run long
    (`wrong_labels` over the training set's golds): pays the task's format and a consistent but wrong
    answer, never the right one."""

    def __init__(self, golds: list | None = None, seed: int = 0, mode: str = "lenient") -> None:
        from rlvr.rewards.math_reward import MathReward

        self.seed = seed
        self.labels = None if golds is None else wrong_labels(golds, seed)
        self._grader = MathReward(mode=mode)
        self.__name__ = "wrong_label"

    def wrong_answer(self, gold) -> str:
        if self.labels is None:
            raise ValueError(
                "wrong_label needs the training set's gold answers (rlvr train passes them); "
                "build it as WrongLabelReward(golds=[...])"
            )
        key = extract_gold(str(gold).strip())
        if key not in self.labels:
            raise ValueError(f"wrong_label: gold answer {gold!r} is not one of the training set's")
        return self.labels[key]

    def __call__(self, prompts=None, completions=None, answer=None, **kwargs) -> list[float]:
        if answer is None:
            raise KeyError(
                "wrong_label grades math answers: the dataset needs an `answer` column "
                "(for code tasks use the random or format_only control)"
            )
        wrong = [self.wrong_answer(a) for a in answer]
        return [g.reward for g in self._grader.grade(completions, wrong, prompts)]
