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
with the same seed to every URL: different texts from one URL mean it ignores `seed`, different texts from two
URLs mean they sample differently; either is said once and noted in the store.

A completion whose server counted the prompt's tokens otherwise than --model's tokenizer does stops the run
(another model behind the name, or a BOS added twice). An answer is stored only as what it is: cut at --max-tokens (`length`, and no fewer tokens than that where the
server counts them) or finished (`stop`); a server that gave up on a request (`abort`) is asked again, and one
that cut a sample shorter, ran past --max-tokens, or gave a reason rlvr cannot read stops the run.
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
from rlvr.evaluate.backends.openai_server import ServerChanged, ServerInfo, api_key, check_still_serving
from rlvr.evaluate.plan import Request
from rlvr.evaluate.stop_strings import cut_at_stop

FINISHED_PER_BATCH = 64  # finished samples handed to grading and the store together
YIELD_EVERY_S = 1.0  # ... or sooner, once this long has passed since the last batch
IDLE_SLEEP_S = 0.05  # an empty call with nothing in flight: ask again after this
DOWN_FOR_S = 10.0  # a URL that failed is passed over this long while another one is up
APIS = ("completions", "chat")
FINISHED = ("stop", "eos_token", "stop_sequence", "eos")  # the servers' words for a sample that ended itself
GAVE_UP = ("abort", "error")  # the server dropped the request part way (vLLM, SGLang): its text is cut short


