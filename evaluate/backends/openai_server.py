"""Which model a set of OpenAI-compatible servers serves, checked once before a store is opened.

Every URL must serve the same model: the one `--served-model` names, else the one whose id or root (vLLM
reports the path it loaded as `root`) is `--model`. Guessing from a lone served model is refused, so that a
server left running with another model (or another checkpoint, for the probe) never fills a store. Under one
name, every URL must also report the same root: vLLM's `--served-model-name` gives any checkpoint any name, so
the name alone does not say which weights answer; the store records the root beside the name. A URL that failed
mid-run (a restart?) is asked again what it serves before it gets another request.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from rlvr.evaluate.backends.http_json import RequestRefused, RetryableError, normalize_base_url, request_json

API_KEY_VARIABLES = ("RLVR_API_KEY", "OPENAI_API_KEY")


def api_key() -> str | None:
    """The key sent as `Authorization: Bearer ...`: RLVR_API_KEY, else OPENAI_API_KEY, else none."""
    return next((os.environ[v] for v in API_KEY_VARIABLES if os.environ.get(v)), None)


def parse_base_urls(base_url: str | None) -> list[str]:
    urls = [normalize_base_url(u) for u in (base_url or "").split(",") if u.strip()]
    if not urls:
        raise ValueError(
            "--backend openai needs --base-url URL[,URL,...] (e.g. http://127.0.0.1:8000, a server started "
            "with `python -m vllm.entrypoints.openai.api_server --model M`)"
        )
    return list(dict.fromkeys(urls))


# the sampling settings sent even when off to the servers that fill one left out from their own defaults: vLLM
# and SGLang from the model's generation_config.json (Qwen2.5's top_k 20), llama.cpp's from its own (top_k 40,
# min_p 0.05). /v1/models' owned_by names them
OFF_SENT = ("top_k", "min_p")
FILLING_SERVERS = ("vllm", "sglang", "llamacpp")


@dataclass(frozen=True)
class ServerInfo:
    urls: tuple[str, ...]
    served_model: str  # the name requests carry
    version: str | None  # GET /version (vLLM); None where a server does not say
    owned_by: str | None = None  # /v1/models' owned_by of the served model ("vllm" for vLLM's server)
    root: str | None = None  # the path the served model was loaded from (vLLM's `root`); None where not said
    url_versions: tuple[tuple[str, str | None], ...] = ()  # (url, its /version) as found at the start

    @property
    def fills_settings_left_out(self) -> bool:
        """Whether the server fills a top_k or min_p left out of a request from its own defaults (OFF_SENT are
        then sent even when off)."""
        return self.owned_by in FILLING_SERVERS

    def meta(self) -> dict:
        """What the store records of the servers (served_model, served_root and server_version are part of its
        identity: store.OPTIONAL_IDENTITY_KEYS)."""
        return {
            "served_model": self.served_model,
            "served_root": self.root,
            "server_version": self.version,
            "sent_when_off": list(OFF_SENT) if self.fills_settings_left_out else [],
        }


def _model_names(model: str, model_dir: str) -> set[str]:
    names = {model, model.rstrip("/"), str(model_dir), str(model_dir).rstrip("/")}
    for name in list(names):
        if Path(name).exists():
            names.add(str(Path(name).resolve()))
    return names


def _listed_models(url: str, key: str | None) -> list[dict]:
    """GET /v1/models' `data`: the models a server lists, as objects; one ValueError line for any other reply."""
    answer = request_json(f"{url}/v1/models", api_key=key, timeout=30)
    listed = answer.get("data", []) if isinstance(answer, dict) else None
    if not isinstance(listed, list):
        raise ValueError(
            f"--base-url {url}: GET /v1/models answered {answer!r:.120} where an OpenAI-compatible server lists "
            "{'data': [{'id': ...}, ...]}; point --base-url at the server's root (without /v1)"
        )
    return [m for m in listed if isinstance(m, dict)]


