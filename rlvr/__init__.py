"""rlvr: train LLMs with RL from verifiable rewards, and measure what it did to the reasoning boundary."""

from rlvr.threads import quiet_waits

quiet_waits()  # before torch loads OpenMP: idle threads sleep rather than spin (speed only, see rlvr/threads.py)

__version__ = "0.1.0"