class UnusableAnswer(ValueError):
    """A server's answer that would store a sample as something it is not."""


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
        self._unchecked: set[str] = set()  # URLs that failed: asked what they serve before their next request
        self._check_locks = {url: threading.Lock() for url in server.urls}
        self._stop = threading.Event()
        self._seed_checked = False
        # whether the tokenizer adds special tokens (a BOS) to plain text, as a server tokenizing the prompt would
        self._prompt_lengths: dict[str, int] = {}
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
            **extra_sampling(settings, explicit=self.server.fills_settings_left_out),
        }
        if self.api == "chat":
            return "/v1/chat/completions", {**payload, "messages": self.messages[request.problem]}
        if self._adds_bos:  # the rendered prompt holds it already, as the in-process backends assume
            payload["add_special_tokens"] = False  # vLLM's field
        return "/v1/completions", {**payload, "prompt": request.prompt}

    def _pick_url(self, avoid: str | None, only: str | None = None) -> str:
        with self._lock:
            if only is not None:
                self._busy[only] += 1
                return only
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
                self._unchecked.add(url)

    def _check_still_serving(self, url: str) -> None:
        """A URL that failed may have been restarted with another model: asked once, before its next request."""
        if url not in self._unchecked:
            return
        with self._check_locks[url]:
            if url in self._unchecked:
                check_still_serving(url, self.server)
                self._unchecked.discard(url)

    def _prompt_tokens(self, prompt: str) -> int:
        """The rendered prompt's length in --model's tokenizer, as a server honouring the request counts it."""
        if prompt not in self._prompt_lengths:
            self._prompt_lengths[prompt] = len(self.tokenizer(prompt, add_special_tokens=False)["input_ids"])
        return self._prompt_lengths[prompt]

    def _generation(
        self, answer: dict, max_tokens: int, prompt: str, stop: tuple[str, ...] = ()
    ) -> Generation:
        usage = answer.get("usage") or {}
        said = usage.get("prompt_tokens")
        if self.api == "completions" and said is not None and int(said) != self._prompt_tokens(prompt):
            raise UnusableAnswer(
                f"{int(said)} prompt tokens where --model's tokenizer counts {self._prompt_tokens(prompt)}: it "
                "tokenizes the prompt otherwise, so it serves another model than --model, or added a BOS before "
                "the rendered one (a server that ignores add_special_tokens); serve --model, or use --api chat"
            )
        if len(answer["choices"]) != 1:
            raise UnusableAnswer(
                f"{len(answer['choices'])} choices to a request for one (n: 1): it does not honour n"
            )
        choice = answer["choices"][0]
        text = choice["message"]["content"] if self.api == "chat" else choice["text"]
        text = text or ""
        reason = choice.get("finish_reason")
        if reason in GAVE_UP:
            raise RetryableError(f"finish_reason {reason!r}: the server gave up on the request")
        if reason != "length" and reason not in FINISHED:
            raise UnusableAnswer(
                f"finish_reason {reason!r}, neither a finished sample (stop) nor one cut at --max-tokens (length)"
            )
        tokens = usage.get("completion_tokens")
        if tokens is not None and int(tokens) > max_tokens:
            raise UnusableAnswer(
                f"{int(tokens)} tokens, more than --max-tokens {max_tokens}: it does not honour max_tokens"
            )
        if tokens is not None and reason == "length" and int(tokens) < max_tokens:
            raise UnusableAnswer(
                f"a sample cut (finish_reason length) at {int(tokens)} tokens, before --max-tokens {max_tokens}: "
                "its context or its own token limit is shorter, and the store would record a cut it did not ask "
                "for; start it with a longer context (vLLM: --max-model-len), or lower --max-tokens"
            )
        if tokens is None:
            tokens = len(self.tokenizer(text, add_special_tokens=False)["input_ids"])
        finish = "length" if reason == "length" else "stop"
        # vLLM cuts a stop string from the text; a server that keeps it (or ignores `stop`) is cut here alike
        before_stop = cut_at_stop(text, stop) if stop else None
        if before_stop is not None:
            text, finish = before_stop, "stop"
        return Generation(text, int(tokens), finish)

    def _sample(
        self, request: Request, seed: int, settings: SamplingSettings, only: str | None = None
    ) -> Generation:
        """One sample, retried with backoff (on another URL where there is one, unless `only` names the URL)
        until it runs out of tries."""
        path, payload = self._payload(request, seed, settings)
        url, error = None, None
        for attempt in range(self.retries + 1):
            if attempt and self._stop.is_set():
                break  # another request already ran out of tries: the run is stopping
            url = self._pick_url(avoid=url if error else None, only=only)
            try:
                self._check_still_serving(url)
                answer = request_json(f"{url}{path}", payload, self.api_key, self.request_timeout)
                self._check_still_serving(url)  # it failed while this request ran: whose answer is this?
                generation = self._generation(answer, settings.max_tokens, request.prompt, settings.stop)
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
            except ServerChanged:
                self._release(url, failed=False)
                raise
            except UnusableAnswer as exc:
                self._release(url, failed=False)
                raise ValueError(
                    f"the server at {url} answered a request of problem {request.problem} with {exc}"
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
        """The first sample twice with one seed on every URL at once, alone on each: two texts from one URL
        mean it ignores `seed`; two URLs with different texts sample the model differently (another build,
        precision or GPU), so which URL drew a sample would decide it. Checking one URL only would miss a
        replica that ignores seeds while the first honours them."""
        urls = self.server.urls
        tries = 2 if settings.temperature > 0 else 1
        if tries == 1 and len(urls) == 1:
            self._seed_checked = True
            return self._sample(request, seed, settings)
        texts: dict[str, list[Generation]] = {}
        errors: list[BaseException] = []

        def check(url: str) -> None:
            try:
                texts[url] = [self._sample(request, seed, settings, only=url) for _ in range(tries)]
            except BaseException as exc:  # noqa: BLE001 - raised below, in the stream's thread
                errors.append(exc)

        threads = [threading.Thread(target=check, args=(url,), daemon=True) for url in urls]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]
        ignoring = [url for url in urls if len({g.text for g in texts[url]}) > 1]
        if ignoring:
            print(
                f"rlvr: the server at {', '.join(ignoring)} gave two different samples for one seed: it ignores "
                "`seed` (or samples nondeterministically), so this store's samples cannot be reproduced; "
                "sampling goes on, and meta.json records server_ignores_seed",
                file=sys.stderr,
                flush=True,
            )
        if tries == 2 and self.note is not None:
            self.note("server_ignores_seed", bool(ignoring))
        if len(urls) > 1:
            disagree = len({texts[url][0].text for url in urls if url not in ignoring}) > 1
            if disagree:
                print(
                    f"rlvr: the servers at {', '.join(urls)} gave different samples for one seed (another build, "
                    "precision or GPU?): which server draws a sample decides it, so this store's samples cannot "
                    "be reproduced; sampling goes on, and meta.json records servers_disagree",
                    file=sys.stderr,
                    flush=True,
                )
            if self.note is not None:
                self.note("servers_disagree", disagree)
        self._seed_checked = True
        return texts[urls[0]][0]

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
