"""`accelerate launch tests/zero_train.py RECIPE [key=value ...]` (or torchrun): rlvr's training with its boundary
probe, plus one callback that writes how many parameter elements this rank holds once the trainer has prepared
the model (ZeRO-3 keeps a partition of each sharded parameter: `ds_tensor`) to OUTPUT_DIR/held-<rank>.json.
A hang dumps every thread's stack and exits (faulthandler) instead of waiting for the test's timeout."""

from __future__ import annotations

import faulthandler
import json
import os
import sys

faulthandler.dump_traceback_later(float(os.environ.get("RLVR_HANG_S", "420")), exit=True)

from transformers import TrainerCallback  # noqa: E402

from rlvr.train.build import build_config, build_trainer  # noqa: E402
from rlvr.train.probe_callback import BoundaryProbeCallback  # noqa: E402
from rlvr.train.recipe import load_recipe  # noqa: E402


class HeldParameters(TrainerCallback):
    def on_train_begin(self, args, state, control, model=None, **kwargs):
        params = list(model.parameters())
        held = sum(p.ds_tensor.numel() if hasattr(p, "ds_tensor") else p.numel() for p in params)
        full = sum(getattr(p, "ds_numel", p.numel()) for p in params)
        path = os.path.join(args.output_dir, f"held-{args.process_index}.json")
        os.makedirs(args.output_dir, exist_ok=True)
        with open(path, "w") as f:
            json.dump({"held": held, "full": full}, f)


if __name__ == "__main__":
    recipe = load_recipe(sys.argv[1], sys.argv[2:])
    config = build_config(recipe)
    callbacks = (
        [BoundaryProbeCallback(recipe), HeldParameters()] if recipe.probe.enabled else [HeldParameters()]
    )
    trainer = build_trainer(recipe, callbacks, config)
    trainer.train()
    trainer.save_model(str(recipe.output_dir / "final"))
    faulthandler.cancel_dump_traceback_later()
