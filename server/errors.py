"""Every refusal and failure of the server in one envelope, chosen by ``Accept``:

- ``text/html`` preferred (a browser): a small page with the status and the message;
- ``application/json`` or ``application/problem+json`` preferred: RFC 9457 problem details,
  ``{"type": "about:blank", "title": "Not Found", "status": 404, "detail": "…"}`` as
  ``application/problem+json`` (the one JSON shape, described in openapi.json);
- anything else (curl, SPARQL clients): one line of text, ``404 Not Found: …``.

The message says what is wrong and where, in the request's terms; it never shows a path of
this machine (messages written for the command line may name folders: they are replaced by
the folder's name) nor a traceback (an unexpected error is logged with an id and answered
500 with that id).

:func:`envelope` needs no Flask, so the query workers' watchdog and the fast path answer in
the same shape; :func:`refuse` is its Flask form for views, and :func:`install` registers one
handler for HTTP errors, one for the project's errors and one for everything else.
"""

from __future__ import annotations

import html
import json
import logging
import os
import uuid
from collections.abc import Iterable
from http import HTTPStatus

from flask import Flask, Response, current_app, request
from werkzeug.datastructures import MIMEAccept
from werkzeug.exceptions import HTTPException
from werkzeug.http import parse_accept_header

from cbmkg.config import ROOT, Config
from cbmkg.errors import (
    CbmkgError,
    ConfigError,
    EndpointError,
    InputError,
    NamedQueryError,
    OutboundRefused,
    QueryFailed,
    QuerySyntaxError,
    StoreNotFound,
)

log = logging.getLogger("cbmkg.server.errors")

PROBLEM = "application/problem+json"
OFFERED = ("text/plain", "text/html", "application/json", PROBLEM)

#: the HTTP status of each kind of the project's errors (the most specific class wins)
STATUS: dict[type, int] = {
    QuerySyntaxError: 400, InputError: 400, QueryFailed: 400, OutboundRefused: 403, NamedQueryError: 404,
    StoreNotFound: 503, EndpointError: 502, ConfigError: 500, CbmkgError: 500}


def reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def accepted(accept: str) -> MIMEAccept:
    """An Accept header read with the media types' parameters other than q left out:
    ``text/turtle; charset=utf-8`` asks for Turtle (werkzeug would match the parameters
    too, and find no offer that has them). Every choice of format in the server reads
    Accept this way (``manners.py`` gives Flask's requests this reading)."""
    return MIMEAccept((value.split(";", 1)[0].strip(), quality)
                      for value, quality in parse_accept_header(accept, MIMEAccept))


def choose(accept: str | None) -> str:
    """The envelope's media type for an Accept header (plain text when nothing is preferred)."""
    if not accept:
        return "text/plain"
    best = accepted(accept).best_match(OFFERED, default="text/plain")
    return PROBLEM if best == "application/json" else best or "text/plain"


def envelope(status: int, message: str, accept: str | None, hidden: Iterable[str] = ()) -> tuple[str, bytes]:
    """(media type with charset, body) of an error answer; ``hidden`` are folder paths to name
    by their last part only."""
    detail = scrub(message.strip(), hidden)
    title = reason(status)
    media = choose(accept)
    if media == PROBLEM:
        body = json.dumps({"type": "about:blank", "title": title, "status": status, "detail": detail},
                          ensure_ascii=False)
    elif media == "text/html":
        body = _PAGE.format(status=status, title=html.escape(title), detail=html.escape(detail))
    else:
        body = f"{status} {title}: {detail}\n"
    return f"{media}; charset=utf-8", body.encode("utf-8")


def scrub(message: str, hidden: Iterable[str] = ()) -> str:
    """The message with this machine's folders named by their last part (``queries``, not
    ``/srv/cbmkg/queries``); the checkout's own path goes first, so that its subfolders read
    as paths relative to it."""
    folders = sorted({str(ROOT), *(f for f in hidden if f and os.path.isabs(f))}, key=len, reverse=True)
    for folder in folders:
        folder = folder.rstrip("/")
        if folder == str(ROOT):
            message = message.replace(folder + "/", "").replace(folder, "the checkout")
        else:
            message = message.replace(folder, os.path.basename(folder) or folder)
    return message


def hidden_folders(config: Config) -> list[str]:
    """The folders a message might name: the store and the data folders."""
    return [config.store, config.ontology_dir, config.shapes_dir, config.queries_dir, config.corpus_dir]


def refuse(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """A view's error answer, in the envelope the request accepts."""
    config: Config = current_app.config["CBMKG"]
    media, body = envelope(status, message, request.headers.get("Accept"), hidden_folders(config))
    response = Response(b"" if request.method == "HEAD" else body, status=status, content_type=media)
    response.headers["Vary"] = "Accept"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def status_of(error: CbmkgError) -> int:
    for kind in type(error).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return 500


def install(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Response:
        keep = {name: value for name, value in error.get_headers()
                if name.lower() in ("allow", "www-authenticate", "retry-after")}
        return refuse(error.code or 500, error.description or reason(error.code or 500), keep)

    @app.errorhandler(CbmkgError)
    def _ours(error: CbmkgError) -> Response:
        status = status_of(error)
        if status >= 500:
            log.error("%s: %s", type(error).__name__, error)
        return refuse(status, str(error))

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        incident = uuid.uuid4().hex[:12]
        log.exception("unexpected error %s on %s %s", incident, request.method, request.path)
        return refuse(500, f"the server failed to answer this request (incident {incident}, in its log)")


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{status} {title} — cbmkg</title>
<style>body{{font-family:system-ui,"Noto Sans CJK SC",sans-serif;margin:2rem;max-width:50rem}}</style>
</head><body><h1>{status} {title}</h1><p class="detail">{detail}</p>
<p><a href="/">cbmkg</a></p></body></html>
"""
