"""Prompt templates. Each gives a system line and the user's text; rendered through the tokenizer's chat
template when it has one, or as the template's raw text otherwise (selectable). Your own: a template file
(Jinja, `.jinja`/`.j2`, with `{{ problem }}`; or Python format text with `{problem}`) and a system prompt,
as lm-eval's `--system_instruction` and open-r1's `system_prompt`."""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Template:
    name: str
    system: str | None
    user: str  # formatted with {problem}
    raw: str  # the whole prompt for models without a chat template, formatted with {problem}
    jinja: bool = False  # user and raw are Jinja templates with `problem`, not format strings

    def user_text(self, problem: str) -> str:
        return _fill(self.user, problem, self.jinja)

    def raw_text(self, problem: str) -> str:
        return _fill(self.raw, problem, self.jinja)


def _fill(text: str, problem: str, jinja: bool) -> str:
    if jinja:
        import jinja2

        return jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(text).render(problem=problem)
    return text.format(problem=problem)


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


def get_template(name: str, template_file: str | None = None, system_prompt: str | None = None) -> Template:
    """A named template, or the one in `template_file`; `system_prompt` replaces its system line (in raw
    rendering it comes first, then a blank line)."""
    if template_file:
        template = _from_file(Path(template_file))
    elif name not in TEMPLATES:
        raise ValueError(
            f"unknown template {name!r}; choose one of {', '.join(TEMPLATES)}, or give a template file"
        )
    else:
        template = TEMPLATES[name]
    if system_prompt:  # raw: the system prompt, a blank line, then the template's own text without its system
        body = template.user if template.system else template.raw
        template = dataclasses.replace(
            template,
            system=system_prompt,
            raw=_escape(system_prompt, template.jinja) + "\n\n" + body,
            name=f"{template.name}+system:{_digest(system_prompt)}",
        )
    return template


def _escape(text: str, jinja: bool) -> str:
    """Literal text inside a template (braces doubled for format strings, a raw block for Jinja)."""
    return "{% raw %}" + text + "{% endraw %}" if jinja else text.replace("{", "{{").replace("}", "}}")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _from_file(path: Path) -> Template:
    if not path.is_file():
        raise FileNotFoundError(f"--template-file {path} does not exist")
    text = path.read_text()
    jinja = path.suffix in (".jinja", ".j2")
    marker = "problem" if jinja else "{problem}"
    if marker not in text:
        raise ValueError(
            f"template file {path} never uses the problem: write {{{{ problem }}}} (Jinja) or {{problem}}"
        )
    return Template(f"file:{path.name}:{_digest(text)}", None, text, text, jinja)


def render(template: Template, problem: str, tokenizer=None, chat: str = "auto") -> str:
    """The prompt text for one problem. chat='auto' uses the tokenizer's chat template when it has one."""
    if chat not in CHAT_MODES:
        raise ValueError(f"chat mode must be one of {CHAT_MODES}, got {chat!r}")
    has_chat = tokenizer is not None and getattr(tokenizer, "chat_template", None)
    if chat == "chat" and not has_chat:
        raise ValueError("--chat chat was asked for but the tokenizer has no chat template; use --chat raw")
    if chat == "raw" or not has_chat:
        return template.raw_text(problem)
    return tokenizer.apply_chat_template(
        messages_for(template, problem), tokenize=False, add_generation_prompt=True
    )


def messages_for(template: Template, problem: str) -> list[dict]:
    """Conversational prompt for TRL trainers."""
    messages = [{"role": "system", "content": template.system}] if template.system else []
    messages.append({"role": "user", "content": template.user_text(problem)})
    return messages
