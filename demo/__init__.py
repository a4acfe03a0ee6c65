"""`rlvr demo`: the whole story offline on a laptop CPU (task, base model, GRPO with the probe, report)."""
