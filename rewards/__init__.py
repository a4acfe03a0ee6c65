"""Verifiable rewards. Each is a TRL reward function and, for graders, the evaluation's grader."""

from rlvr.rewards.code_reward import CodeReward
from rlvr.rewards.math_reward import MathReward
from rlvr.rewards.registry import get_reward, is_grader, register_reward, reward_names
from rlvr.rewards.verdict import Grade

__all__ = ["CodeReward", "Grade", "MathReward", "get_reward", "is_grader", "register_reward", "reward_names"]
