"""OpenAI-compatible backend: samples from inference servers already running (vLLM, SGLang, TGI, llama.cpp).

One HTTP request per sample (n=1) carrying the sample's own seed, so a sample does not depend on which
request shares its batch, its server, or the run that sent it. At most `concurrency` requests are in flight,
each on the least busy URL; the calls given to `stream` are pulled lazily, only when a request slot is free, and
an empty call means "nothing to send yet" (the sequential rule opens requests only for problems still open).

Requests: /v1/completions with the prompt rlvr rendered (the chat template already applied, exactly the text
the in-process backends sample from), or /v1/chat/completions with the template's messages when asked
(`--api chat`), the server then applying its own chat template. A request that fails is retried with backoff,
on another URL where there is one; when one runs out of tries the run stops: every finished sample is handed
back first (so stored), and the error says what resumes it. Before the first sample, one request is sent twice
with the same seed: different texts mean the server ignores `seed`, said once and noted in the store.
"""

from __future__ import annotations

import queue
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator

from rlvr.evaluate.backends.base import Generation, SamplingSettings, extra_sampling
from rlvr.evaluate.backends.http_json import RequestRefused, RetryableError, request_json
from rlvr.evaluate.backends.openai_server import ServerInfo, api_key
from rlvr.evaluate.plan import Request
from rlvr.evaluate.stop_strings import cut_at_stop

FINISHED_PER_BATCH = 64  # finished samples handed to grading and the store together
YIELD_EVERY_S = 1.0  # ... or sooner, once this long has passed since the last batch
IDLE_SLEEP_S = 0.05  # an empty call with nothing in flight: ask again after this
DOWN_FOR_S = 10.0  # a URL that failed is passed over this long while another one is up
APIS = ("completions", "chat")


class ServerUnavailable(ValueError):
    """A request ran out of tries. A ValueError, so `rlvr` prints it as one line (exit 2), not a traceback."""


def backoff_s(attempt: int, base: float = 0.5, cap: float = 20.0) -> float:
    return min(cap, base * 2**attempt)


def resume_command() -> str:
    from rlvr.evaluate.runner import provenance

    return provenance()["command"]


