"""A remote SPARQL 1.1 endpoint behind the same interface as the embedded store.

:class:`RemoteStore` sends queries (SPARQL 1.1 protocol) through
:mod:`kb.http_client` and hands back the
same :class:`kb.store.QueryResult` of rdflib terms as
:class:`kb.store.EmbeddedStore`, so every canned query, export and command runs
unchanged against Oxigraph server, Fuseki, Virtuoso, GraphDB, QLever or Neptune.

Credentials (shared with :mod:`kb.push`) come from, in this order: userinfo in
the URL (``https://user:pass@host/...``), ``$EKB_STORE_TOKEN`` (sent as
``Authorization: Bearer``), ``$EKB_STORE_USER`` + ``$EKB_STORE_PASSWORD``
(HTTP Basic; Digest too for graph-store uploads), or the ``machine`` entry for
the host in ``$NETRC`` / ``~/.netrc``. They are never printed, logged or put
into an error message: every URL shown is passed through :func:`redact_url` and
every server message through :meth:`Credentials.scrub`.

Failures raise :class:`kb.errors.EndpointError` (exit 3) naming the URL and the
reason, except a query the server rejects as malformed (HTTP 400), which raises
:class:`RemoteQueryRejected` (a :class:`kb.errors.UsageError`, exit 2) with the
server's explanation, exactly as the embedded store treats a syntax error.
"""

from __future__ import annotations

import base64
import netrc
import os
import socket
import time
import urllib.error
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rdflib import BNode, Literal, URIRef
from rdflib.namespace import XSD
from rdflib.term import Identifier

from kb import __version__
from kb.errors import EndpointError, UsageError
from kb.rdf_terms import XSD_STRING, string_literal
from kb.redact import SECRET_PARAMS as _SECRET_PARAMS  # noqa: F401  (re-exported)
from kb.redact import redact_url, remember_secret, remember_url_secrets
from kb.store_api import QueryResult, _reject_updates

#: Environment variables that carry credentials for endpoints and graph stores.
TOKEN_ENV = "EKB_STORE_TOKEN"
USER_ENV = "EKB_STORE_USER"
PASSWORD_ENV = "EKB_STORE_PASSWORD"

USER_AGENT = f"evidence-kb/{__version__}"

_MASK = "***"


_ACCEPT_JSON = "application/sparql-results+json,application/json;q=0.8"
#: Where a SPARQL JSON result keeps its rows (see :meth:`RemoteStore.select`).
_RESULT_ROWS = ("results", "bindings")
_ACCEPT_RDF = "text/turtle,application/n-triples;q=0.9,application/rdf+xml;q=0.5"
_STATUS_HINTS = {
    401: "401 Unauthorized (check the credentials)",
    404: "404 Not Found (is this the query URL?)",
    414: "414 URI Too Long",
    500: "500 Internal Server Error",
}


class RemoteQueryRejected(UsageError):
    """The endpoint refused the query as malformed (HTTP 400): exit 2, like a local syntax error."""


@dataclass(frozen=True)
class Credentials:
    """Who we are to a store: a bearer token, or a user and password, or nothing.

    ``repr`` never shows the secrets.
    """

    user: str | None = None
    password: str | None = None
    token: str | None = None
    origin: str = "none"

    def __repr__(self) -> str:
        return f"Credentials(origin={self.origin!r}, user={'set' if self.user else None})"

    def __bool__(self) -> bool:
        return bool(self.token or self.user)

    def authorization_header(self) -> str | None:
        """The ``Authorization`` header value to send up front, if any."""
        if self.token:
            return f"Bearer {self.token}"
        if self.user is not None:
            raw = f"{self.user}:{self.password or ''}".encode()
            return "Basic " + base64.b64encode(raw).decode("ascii")
        return None

    def secrets(self) -> list[str]:
        out = [s for s in (self.password, self.token) if s]
        header = self.authorization_header()
        if header:
            out.append(header.split(" ", 1)[1])
        return out

    def scrub(self, text: str) -> str:
        """``text`` with every secret replaced by ``***`` (servers sometimes echo requests)."""
        for secret in sorted(self.secrets(), key=len, reverse=True):
            text = text.replace(secret, _MASK)
        return text


