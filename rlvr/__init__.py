"""rlvr: train LLMs with RL from verifiable rewards, and measure what it did to the reasoning boundary."""

__version__ = "0.1.0"
