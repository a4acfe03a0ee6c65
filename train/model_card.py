"""The model card TRL writes beside checkpoints names the base model.

TRL takes the base from the model config's `_name_or_path` and drops it when that is a local directory, so a run
from `runs/tiny/model` or a converted GGUF said "a fine-tuned version of [None](https://huggingface.co/None)". A Hub
id stays TRL's own link; a local base is named by its path, without a link.
"""

from __future__ import annotations

from pathlib import Path

TRL_NO_BASE = "[None](https://huggingface.co/None)"


def name_the_base(trainer, base: str):
    """`trainer` with its create_model_card rewriting TRL's missing base as `base`; returns the trainer."""
    write_card = trainer.create_model_card

    def create_model_card(*args, **kwargs):
        write_card(*args, **kwargs)
        card = Path(trainer.args.output_dir) / "README.md"
        if trainer.is_world_process_zero() and card.exists():
            text = card.read_text()
            if TRL_NO_BASE in text:
                card.write_text(text.replace(TRL_NO_BASE, f"`{base}` (a local model)"))

    trainer.create_model_card = create_model_card
    return trainer