def split_credentials(url: str) -> tuple[str, Credentials]:
    """Separate ``url`` from the credentials that apply to it.

    :returns: the URL without userinfo (what is actually requested) and the credentials.
    :raises UsageError: the URL is not an absolute http(s) URL.
    :raises EndpointError: the netrc file cannot be read or parsed.
    """
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname
        _ = parts.port  # raises ValueError on a malformed port
    except ValueError as exc:
        raise UsageError(f"{redact_url(url)}: not a valid URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not host:
        raise UsageError(f"{redact_url(url)}: expected an http:// or https:// URL")
    remember_url_secrets(url)
    clean_netloc = parts.netloc.rsplit("@", 1)[1] if "@" in parts.netloc else parts.netloc
    clean = urllib.parse.urlunsplit((parts.scheme, clean_netloc, parts.path, parts.query, ""))
    if parts.username is not None:
        user = urllib.parse.unquote(parts.username)
        password = urllib.parse.unquote(parts.password) if parts.password is not None else None
        return clean, Credentials(user=user, password=password, origin="url")
    token = os.environ.get(TOKEN_ENV)
    remember_secret(token)
    remember_secret(os.environ.get(PASSWORD_ENV))
    if token:
        return clean, Credentials(token=token, origin=TOKEN_ENV)
    env_user = os.environ.get(USER_ENV)
    if env_user:
        return clean, Credentials(
            user=env_user, password=os.environ.get(PASSWORD_ENV, ""), origin=USER_ENV
        )
    return clean, _netrc_credentials(host)


def _netrc_credentials(host: str) -> Credentials:
    path = os.environ.get("NETRC") or os.path.join(os.path.expanduser("~"), ".netrc")
    if not os.path.isfile(path):
        return Credentials()
    try:
        entry = netrc.netrc(path).authenticators(host)
    except netrc.NetrcParseError as exc:
        # The parser's message quotes the token it stopped at, which may be the
        # password: only the line is shown.
        raise EndpointError(
            f"{path}: cannot use netrc: malformed at line {exc.lineno} (its text is not shown)"
        ) from None
    except OSError as exc:
        raise EndpointError(f"{path}: cannot read netrc: {exc.strerror}") from None
    if not entry:
        return Credentials()
    login, _account, password = entry
    remember_secret(password)
    return Credentials(user=login or "", password=password or "", origin="netrc")


def describe_network_error(exc: BaseException, timeout: float) -> str:
    """A short reason for a failed request: refused, timed out, unknown host, ..."""
    reason: object = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, TimeoutError | socket.timeout):
        return f"no answer within {timeout:g} s (timed out)"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused (is the server running?)"
    if isinstance(reason, socket.gaierror):
        return f"unknown host ({reason.strerror})"
    if isinstance(reason, ConnectionResetError):
        return "the server closed the connection"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return str(reason) or type(reason).__name__


class _TermReader:
    """SPARQL JSON result terms as rdflib terms, each distinct term built once.

    Built terms are kept by their JSON fields, so a term that recurs in many rows
    (a study's IRI, a concept's label) costs one dict lookup after the first.
    A term's fields are checked (plain text only) when it is first met; a
    binding that is not a JSON object of text fields is refused.
    """

    def __init__(self, fail: Callable[[str], EndpointError]) -> None:
        self._fail = fail
        self._built: dict[tuple[object, ...], Identifier] = {}

    def __call__(self, binding: object) -> Identifier:
        if not isinstance(binding, dict):
            raise self._refused(binding)
        key = (
            binding.get("type"),
            binding.get("value", ""),
            binding.get("datatype"),
            binding.get("xml:lang"),
        )
        try:
            term = self._built.get(key)
        except TypeError:  # a field that is a list or an object
            raise self._refused(binding) from None
        if term is None:
            term = self._built[key] = self._build(binding, key)
        return term

    def _refused(self, binding: object) -> EndpointError:
        return self._fail(f"unexpected term in SPARQL JSON results: {binding!r:.200}")

    def _build(self, binding: dict[str, Any], key: tuple[object, ...]) -> Identifier:
        kind, value, datatype, lang = key
        if not (
            isinstance(kind, str)
            and isinstance(value, str)
            and (datatype is None or isinstance(datatype, str))
            and (lang is None or isinstance(lang, str))
        ):
            raise self._refused(binding)
        if kind == "uri":
            return URIRef(value)
        if kind == "bnode":
            return BNode(value)
        if kind in ("literal", "typed-literal"):
            if lang:
                return Literal(value, lang=lang)
            # RDF 1.1: a literal with neither language nor datatype is an xsd:string,
            # which is how the embedded store reports it.
            if not datatype or datatype == XSD_STRING:
                return string_literal(value)
            return Literal(value, datatype=URIRef(datatype))
        raise self._refused(binding)


