"""PPO with verifiable rewards on TRL's GRPO machinery (TRL 1.16 removed its own PPO trainer).

GRPO already generates, scores, logs and applies a clipped token-level policy loss that accepts (B, T)
advantages. PPO adds a learned value model: a linear value head on the policy's final hidden states, whose
per-token values give token-level GAE advantages (reward at the last completion token), and a clipped value
loss. The optional KL penalty is TRL's (`beta`, against a frozen reference). `num_generations` becomes the
number of rollouts per prompt; PPO itself needs no groups.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn
from trl import GRPOConfig, GRPOTrainer

VALUE_HEAD_FILE = "value_head.pt"


@dataclass
class PPOConfig(GRPOConfig):
    """GRPOConfig plus PPO's value-model settings."""

    vf_coef: float = field(default=0.1, metadata={"help": "Weight of the value loss in the total loss."})
    cliprange_value: float = field(
        default=0.2, metadata={"help": "Clip range of the value update around the rollout's values."}
    )
    gamma: float = field(default=1.0, metadata={"help": "Discount factor for GAE."})
    lam: float = field(
        default=0.95, metadata={"help": "GAE lambda: 1 is Monte Carlo returns, 0 one-step TD."}
    )
    whiten_advantages: bool = field(
        default=True, metadata={"help": "Normalise advantages over the batch's tokens."}
    )


def gae(token_rewards: torch.Tensor, values: torch.Tensor, mask: torch.Tensor, gamma: float, lam: float):
    """(advantages, returns) per token; positions where mask is 0 carry nothing and bootstrap nothing."""
    values = values * mask
    advantages = torch.zeros_like(values)
    running = torch.zeros_like(values[:, 0])
    length = values.size(1)
    for t in reversed(range(length)):
        next_value = values[:, t + 1] if t + 1 < length else torch.zeros_like(running)
        delta = token_rewards[:, t] + gamma * next_value - values[:, t]
        running = (delta + gamma * lam * running) * mask[:, t]
        advantages[:, t] = running
    return advantages, advantages + values


def last_token_rewards(rewards: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The sequence reward placed on each completion's last real token."""
    out = torch.zeros_like(mask, dtype=torch.float32)
    last = (mask.sum(dim=1).long() - 1).clamp(min=0)
    out[torch.arange(mask.size(0)), last] = rewards.float() * (mask.sum(dim=1) > 0)
    return out


def masked_whiten(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    count = mask.sum().clamp(min=1)
    mean = (x * mask).sum() / count
    var = (((x - mean) * mask) ** 2).sum() / count
    return (x - mean) * torch.rsqrt(var + 1e-8) * mask


class PPOTrainer(GRPOTrainer):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        policy = self.accelerator.unwrap_model(self.model)
        causal_lm = policy.get_base_model() if hasattr(policy, "get_base_model") else policy
        hidden = causal_lm.config.get_text_config().hidden_size
        dtype = next(causal_lm.parameters()).dtype
        head = nn.Linear(hidden, 1, dtype=dtype)
        nn.init.zeros_(head.weight)
        nn.init.zeros_(head.bias)
        # A submodule of the policy, so DDP/DeepSpeed wrap, sync and optimise it with the backbone.
        policy.add_module("v_head", head)
        self._hidden: torch.Tensor | None = None
        causal_lm.base_model.register_forward_hook(self._keep_hidden)
        self._rewards_per_func: torch.Tensor | None = None

    def _keep_hidden(self, module, args, output) -> None:
        self._hidden = output.last_hidden_state if hasattr(output, "last_hidden_state") else output[0]

    def _values(self, completion_length: int) -> torch.Tensor:
        """Values of the states before each completion token, from the last forward's hidden states."""
        head = self.accelerator.unwrap_model(self.model).v_head
        hidden = self._hidden[:, -completion_length - 1 : -1]
        return head(hidden.to(head.weight.dtype)).squeeze(-1).float()

    def _calculate_rewards(self, inputs, prompts, completions, completion_ids_list):
        self._rewards_per_func = super()._calculate_rewards(inputs, prompts, completions, completion_ids_list)
        return self._rewards_per_func

    def _generate_and_score_completions(self, inputs):
        output = super()._generate_and_score_completions(inputs)
        prompt_ids, completion_ids = output["prompt_ids"], output["completion_ids"]
        mask = output["completion_mask"].float()
        batch = prompt_ids.size(0)
        rank = self.accelerator.process_index
        weights = self.reward_weights.to(self._rewards_per_func.device)
        rewards = (self._rewards_per_func * weights.unsqueeze(0)).nansum(dim=1)[
            rank * batch : (rank + 1) * batch
        ]
        with torch.no_grad():
            logps, _, _ = self._get_per_token_logps_and_entropies(
                self.model,
                torch.cat([prompt_ids, completion_ids], dim=1),
                torch.cat([output["prompt_mask"], output["completion_mask"]], dim=1),
                completion_ids.size(1),
            )
            values = self._values(completion_ids.size(1)) * mask
        advantages, returns = gae(
            last_token_rewards(rewards.to(mask.device), mask), values, mask, self.args.gamma, self.args.lam
        )
        if self.args.whiten_advantages:
            advantages = masked_whiten(advantages, mask)
        output.setdefault("old_per_token_logps", logps)
        output["advantages"] = advantages
        output["returns"] = returns
        output["old_values"] = values
        self._metrics["train"]["ppo/value_mean"].append(
            self.accelerator.gather((values * mask).sum() / mask.sum().clamp(min=1)).mean().item()
        )
        return output

    def _compute_loss(self, model, inputs):
        policy_loss = super()._compute_loss(
            model, inputs
        )  # its forward leaves the hidden states in self._hidden
        mask = inputs["completion_mask"].float()
        values = self._values(inputs["completion_ids"].size(1))
        old, returns = inputs["old_values"], inputs["returns"]
        clipped = old + (values - old).clamp(-self.args.cliprange_value, self.args.cliprange_value)
        per_token = 0.5 * torch.maximum((values - returns) ** 2, (clipped - returns) ** 2)
        value_loss = (per_token * mask).sum() / mask.sum().clamp(min=1)
        mode = "train" if self.model.training else "eval"
        self._metrics[mode]["ppo/value_loss"].append(
            self.accelerator.gather(value_loss.detach()).mean().item()
        )
        accumulation = self.current_gradient_accumulation_steps if mode == "train" else 1.0
        return policy_loss + self.args.vf_coef * value_loss / accumulation

    def _save(self, output_dir: str | None = None, state_dict=None):
        """The policy saves as a plain causal LM (loadable anywhere); the value head goes beside it, on the CPU so
        that a checkpoint trained on a GPU loads on a machine without one."""
        output_dir = output_dir or self.args.output_dir
        policy = self.accelerator.unwrap_model(self.model)
        state_dict = policy.state_dict() if state_dict is None else state_dict
        head = {
            k[len("v_head.") :]: v.detach().cpu() for k, v in state_dict.items() if k.startswith("v_head.")
        }
        rest = {k: v for k, v in state_dict.items() if not k.startswith("v_head.")}
        super()._save(output_dir, state_dict=rest)
        if head and self.args.should_save:
            torch.save(head, Path(output_dir) / VALUE_HEAD_FILE)

    def _load_from_checkpoint(self, resume_from_checkpoint, model=None):
        super()._load_from_checkpoint(resume_from_checkpoint, model)
        path = Path(resume_from_checkpoint) / VALUE_HEAD_FILE
        if path.exists():
            self.accelerator.unwrap_model(self.model).v_head.load_state_dict(
                torch.load(path, map_location="cpu")
            )
