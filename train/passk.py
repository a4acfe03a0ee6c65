"""Pass@k training (Chen et al. 2025, "Pass@k Training for Adaptively Balancing Exploration and Exploitation of
Large Reasoning Models") on TRL's GRPO machinery: only the group advantage changes.

GRPO rewards each rollout for beating its group's mean, which is pass@1's objective. Pass@k training rewards a
group of N rollouts (N_neg of them wrong) by the chance that k drawn without replacement hold a correct one,
R = 1 - C(N_neg, k) / C(N, k), and gives each rollout its expected contribution to that, divided by
sigma = sqrt(R (1 - R)):

- a correct rollout: every k-subset holding it passes, so (1 - R) / sigma;
- a wrong one: a k-subset holding it passes unless its other k - 1 are all wrong, so
  (1 - R - C(N_neg - 1, k - 1) / C(N - 1, k - 1)) / sigma.

Binomials are exact integers and the terms exact fractions until the final division by sigma. When sigma is 0
(every rollout wrong, or fewer than k wrong so that every k-subset passes) both numerators are exactly 0 too,
and every advantage is 0: the group carries no signal, as an all-equal group carries none in GRPO. With
k = N every group is such a group (its one k-subset is the whole group), so PassKConfig refuses it. With k = 1
the advantage is (r - mean) / sigma: GRPO's mean-centred advantage over the population standard deviation.

Correctness: a rollout is correct when the weighted sum of its rewards (TRL's `reward_weights`, summed as
`sum_then_normalize` sums them) is at least `passk_threshold` (0.5: halfway between the math reward's 0 and 1;
with `math: 1.0, format: 0.2` a right answer scores 1.0 or 1.2 and a formatted wrong one 0.2). A rollout that
every reward function left unscored (None) counts neither way: its group is the scored rollouts, with k
lowered to their number when fewer remain, and its own advantage is 0, as TRL gives it. `scale_rewards` and
`multi_objective_aggregation` do not apply; loss types, KL, clipping, generation (vLLM included) are TRL's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

import torch
from trl import GRPOConfig, GRPOTrainer


@dataclass
class PassKConfig(GRPOConfig):
    """GRPOConfig plus the pass@k objective's k and the reward at which a rollout counts as correct."""

    passk_k: int | None = field(
        default=None,
        metadata={
            "help": "k of the pass@k objective: the group reward is the chance that k of the num_generations "
            "rollouts hold a correct one (1 <= passk_k < num_generations; 1 is pass@1, GRPO's objective; "
            "default half of num_generations)."
        },
    )
    passk_threshold: float = field(
        default=0.5,
        metadata={
            "help": "A rollout counts as correct when its weighted reward sum is at least this (0.5 splits the "
            "math reward's 0 and 1)."
        },
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.passk_k is None:
            self.passk_k = max(1, self.num_generations // 2)
        if self.passk_k == self.num_generations:  # the one k-subset is the whole group: R is 0 or 1, sigma 0
            raise ValueError(
                f"trainer.passk_k={self.passk_k} equals num_generations: every group's pass@k is then 0 or 1 "
                f"and every advantage 0, so nothing trains; lower passk_k or raise trainer.num_generations"
            )
        if not 1 <= self.passk_k <= self.num_generations:
            raise ValueError(
                f"trainer.passk_k={self.passk_k} must lie in [1, num_generations={self.num_generations}): "
                f"lower passk_k or raise trainer.num_generations"
            )


def passk_terms(n: int, n_neg: int, k: int) -> tuple[Fraction, Fraction, Fraction]:
    """(R, numerator of a correct rollout's advantage, numerator of a wrong one's), exact; divide the
    numerators by sqrt(R (1 - R)) for the advantages."""
    if not 1 <= k <= n or not 0 <= n_neg <= n:
        raise ValueError(
            f"pass@k terms need 1 <= k <= n and 0 <= n_neg <= n; got n={n}, n_neg={n_neg}, k={k}"
        )
    reward = 1 - Fraction(math.comb(n_neg, k), math.comb(n, k))
    # n_neg = 0: no wrong rollout, its term never used; math.comb(-1, .) would raise
    all_wrong_rest = Fraction(math.comb(n_neg - 1, k - 1), math.comb(n - 1, k - 1)) if n_neg else Fraction(0)
    return reward, 1 - reward, 1 - reward - all_wrong_rest


def passk_group_advantages(correct: list[bool], k: int) -> list[float]:
    """The advantage of each rollout of one group; all 0 when the group's sigma is 0."""
    n, n_neg = len(correct), sum(not c for c in correct)
    reward, right, wrong = passk_terms(n, n_neg, k)
    variance = reward * (1 - reward)
    if variance == 0:  # R is 0 or 1: both numerators are exactly 0 as well
        return [0.0] * n
    sigma = math.sqrt(variance)
    return [float(right) / sigma if c else float(wrong) / sigma for c in correct]


def passk_advantages(
    rewards: torch.Tensor, group_size: int, k: int, threshold: float
) -> tuple[torch.Tensor, torch.Tensor]:
    """(advantages, group rewards R) of a flat batch of summed rewards: groups of `group_size` consecutive
    rollouts, NaN for an unscored rollout; R is NaN for a group with none scored."""
    values = rewards.detach().double().cpu().view(-1, group_size).tolist()
    advantages, group_rewards = [], []
    for group in values:
        scored = [i for i, r in enumerate(group) if not math.isnan(r)]
        out = [0.0] * group_size
        if scored:
            correct = [group[i] >= threshold for i in scored]
            kk = min(k, len(scored))
            for i, a in zip(scored, passk_group_advantages(correct, kk)):
                out[i] = a
            group_rewards.append(float(passk_terms(len(scored), correct.count(False), kk)[0]))
        else:
            group_rewards.append(math.nan)
        advantages.extend(out)
    return (
        torch.tensor(advantages, dtype=torch.float32, device=rewards.device),
        torch.tensor(group_rewards, dtype=torch.float32),
    )


class PassKTrainer(GRPOTrainer):
    """GRPOTrainer whose group advantage is pass@k training's; everything else is TRL's."""

    _rewards_per_func: torch.Tensor | None = None

    def _calculate_rewards(self, inputs, prompts, completions, completion_ids_list):
        # every process's rewards (TRL gathers them before normalising per group)
        self._rewards_per_func = super()._calculate_rewards(inputs, prompts, completions, completion_ids_list)
        return self._rewards_per_func

    def _generate_and_score_completions(self, inputs):
        output = super()._generate_and_score_completions(inputs)
        mode = "train" if self.model.training else "eval"
        group = self.num_generations if mode == "train" else self.num_generations_eval
        per_func = self._rewards_per_func
        rewards = (per_func * self.reward_weights.to(per_func.device).unsqueeze(0)).nansum(dim=1)
        rewards[torch.isnan(per_func).all(dim=1)] = torch.nan
        everyone, group_rewards = passk_advantages(
            rewards, group, self.args.passk_k, self.args.passk_threshold
        )
        batch = output["advantages"].size(0)
        rank = self.accelerator.process_index
        output["advantages"] = everyone[rank * batch : (rank + 1) * batch].to(output["advantages"])
        logged = self._logs["advantages"]  # TRL logged GRPO's advantages of this batch last: log ours instead
        for _ in range(min(len(everyone), len(logged))):
            logged.pop()
        logged.extend(everyone.tolist())
        self._metrics[mode]["passk/group_reward"].append(torch.nanmean(group_rewards).item())
        return output
