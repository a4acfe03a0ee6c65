"""Prompt templates. Each gives a system line and the user's text; rendered through the tokenizer's chat
template when it has one, or as the template's raw text otherwise (selectable)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Template:
    name: str
    system: str | None
    user: str  # formatted with {problem}
    raw: str  # the whole prompt for models without a chat template, formatted with {problem}


TEMPLATES: dict[str, Template] = {
    # The paper's (SimpleRL-Zoo's) prompt.
    "qwen-boxed": Template(
        "qwen-boxed",
        "Please reason step by step, and put your final answer within \\boxed{}.",
        "{problem}",
        "<|im_start|>system\nPlease reason step by step, and put your final answer within \\boxed{{}}.<|im_end|>\n"
        "<|im_start|>user\n{problem}<|im_end|>\n<|im_start|>assistant\n",
    ),
    "r1": Template(
        "r1",
        "A conversation between User and Assistant. The Assistant first thinks about the reasoning process in "
        "its mind and then provides the answer. The reasoning process and answer are enclosed within <think> "
        "</think> and <answer> </answer> tags.",
        "{problem}",
        "A conversation between User and Assistant. The Assistant first thinks about the reasoning process in "
        "its mind and then provides the answer. The reasoning process and answer are enclosed within <think> "
        "</think> and <answer> </answer> tags.\nUser: {problem}\nAssistant: <think>",
    ),
    "plain": Template("plain", None, "{problem}", "Question: {problem}\nAnswer:"),
    "code": Template(
        "code",
        None,
        "{problem}\n\nWrite a complete Python solution in a ```python code block.",
        "{problem}\n\nWrite a complete Python solution in a ```python code block.\n```python\n",
    ),
}

CHAT_MODES = ("auto", "chat", "raw")


def get_template(name: str) -> Template:
    if name not in TEMPLATES:
        raise ValueError(f"unknown template {name!r}; choose one of {', '.join(TEMPLATES)}")
    return TEMPLATES[name]


def render(template: Template, problem: str, tokenizer=None, chat: str = "auto") -> str:
    """The prompt text for one problem. chat='auto' uses the tokenizer's chat template when it has one."""
    if chat not in CHAT_MODES:
        raise ValueError(f"chat mode must be one of {CHAT_MODES}, got {chat!r}")
    has_chat = tokenizer is not None and getattr(tokenizer, "chat_template", None)
    if chat == "chat" and not has_chat:
        raise ValueError("--chat chat was asked for but the tokenizer has no chat template; use --chat raw")
    if chat == "raw" or not has_chat:
        return template.raw.format(problem=problem)
    messages = ([{"role": "system", "content": template.system}] if template.system else [])
    messages.append({"role": "user", "content": template.user.format(problem=problem)})
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)


def messages_for(template: Template, problem: str) -> list[dict]:
    """Conversational prompt for TRL trainers."""
    messages = [{"role": "system", "content": template.system}] if template.system else []
    messages.append({"role": "user", "content": template.user.format(problem=problem)})
    return messages
