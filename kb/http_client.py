"""HTTP requests to stores with the guarantees urllib lacks, shared by queries and pushes.

Written on :mod:`urllib.request` (standard library), with two additions no
library used here offers:

* **Redirects keep credentials at home.** urllib's redirect handler copies
  every header, ``Authorization`` included, to whatever host a server
  redirects to. Here a redirect to another origin (scheme, host, port) is
  followed without credentials for a query, and not at all for an upload:
  a redirected push either reaches the same origin with its body intact
  (307/308) or fails — a 301/302/303 turns a POST into a body-less GET whose
  "200 OK" would report data stored that never was.
* **The timeout bounds the whole request.** urllib's timeout applies to each
  socket operation, so a server that trickles one byte every half second
  holds a request for ever. :func:`send` runs the request in a worker thread
  and gives up at the deadline (the thread is a daemon and dies with ekb).

Bodies are read whole, up to :data:`MAX_BODY_BYTES`.
"""

from __future__ import annotations

import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from http.client import HTTPMessage
from typing import IO, Any, Literal

#: Largest response body read from a store (a lying server may send for ever).
MAX_BODY_BYTES = 512 * 1024 * 1024

Mode = Literal["query", "upload"]


class RedirectRefused(urllib.error.URLError):
    """A redirect that an upload must not follow (see the module docstring)."""


class BodyTooLarge(urllib.error.URLError):
    """The server sent more than :data:`MAX_BODY_BYTES`."""


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) with the default port made explicit."""
    parts = urllib.parse.urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


class _Redirects(urllib.request.HTTPRedirectHandler):
    def __init__(self, mode: Mode) -> None:
        self.mode = mode

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        same = origin(newurl) == origin(req.full_url)
        if self.mode == "upload":
            if not same:
                raise RedirectRefused(
                    f"the store redirected the upload to another server (HTTP {code}); "
                    "nothing is sent there, and the data did not reach a store"
                )
            if code not in (307, 308):
                raise RedirectRefused(
                    f"the store redirected the upload (HTTP {code}), which would drop its body;"
                    " the data did not reach a store: use the URL it redirects to"
                )
            upload = urllib.request.Request(
                newurl,
                data=req.data,
                headers=dict(req.header_items()),
                method=req.get_method(),
            )
            return upload
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and not same:
            for name in list(new.headers):
                if name.lower() in ("authorization", "cookie"):
                    del new.headers[name]
            new.unredirected_hdrs.pop("Authorization", None)
        return new


def build_opener(
    mode: Mode, *handlers: urllib.request.BaseHandler
) -> urllib.request.OpenerDirector:
    """An opener whose redirects follow :class:`_Redirects` for ``mode``."""
    return urllib.request.build_opener(_Redirects(mode), *handlers)


@dataclass(frozen=True)
class Response:
    status: int
    content_type: str
    body: bytes
    #: True when a redirect was followed on the way.
    redirected: bool


def send(
    opener: urllib.request.OpenerDirector, request: urllib.request.Request, timeout: float
) -> Response:
    """Open ``request`` and read the whole body within ``timeout`` seconds in all.

    :raises urllib.error.HTTPError: the server answered with an error status.
    :raises TimeoutError: the deadline passed.
    :raises urllib.error.URLError, OSError, ValueError: as urllib raises them.
    """
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            with opener.open(request, timeout=timeout) as response:
                body = response.read(MAX_BODY_BYTES + 1)
                if len(body) > MAX_BODY_BYTES:
                    raise BodyTooLarge(f"the answer is larger than {MAX_BODY_BYTES} bytes")
                outcome["response"] = Response(
                    status=response.status,
                    content_type=(response.headers.get("Content-Type", "") or "")
                    .split(";")[0]
                    .strip()
                    .lower(),
                    body=body,
                    redirected=response.geturl() != request.full_url,
                )
        except BaseException as exc:  # handed to the caller's thread below
            outcome["error"] = exc

    worker = threading.Thread(target=work, name="ekb-http", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise TimeoutError(f"no complete answer within {timeout:g} s")
    if "error" in outcome:
        raise outcome["error"]
    response: Response = outcome["response"]
    return response


__all__ = ["MAX_BODY_BYTES", "BodyTooLarge", "RedirectRefused", "Response", "build_opener", "send"]
