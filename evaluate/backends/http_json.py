"""JSON over HTTP with the standard library, and which failures a retry may cure."""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request


class RetryableError(Exception):
    """The server did not answer, timed out, dropped the connection, or said 5xx / 429 / 408: try again."""


class RequestRefused(Exception):
    """The server answered 4xx to this request: a retry would get the same answer."""


def normalize_base_url(url: str) -> str:
    """`http://host:8000`, `http://host:8000/` and `http://host:8000/v1` all name the same server."""
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ValueError(
            f"--base-url {url!r} must start with http:// or https:// (e.g. http://127.0.0.1:8000)"
        )
    return url.removesuffix("/v1")


def request_json(
    url: str, payload: dict | None = None, api_key: str | None = None, timeout: float = 60.0
) -> dict:
    """GET (payload None) or POST one JSON document; RetryableError or RequestRefused when it fails."""
    data = None if payload is None else json.dumps(payload).encode()
    headers = {"Accept": "application/json"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    request = urllib.request.Request(
        url, data=data, headers=headers, method="GET" if data is None else "POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read()[:300].decode(errors="replace").strip()
        if exc.code in (408, 429) or exc.code >= 500:
            raise RetryableError(f"HTTP {exc.code} {detail}") from exc
        raise RequestRefused(f"HTTP {exc.code} {detail}") from exc
    except (TimeoutError, urllib.error.URLError, http.client.HTTPException, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise RetryableError(f"{type(exc).__name__}: {reason}") from exc
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RetryableError(f"an unreadable answer ({body[:80]!r})") from exc
