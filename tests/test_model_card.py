"""The model card of a trained run names its base model (TRL wrote "a fine-tuned version of [None]")."""

from __future__ import annotations

from pathlib import Path

from test_train import localized

from rlvr.train.recipe import load_recipe


def test_the_model_card_names_the_base_model(tmp_path):
    from rlvr.train.build import train
    from rlvr.train.tiny_task import write_task

    task = write_task(tmp_path / "task", train=8, probe=2)
    recipe = load_recipe(
        localized("grpo.yaml", task, tmp_path), ["probe.enabled=false", "trainer.max_steps=1"]
    )
    out = Path(train(recipe))
    card = (out / "README.md").read_text()
    assert f"This model is a fine-tuned version of `{task / 'model'}` (a local model)" in card, card
    assert "None" not in card.split("## Quick start")[0]
