"""GRPO-family rollouts drawn by rlvr's pruned decode loop from a low-precision copy of the policy.

On a CPU, TRL's rollouts through `generate` are half of a GRPO step (docs/benchmarks.md). `model.rollout_dtype`
keeps TRL's trainer and swaps only its generation: a copy of the policy in that dtype, refreshed whenever the
optimizer has stepped, samples each rollout with a seed of its own through `sample_pruned` (finished rows leave
the batch, bfloat16 runs on a CPU's AMX units). TRL then scores the completions with the policy in its own
dtype, as it does vLLM's; there is no importance-sampling correction for the precision gap.
"""

from __future__ import annotations

import torch

from rlvr.train.recipe import RecipeError

_FIELD = "model.rollout_dtype"


def with_pruned_rollouts(trainer_class: type, dtype: str) -> type:
    """`trainer_class` whose single-turn generation is `sample_pruned` on a `dtype` copy of the policy."""
    from trl import RLOOTrainer

    attributes = {
        "_rollout_dtype": getattr(torch, dtype),
        "_returns_logprobs": not issubclass(trainer_class, RLOOTrainer),
    }
    return type(trainer_class.__name__, (PrunedRollouts, trainer_class), attributes)


class PrunedRollouts:
    _rollout_dtype: torch.dtype
    _returns_logprobs: bool

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        refusal = self._pruned_rollouts_refusal()
        if refusal:
            raise RecipeError(f"{_FIELD} {refusal}; remove {_FIELD} (TRL generates) or change that setting")
        self._rollout_model = None
        self._rollout_pairs: list = []
        self._rollout_step = -1
        self._rollout_calls = 0

    def _pruned_rollouts_refusal(self) -> str | None:
        from rlvr.evaluate.pruned_decode import supports

        args = self.args
        model = self.accelerator.unwrap_model(self.model)
        checks = [
            (self.use_vllm, "cannot be combined with trainer.use_vllm"),
            (
                getattr(self, "use_transformers_continuous_batching", False),
                "cannot be combined with trainer.use_transformers_continuous_batching",
            ),
            (args.top_k not in (0, None), "samples top-p only: trainer.top_k must be 0"),
            (args.min_p is not None, "samples top-p only: trainer.min_p must be unset"),
            (
                args.repetition_penalty != 1.0,
                "samples without penalties: trainer.repetition_penalty must be 1",
            ),
            (bool(args.generation_kwargs), "cannot apply trainer.generation_kwargs"),
            (self.temperature <= 0, "samples: trainer.temperature must be above 0"),
            (self._is_vlm, "samples text-only models; this one takes images"),
            (hasattr(model, "peft_config"), "copies whole weights; LoRA (model.lora) is not supported"),
            (self.is_fsdp_enabled, "copies whole weights; FSDP shards them"),
            (
                self.is_deepspeed_enabled and self.accelerator.state.deepspeed_plugin.zero_stage == 3,
                "copies whole weights; DeepSpeed ZeRO-3 shards them",
            ),
            (not supports(model), f"cannot sample {type(model).__name__} as generate would"),
        ]
        return next((reason for failed, reason in checks if failed), None)

    def _synced_rollout_model(self):
        """The low-precision copy, its weights those of the policy at the current optimizer step.

        Built from the policy's config rather than deep-copied: a deep copy would carry what trainers attach to the
        policy (TRL's fused-LM-head forward closes over the policy's own; PPO's forward hook is bound to the
        trainer). Buffers such as rotary frequencies are computed as `from_pretrained` computes them."""
        policy = self.accelerator.unwrap_model(self.model)
        if self._rollout_model is None:
            self._rollout_model = type(policy)._from_config(policy.config, dtype=self._rollout_dtype)
            self._rollout_model.eval().requires_grad_(False)
            theirs = dict(policy.named_parameters())
            self._rollout_pairs = [
                (mine, theirs[name]) for name, mine in self._rollout_model.named_parameters()
            ]
        if self._rollout_step != self.state.global_step:
            with torch.no_grad():
                for mine, theirs in self._rollout_pairs:
                    mine.copy_(theirs)
            self._rollout_step, self._rollout_calls = self.state.global_step, 0
        return self._rollout_model

    def _rollout_seeds(self, rows: int) -> list[int]:
        """One seed per row from the run's seed, the optimizer step, the call within it and the process."""
        from rlvr.evaluate.plan import sample_seed

        call = f"rollout:{self.state.global_step}:{self._rollout_calls}:{self.accelerator.process_index}"
        self._rollout_calls += 1
        return [sample_seed(self.args.seed, call, row) for row in range(rows)]

    def _generate_single_turn(self, prompt_ids, images, multimodal_fields, *args, **kwargs):
        from rlvr.evaluate.pruned_decode import sample_pruned

        model = self._synced_rollout_model()
        device = self.accelerator.device
        width = max(len(ids) for ids in prompt_ids)
        pad = self._tokenizer.pad_token_id
        input_ids = torch.tensor(
            [[pad] * (width - len(ids)) + list(ids) for ids in prompt_ids], device=device
        )
        mask = torch.tensor([[0] * (width - len(ids)) + [1] * len(ids) for ids in prompt_ids], device=device)
        with torch.no_grad(), torch.autocast(device_type=device.type, enabled=False):
            completion_ids = sample_pruned(
                model,
                input_ids,
                mask,
                self._rollout_seeds(len(prompt_ids)),
                self.max_completion_length,
                set(self.eos_token_ids),
                self.temperature,
                self.top_p,
            )
        return (completion_ids, None) if self._returns_logprobs else completion_ids