class RemoteStore:
    """A SPARQL 1.1 query endpoint.

    SPARQLWrapper builds each request (the SPARQL 1.1 protocol: POST, URL-encoded
    query, headers); :mod:`kb.http_client` sends it. SPARQLWrapper's own
    ``query()`` opens requests with urllib's process-wide opener, which forwards
    credentials to any host a server redirects to and bounds each socket read,
    not the whole request.

    :param endpoint: the query URL (for an Oxigraph server ``http://HOST:PORT/query``).
    :param timeout: seconds to wait for the server on each network operation.
    :raises UsageError: ``endpoint`` is not an http(s) URL.
    """

    def __init__(self, endpoint: str, *, timeout: float = 30.0) -> None:
        self.url, self.credentials = split_credentials(endpoint)
        self.display_url = redact_url(self.url)
        self.timeout = float(timeout)
        #: The text of the last query sent, exactly as it went over the wire.
        self.last_query: str | None = None
        #: SERVICE clauses make the server fetch other URLs; refused unless this is set.
        self.allow_service = False
        #: Seconds spent on the wire (sending queries, waiting for and reading the
        #: answers), summed over this store's queries: the rest is reading them here.
        self.wire_seconds = 0.0

    def __repr__(self) -> str:
        return f"RemoteStore({self.display_url!r}, timeout={self.timeout:g})"

    def _fail(self, reason: str) -> EndpointError:
        return EndpointError(f"{self.display_url}: {self.credentials.scrub(reason)}")

    def _run(self, query: str, accept: str) -> tuple[bytes, str]:
        """Send ``query`` (SPARQL 1.1 protocol, POST, URL-encoded); the raw body and its type.

        :raises RemoteQueryRejected: HTTP 400.
        :raises EndpointError: anything else that went wrong on the way.
        """
        from SPARQLWrapper import POST, URLENCODED, SPARQLWrapper

        from kb import http_client

        _reject_updates(query, self.allow_service)
        sparql = SPARQLWrapper(self.url, agent=USER_AGENT)
        sparql.setQuery(query)
        sparql.setMethod(POST)  # long VALUES blocks do not fit in a GET URL
        sparql.setRequestMethod(URLENCODED)
        # Content negotiation only (the Accept header below): without this SPARQLWrapper
        # adds format=xml&output=xml&results=xml to the form, which Virtuoso obeys over
        # the Accept header and answers 406.
        sparql.setOnlyConneg(True)
        # The request only: SPARQLWrapper.query() would send it through urllib's global
        # opener (see the class docstring). _createRequest has been stable since 1.8.
        request = sparql._createRequest()
        request.add_header("Accept", accept)  # replaces SPARQLWrapper's default
        header = self.credentials.authorization_header()
        if header:
            request.add_header("Authorization", header)
        self.last_query = query
        started = time.perf_counter()
        try:
            response = http_client.send(
                http_client.build_opener("query"), request, timeout=self.timeout
            )
        except urllib.error.HTTPError as exc:
            message = _read_error_body(exc)
            if exc.code == 400:
                raise RemoteQueryRejected(
                    f"{self.display_url} rejected the query (HTTP 400): "
                    + (self.credentials.scrub(message) or "no explanation given")
                ) from None
            status = _STATUS_HINTS.get(exc.code, f"{exc.code} {exc.reason}")
            raise self._fail(f"HTTP {status}" + (f": {message}" if message else "")) from None
        except TimeoutError:
            raise self._fail(f"no answer within {self.timeout:g} s (timed out)") from None
        except (urllib.error.URLError, OSError) as exc:
            raise self._fail(describe_network_error(exc, self.timeout)) from None
        except ValueError:  # http.client refuses malformed URLs (and echoes them)
            raise self._fail("not a URL that can be requested") from None
        finally:
            self.wire_seconds += time.perf_counter() - started
        return response.body, response.content_type

    def _json(self, query: str) -> dict[str, Any]:
        body, content_type = self._run(query, _ACCEPT_JSON)
        from kb.safe_load import load_json

        try:
            # A lying server may send NaN or depth. The depth of the rows is bounded by
            # the shape select() requires of them (checking it walked every cell again).
            data = load_json(body.decode("utf-8"), unchecked_depth=_RESULT_ROWS)
        except (UnicodeDecodeError, ValueError):
            raise self._fail(
                f"answered with {content_type or 'no content type'}, not SPARQL JSON results"
            ) from None
        if not isinstance(data, dict):
            raise self._fail("answered with JSON that is not a SPARQL result")
        return data

    def select(self, query: str) -> QueryResult:
        """Run a SELECT query.

        :raises RemoteQueryRejected: the server rejected the query (exit 2).
        :raises EndpointError: the server could not be reached or failed (exit 3).
        """
        data = self._json(query)
        if "results" not in data or not isinstance(data["results"], dict):
            if "boolean" in data:
                raise UsageError("expected a SELECT query")
            raise self._fail("answered a SELECT query without results")
        columns = list(data.get("head", {}).get("vars", []))
        bindings = data["results"].get("bindings", [])
        if not isinstance(bindings, list) or not all(isinstance(b, dict) for b in bindings):
            raise self._fail("answered a SELECT query with bindings that are not a list of rows")
        term = _TermReader(self._fail)
        rows = [{name: term(value) for name, value in binding.items()} for binding in bindings]
        return QueryResult(columns, rows)

    def ask(self, query: str) -> bool:
        """Run an ASK query."""
        data = self._json(query)
        if "boolean" not in data:
            virtuoso = _virtuoso_ask_value(data)
            if virtuoso is None:
                raise UsageError("expected an ASK query")
            return virtuoso
        return bool(data["boolean"])

    def construct(self, query: str) -> list[tuple[Identifier, Identifier, Identifier]]:
        """Run a CONSTRUCT or DESCRIBE query; the triples as rdflib terms."""
        from rdflib import Graph

        body, content_type = self._run(query, _ACCEPT_RDF)
        if content_type.startswith("application/sparql-results"):
            raise UsageError("expected a CONSTRUCT or DESCRIBE query")
        graph = Graph()
        try:
            graph.parse(data=body, format=content_type or "turtle")
        except Exception as exc:  # rdflib raises many types for bad or unknown input
            raise self._fail(
                f"answered with RDF that could not be read ({content_type}): {exc}"
            ) from None
        return [(s, p, _normalise_literal(o)) for s, p, o in graph]  # type: ignore[misc,arg-type]


