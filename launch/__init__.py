"""Accelerate configs (launch/accelerate/*.yaml) and SLURM templates (launch/slurm/*.sbatch), installed as
rlvr.launch so that `rlvr sweep` finds them without a checkout (see launch/README.md)."""
