#!/usr/bin/env python3
"""Client-matrix driver for the Python ``httpx-sse`` library.

Usage::

    python httpx_sse_client.py '<json spec>'

The spec is a JSON object:

    url        string, required
    method     "GET" (default) or "POST"
    headers    object of extra request headers (optional)
    body       string or null: the POST body, sent as is
    until      event type that ends the run (exit 0), or null: the run ends
               when the (first) stream ends
    reconnect  boolean: reconnect the way httpx-sse users do (see README.md)
    timeoutMs  overall limit in milliseconds (default 30000)

Output: one JSON object per line on stdout, flushed after each line:

    {"kind":"encoding","name":...}                    the response's Content-Encoding
    {"kind":"open"}
    {"kind":"event","type":...,"id":...,"data":...}   one per object iter_sse() yields
    {"kind":"retry","ms":N}                           after an event that carries retry
    {"kind":"error","message":...}                    (+ "retrying":true when not fatal)
    {"kind":"end"}

Every object that ``EventSource.iter_sse()`` yields is reported, with no
filtering at all: an empty or id-only "event" is exactly what the matrix wants
to catch.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from typing import Any, Optional

import httpx
import httpx_sse

DEFAULT_TIMEOUT_MS = 30000
DEFAULT_RETRY_MS = 1000

_out_lock = threading.Lock()
_finished = False


def emit(obj: dict[str, Any]) -> None:
    line = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    with _out_lock:
        if _finished:
            return
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def finish(code: int, final: Optional[dict[str, Any]] = None) -> None:
    """Print the last line (if any) and leave at once, whatever other thread runs."""
    global _finished
    with _out_lock:
        if not _finished:
            _finished = True
            if final is not None:
                sys.stdout.write(json.dumps(final, ensure_ascii=False, separators=(",", ":")) + "\n")
            sys.stdout.flush()
    # os._exit: do not wait for a blocked read in the main thread or for
    # connection teardown; stdout was flushed above.
    os._exit(code)


def fail(message: str) -> None:
    finish(1, {"kind": "error", "message": message})


class Spec:
    def __init__(self, raw: dict[str, Any]) -> None:
        if not isinstance(raw, dict):
            raise ValueError("spec must be a JSON object")
        url = raw.get("url")
        if not isinstance(url, str) or not url:
            raise ValueError("spec.url must be a non-empty string")
        self.url: str = url
        method = raw.get("method") or "GET"
        if not isinstance(method, str) or method.upper() not in ("GET", "POST"):
            raise ValueError('spec.method must be "GET" or "POST"')
        self.method: str = method.upper()
        headers = raw.get("headers") or {}
        if not isinstance(headers, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
        ):
            raise ValueError("spec.headers must be an object of strings")
        self.headers: dict[str, str] = headers
        body = raw.get("body")
        if body is not None and not isinstance(body, str):
            raise ValueError("spec.body must be a string or null")
        self.body: Optional[str] = body
        until = raw.get("until")
        if until is not None and not isinstance(until, str):
            raise ValueError("spec.until must be a string or null")
        self.until: Optional[str] = until
        self.reconnect: bool = bool(raw.get("reconnect", False))
        timeout_ms = raw.get("timeoutMs", DEFAULT_TIMEOUT_MS)
        if timeout_ms is None:
            timeout_ms = DEFAULT_TIMEOUT_MS
        if not isinstance(timeout_ms, (int, float)) or timeout_ms <= 0:
            raise ValueError("spec.timeoutMs must be a positive number")
        self.timeout_ms: float = float(timeout_ms)


def start_watchdog(timeout_ms: float) -> None:
    def fire() -> None:
        fail(f"timeout: {int(timeout_ms)} ms passed")

    timer = threading.Timer(timeout_ms / 1000.0, fire)
    timer.daemon = True
    timer.start()


# Errors that mean "the connection failed" (server down, restarting, or the
# stream cut mid-way): with reconnect on, they are retried like a stream end.
CONNECTION_ERRORS = (
    httpx.TransportError,  # ConnectError, ReadError, RemoteProtocolError, ...
)


def run(spec: Spec) -> None:
    last_event_id: Optional[str] = None  # last non-empty sse.id seen
    retry_ms: int = DEFAULT_RETRY_MS  # last retry value seen
    after_failure = False  # previous attempt failed at the connection level

    # Timeouts: the overall limit is enforced by the watchdog; httpx's own
    # read timeout must not cut a quiet but healthy stream.
    timeout = httpx.Timeout(connect=spec.timeout_ms / 1000.0, read=None, write=None, pool=None)

    with httpx.Client(timeout=timeout) as client:
        while True:
            headers = dict(spec.headers)
            if last_event_id is not None:
                headers["Last-Event-ID"] = last_event_id
            kwargs: dict[str, Any] = {"headers": headers}
            if spec.body is not None:
                kwargs["content"] = spec.body.encode("utf-8")

            try:
                with httpx_sse.connect_sse(client, spec.method, spec.url, **kwargs) as source:
                    response = source.response
                    # httpx decodes it (br needs brotli, zstd zstandard).
                    emit({"kind": "encoding", "name": response.headers.get("content-encoding")})
                    ctype = response.headers.get("content-type", "")
                    if response.status_code != 200:
                        message = f"HTTP status {response.status_code}"
                        if spec.reconnect and after_failure:
                            emit({"kind": "error", "message": message, "retrying": True})
                            time.sleep(retry_ms / 1000.0)
                            continue
                        fail(message)
                    if "text/event-stream" not in ctype.partition(";")[0]:
                        fail(f"unexpected content-type {ctype!r}")
                    emit({"kind": "open"})
                    after_failure = False

                    for sse in source.iter_sse():
                        event_type = sse.event or "message"
                        emit(
                            {
                                "kind": "event",
                                "type": event_type,
                                "id": sse.id if sse.id else None,
                                "data": sse.data,
                            }
                        )
                        if sse.id:
                            last_event_id = sse.id
                        if sse.retry is not None:
                            retry_ms = sse.retry
                            emit({"kind": "retry", "ms": sse.retry})
                        if spec.until is not None and event_type == spec.until:
                            finish(0, {"kind": "end"})
            except CONNECTION_ERRORS as err:
                message = f"{type(err).__name__}: {err}"
                if not spec.reconnect:
                    fail(message)
                emit({"kind": "error", "message": message, "retrying": True})
                after_failure = True
                time.sleep(retry_ms / 1000.0)
                continue
            except httpx_sse.SSEError as err:
                fail(f"SSEError: {err}")

            # The stream ended normally.
            if spec.until is None:
                finish(0, {"kind": "end"})
            if not spec.reconnect:
                fail(f"stream ended before an event of type {spec.until!r}")
            time.sleep(retry_ms / 1000.0)


def main(argv: list[str]) -> None:
    # JSON lines are UTF-8 whatever the locale says.
    sys.stdout.reconfigure(encoding="utf-8")  # type: ignore[attr-defined]
    if len(argv) != 2:
        sys.stderr.write("usage: httpx_sse_client.py '<json spec>'\n")
        fail("usage: httpx_sse_client.py '<json spec>'")
    try:
        spec = Spec(json.loads(argv[1]))
    except (ValueError, json.JSONDecodeError) as err:
        fail(f"bad spec: {err}")
        return
    start_watchdog(spec.timeout_ms)
    try:
        run(spec)
    except Exception as err:  # anything unexpected is a reported failure
        fail(f"{type(err).__name__}: {err}")


if __name__ == "__main__":
    main(sys.argv)