def _virtuoso_ask_value(data: dict[str, Any]) -> bool | None:
    """The answer of an ASK query as Virtuoso 7.2 sends it (a SELECT result with one
    variable ``__ASK_RETVAL`` bound to 1 or 0, not SPARQL JSON's ``boolean``), else None."""
    head = data.get("head")
    results = data.get("results")
    if not isinstance(head, dict) or head.get("vars") != ["__ASK_RETVAL"]:
        return None
    bindings = results.get("bindings") if isinstance(results, dict) else None
    if not isinstance(bindings, list) or len(bindings) > 1:
        return None
    if not bindings:
        return False
    cell = bindings[0].get("__ASK_RETVAL") if isinstance(bindings[0], dict) else None
    if not isinstance(cell, dict) or cell.get("value") not in ("0", "1"):
        return None
    return cell["value"] == "1"


def _normalise_literal(term: Identifier) -> Identifier:
    # rdflib parses "x" as a literal without datatype; the embedded store says xsd:string.
    if isinstance(term, Literal) and term.language is None and term.datatype is None:
        return Literal(str(term), datatype=XSD.string)
    return term


def _read_error_body(exc: urllib.error.HTTPError, limit: int = 2000) -> str:
    try:
        body = exc.read(limit)
    except OSError:
        return ""
    return body.decode("utf-8", "replace").strip()
