"""Keeping secrets out of every message ekb prints.

Credentials reach ekb in URLs (``https://user:pass@host/``, ``?access-token=``),
environment variables and netrc files. Each place that reads one registers it
here (:func:`remember_secret`), and :func:`redact_text` — applied to every
error message by :func:`kb.cli.common.handle_errors` — masks the registered
secrets, any URL userinfo and the values of token-like query parameters, so a
message built from a server's answer or a library's exception cannot leak one.
Standard library only: the command line imports it on every run.
"""

from __future__ import annotations

import re
import urllib.parse

MASK = "***"

#: Query-string parameters that carry secrets on some stores (QLever takes
#: ``access-token``); their values are masked wherever a URL is shown.
SECRET_PARAMS = frozenset(
    {
        "access-token",
        "access_token",
        "token",
        "auth",
        "password",
        "passwd",
        "pwd",
        "secret",
        "key",
        "apikey",
        "api_key",
        "api-key",
    }
)

_secrets: set[str] = set()

# userinfo in any URL-like text: scheme://user[:password]@
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/@\s'\"<>]+@")
_PARAM = re.compile(
    r"(?P<key>(?<![A-Za-z0-9_-])(?:"
    + "|".join(re.escape(k) for k in sorted(SECRET_PARAMS, key=len, reverse=True))
    + r"))=(?P<value>[^&#\s'\"<>]+)",
    re.IGNORECASE,
)


def remember_secret(secret: str | None) -> None:
    """Mask ``secret`` in every later message (short strings are not worth masking)."""
    if secret and len(secret) >= 3:
        _secrets.add(secret)
        quoted = urllib.parse.quote(secret, safe="")
        if quoted != secret:
            _secrets.add(quoted)


def redact_text(text: str) -> str:
    """``text`` with registered secrets, URL userinfo and secret parameters masked.

    >>> redact_text("https://alice:s3cret@db.example.org/q?access-token=abc&x=1 failed")
    'https://***@db.example.org/q?access-token=***&x=1 failed'
    """
    for secret in sorted(_secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    text = _USERINFO.sub(lambda m: m.group("scheme") + MASK + "@", text)
    return _PARAM.sub(lambda m: m.group("key") + "=" + MASK, text)


def redact_url(url: str) -> str:
    """``url`` without userinfo, and with secret query parameters masked.

    >>> redact_url("https://alice:s3cret@db.example.org:7878/query")
    'https://***@db.example.org:7878/query'
    >>> redact_url("http://localhost:7019/?access-token=abc&graph=x")
    'http://localhost:7019/?access-token=***&graph=x'
    """
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    netloc = parts.netloc
    if "@" in netloc:
        netloc = MASK + "@" + netloc.rsplit("@", 1)[1]
    query = parts.query
    if query:
        pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
        if any(k.lower() in SECRET_PARAMS for k, _ in pairs):
            masked = [(k, MASK if k.lower() in SECRET_PARAMS else v) for k, v in pairs]
            query = "&".join(
                f"{urllib.parse.quote(k)}={urllib.parse.quote(v, safe=':/*')}" for k, v in masked
            )
    return redact_text(
        urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    )


def remember_url_secrets(url: str) -> None:
    """Register the password and secret query-parameter values of ``url``."""
    try:
        parts = urllib.parse.urlsplit(url)
        remember_secret(urllib.parse.unquote(parts.password) if parts.password else None)
        for key, value in urllib.parse.parse_qsl(parts.query, keep_blank_values=True):
            if key.lower() in SECRET_PARAMS:
                remember_secret(value)
    except ValueError:
        return


__all__ = [
    "MASK",
    "SECRET_PARAMS",
    "redact_text",
    "redact_url",
    "remember_secret",
    "remember_url_secrets",
]