def discover(base_urls: list[str], model: str, model_dir: str, served_model: str | None = None) -> ServerInfo:
    """The served model's name and the servers' version; a ValueError naming the URL and the fix otherwise."""
    key = api_key()
    chosen, versions, roots, owners = None, {}, {}, set()
    for url in base_urls:
        try:
            listed = _listed_models(url, key)
        except (RetryableError, RequestRefused) as exc:
            raise ValueError(
                f"--base-url {url}: GET /v1/models failed ({exc}); start the server (or fix the URL / the key "
                f"in RLVR_API_KEY or OPENAI_API_KEY) and rerun"
            ) from exc
        ids = [m.get("id") for m in listed]
        if served_model is not None:
            name = served_model if served_model in ids else None
        else:
            wanted = _model_names(model, model_dir)
            name = next(
                (m.get("id") for m in listed if m.get("id") in wanted or str(m.get("root", "")) in wanted),
                None,
            )
        if name is None:
            asked = f"--served-model {served_model}" if served_model else f"--model {model}"
            raise ValueError(
                f"--base-url {url} serves {ids or 'no model'}, not {asked}; serve that model there, or pass "
                f"--served-model NAME when the served one is the same model under another name"
            )
        if chosen is not None and name != chosen:
            raise ValueError(f"--base-url {url} serves {name!r} but another URL serves {chosen!r}; one model")
        chosen = name
        entry = next(m for m in listed if m.get("id") == name)  # name is one of the listed ids
        owners.add(entry.get("owned_by"))
        roots[url] = None if entry.get("root") is None else str(entry["root"])
        versions[url] = _version(url, key)
    if len(set(roots.values())) > 1:
        said = ", ".join(f"{url} {root or 'no root'}" for url, root in roots.items())
        raise ValueError(
            f"the servers serve {chosen!r} from different roots ({said}): under one name they load other "
            f"weights, and one store holds one model's samples; serve the same path at every URL"
        )
    known = sorted({v for v in versions.values() if v is not None})
    owner = owners.pop() if len(owners) == 1 else None
    return ServerInfo(
        tuple(base_urls),
        chosen,
        ",".join(known) or None,
        owned_by=owner if isinstance(owner, str) else None,
        root=next(iter(roots.values()), None),
        url_versions=tuple(versions.items()),
    )


def _version(url: str, key: str | None, unanswered_is_none: bool = True) -> str | None:
    """GET /version's version; None where the server has no such page (or, unless asked otherwise, does not
    answer: a RetryableError is raised then)."""
    try:
        version = request_json(f"{url}/version", api_key=key, timeout=30).get("version")
    except RetryableError:
        if unanswered_is_none:
            return None
        raise
    except (RequestRefused, AttributeError):
        return None
    return None if version is None else str(version)


class ServerChanged(ValueError):
    """A URL now serves another model, checkpoint or version than when the run began."""


def check_still_serving(url: str, info: ServerInfo) -> None:
    """That `url`, which failed a request (it may have been restarted), serves what it served at the start: the
    same name from the same root, at the same version. RetryableError while it does not answer."""
    key = api_key()
    try:
        listed = _listed_models(url, key)
    except RequestRefused as exc:
        raise RetryableError(f"GET /v1/models: {exc}") from exc
    models = [m for m in listed if m.get("id") == info.served_model]
    root = None if not models or models[0].get("root") is None else str(models[0]["root"])
    version, was = _version(url, key, unanswered_is_none=False), dict(info.url_versions).get(url)
    if not models or root != info.root or version != was:
        now = f"{info.served_model!r} from {root}" if models else f"{[m.get('id') for m in listed]}"
        raise ServerChanged(
            f"the server at {url} now serves {now} (version {version}), not {info.served_model!r} from "
            f"{info.root} (version {was}) as when this run began: it was restarted with another model; every "
            f"sample drawn before is stored: serve that model there again and rerun the same command to resume"
        )