class OpenAIBackend:
    name = "openai"
    polls_calls = True  # asks for the next call while requests run: a lazy planner must not block it
    device = "server"  # not "cpu": the graders may start their own worker beside the requests

    def __init__(
        self,
        model: str,
        server: ServerInfo,
        concurrency: int = 256,
        api: str = "completions",
        messages: dict[str, list[dict]] | None = None,
        request_timeout: float = 1800.0,
        retries: int = 8,
        note: Callable[[str, object], None] | None = None,
    ) -> None:
        """`model` is the local tokenizer's directory (token counts where a server reports none; whether a
        prompt would get a BOS twice); `messages` (problem id -> chat messages) is needed for api='chat'."""
        if concurrency < 1:
            raise ValueError(f"--concurrency must be at least 1 (requests in flight), not {concurrency}")
        if api not in APIS:
            raise ValueError(f"--api must be one of {APIS}, not {api!r}")
        if api == "chat" and messages is None:
            raise ValueError("--api chat needs the problems' chat messages")
        from transformers import AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(model)
        self.server = server
        self.concurrency = concurrency
        self.api = api
        self.messages = messages
        self.request_timeout = request_timeout
        self.retries = retries
        self.note = note
        self.api_key = api_key()
        self._lock = threading.Lock()
        self._busy = {url: 0 for url in server.urls}
        self._down_until = {url: 0.0 for url in server.urls}
        self._stop = threading.Event()
        self._seed_checked = False
        # whether the tokenizer adds special tokens (a BOS) to plain text, as a server tokenizing the prompt would
        self._adds_bos = (
            self.tokenizer("a")["input_ids"] != self.tokenizer("a", add_special_tokens=False)["input_ids"]
        )

    def samples_per_call(self, prompt_tokens: int, max_tokens: int) -> int:
        """Calls as large as the requests kept in flight: the servers' schedulers batch them."""
        return self.concurrency

    # --- one request ---------------------------------------------------------------------------------------

    def _payload(self, request: Request, seed: int, settings: SamplingSettings) -> tuple[str, dict]:
        payload = {
            "model": self.server.served_model,
            "n": 1,
            "seed": seed,
            "temperature": settings.temperature,
            "top_p": settings.top_p,
            "max_tokens": settings.max_tokens,
            # top_k and min_p are vLLM's extra sampling parameters; servers that fill them are sent them off too
            **extra_sampling(settings, explicit=bool(self.server.meta()["sent_when_off"])),
        }
        if self.api == "chat":
            return "/v1/chat/completions", {**payload, "messages": self.messages[request.problem]}
        if self._adds_bos:  # the rendered prompt holds it already, as the in-process backends assume
            payload["add_special_tokens"] = False  # vLLM's field
        return "/v1/completions", {**payload, "prompt": request.prompt}

    def _pick_url(self, avoid: str | None) -> str:
        with self._lock:
            now = time.monotonic()
            urls = [u for u in self.server.urls if u != avoid] or list(self.server.urls)
            up = [u for u in urls if self._down_until[u] <= now] or urls
            url = min(up, key=lambda u: self._busy[u])
            self._busy[url] += 1
            return url

    def _release(self, url: str, failed: bool) -> None:
        with self._lock:
            self._busy[url] -= 1
            if failed:
                self._down_until[url] = time.monotonic() + DOWN_FOR_S

    def _generation(self, answer: dict, stop: tuple[str, ...] = ()) -> Generation:
        choice = answer["choices"][0]
        text = choice["message"]["content"] if self.api == "chat" else choice["text"]
        text = text or ""
        usage = answer.get("usage") or {}
        tokens = usage.get("completion_tokens")
        if tokens is None:
            tokens = len(self.tokenizer(text, add_special_tokens=False)["input_ids"])
        finish = "length" if choice.get("finish_reason") == "length" else "stop"
        # vLLM cuts a stop string from the text; a server that keeps it (or ignores `stop`) is cut here alike
        before_stop = cut_at_stop(text, stop) if stop else None
        if before_stop is not None:
            text, finish = before_stop, "stop"
        return Generation(text, int(tokens), finish)

    def _sample(self, request: Request, seed: int, settings: SamplingSettings) -> Generation:
        """One sample, retried with backoff (on another URL where there is one) until it runs out of tries."""
        path, payload = self._payload(request, seed, settings)
        url, error = None, None
        for attempt in range(self.retries + 1):
            if attempt and self._stop.is_set():
                break  # another request already ran out of tries: the run is stopping
            url = self._pick_url(avoid=url if error else None)
            try:
                answer = request_json(f"{url}{path}", payload, self.api_key, self.request_timeout)
                generation = self._generation(answer, settings.stop)
            except RetryableError as exc:
                self._release(url, failed=True)
                error = exc
                if attempt < self.retries:
                    self._stop.wait(backoff_s(attempt))
                continue
            except RequestRefused as exc:
                self._release(url, failed=False)
                raise ValueError(
                    f"the server at {url} refused a request of problem {request.problem} ({exc}); "
                    "check --max-tokens against its context length and --api against what it serves"
                ) from exc
            except (KeyError, IndexError, TypeError) as exc:
                self._release(url, failed=False)
                raise ValueError(
                    f"the server at {url} answered without a completion: {answer!r:.200}"
                ) from exc
            self._release(url, failed=False)
            return generation
        self._stop.set()
        raise ServerUnavailable(
            f"the server at {url} did not answer after {self.retries + 1} tries ({error}); every finished "
            f"sample is stored: start the server again and rerun the same command to resume: {resume_command()}"
        )

    def _check_seed(self, request: Request, seed: int, settings: SamplingSettings) -> Generation:
        """The first sample twice with one seed, alone on the servers: two texts mean `seed` is ignored."""
        first = self._sample(request, seed, settings)
        if settings.temperature > 0:
            again = self._sample(request, seed, settings)
            ignored = again.text != first.text
            if ignored:
                print(
                    f"rlvr: the server at {', '.join(self.server.urls)} gave two different samples for one seed: it "
                    "ignores `seed` (or samples nondeterministically), so this store's samples cannot be "
                    "reproduced; sampling goes on, and meta.json records server_ignores_seed",
                    file=sys.stderr,
                    flush=True,
                )
            if self.note is not None:
                self.note("server_ignores_seed", ignored)
        self._seed_checked = True
        return first

    # --- the stream ----------------------------------------------------------------------------------------

    def stream(
        self, calls: Iterable[list[Request]], settings: SamplingSettings, chunk_size: int | None = None
    ) -> Iterator[list[tuple[Request, list[Generation]]]]:
        """Finished samples in small batches as they complete; calls pulled only when a slot is free (the
        request pool, not `chunk_size`, bounds what is in flight)."""
        calls = iter(calls)
        queued: deque[tuple[Request, int]] = deque()  # single samples of pulled calls, not yet sent
        answers: queue.SimpleQueue = queue.SimpleQueue()  # (request, Generation or the error) as they finish
        in_flight = 0
        finished: list[tuple[Request, list[Generation]]] = []
        failure: BaseException | None = None
        exhausted = False
        last_yield = time.monotonic()
        self._stop.clear()

        def send(single: Request) -> None:
            try:
                answers.put((single, self._sample(single, single.seeds[0], settings)))
            except BaseException as exc:  # noqa: BLE001 - handed to the stream, which raises it
                answers.put((single, exc))

        try:
            while True:
                idle = False  # the caller has nothing to send right now
                while failure is None and in_flight < self.concurrency:
                    if not queued:
                        if exhausted:
                            break
                        call = next(calls, None)
                        if call is None:
                            exhausted = True
                            break
                        if not call:
                            idle = True
                            break
                        queued.extend((r, i) for r in call for i in range(len(r.samples)))
                    request, i = queued.popleft()
                    single = Request(
                        request.problem, request.prompt, (request.samples[i],), (request.seeds[i],)
                    )
                    if not self._seed_checked:
                        try:
                            finished.append((single, [self._check_seed(single, single.seeds[0], settings)]))
                        except ValueError as exc:
                            failure = exc
                        continue
                    # daemon threads: a Ctrl-C or an error does not wait for requests still on the servers
                    threading.Thread(target=send, args=(single,), daemon=True, name="rlvr-openai").start()
                    in_flight += 1
                if finished and (
                    idle
                    or not in_flight
                    or len(finished) >= FINISHED_PER_BATCH
                    or time.monotonic() - last_yield >= YIELD_EVERY_S
                ):
                    yield finished
                    finished, last_yield = [], time.monotonic()
                    continue  # the caller may have more to send now
                if not in_flight:
                    if failure is not None or (exhausted and not queued):
                        break
                    if idle:
                        time.sleep(IDLE_SLEEP_S)
                    continue
                try:
                    done = [answers.get(timeout=YIELD_EVERY_S)]
                except queue.Empty:
                    continue
                while True:
                    try:
                        done.append(answers.get_nowait())
                    except queue.Empty:
                        break
                for single, answer in done:
                    in_flight -= 1
                    if isinstance(answer, Generation):
                        finished.append((single, [answer]))
                    else:
                        failure = failure or answer
                        self._stop.set()
        finally:
            self._stop.set()  # retries end; requests still on the servers are left to their daemon threads
        if finished:
            yield finished
        if failure is not None:
            raise failure
