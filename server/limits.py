"""Limits on what a request may make the server read: a body of at most
``MAX_CONTENT_LENGTH`` bytes however it is sent, and RDF/XML without a DTD.

A body sent with ``Transfer-Encoding: chunked`` has no length to check beforehand, and
werkzeug stops reading it at the limit without saying so: the request would run on its
first megabyte (a padded ``CLEAR …; INSERT …`` loses its INSERT). ``ChunkedBodies`` reads
such a body itself, one byte past the limit at most, and answers 413 when there is more;
the rest of the request sees an ordinary body with a ``Content-Length``.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import Any

from .errors import envelope

StartResponse = Callable[..., Any]


class ChunkedBodies:
    """WSGI middleware: a chunked body over ``limit`` bytes is refused with 413."""

    def __init__(self, app: Callable[[dict[str, Any], StartResponse], Iterable[bytes]], limit: int):
        self.app = app
        self.limit = limit

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("CONTENT_LENGTH") or "chunked" not in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            return self.app(environ, start_response)
        stream, body = environ["wsgi.input"], bytearray()
        while len(body) <= self.limit:
            data = stream.read(min(65536, self.limit + 1 - len(body)))
            if not data:
                break
            body += data
        if len(body) > self.limit:
            media, text = envelope(413, f"the request body is over {self.limit} bytes (sent in chunks); "
                                        "nothing of it was used", environ.get("HTTP_ACCEPT"))
            start_response("413 Request Entity Too Large", [
                ("Content-Type", media), ("Content-Length", str(len(text))), ("Connection", "close"),
                ("Access-Control-Allow-Origin", "*")])
            return [text]
        environ["wsgi.input"] = io.BytesIO(bytes(body))
        environ["CONTENT_LENGTH"] = str(len(body))
        return self.app(environ, start_response)


def rdfxml_refusal(body: bytes) -> str | None:
    """Why an RDF/XML body is not read (a message), or None. A DTD may declare entities
    that expand to gigabytes (a "billion laughs" of under a kilobyte); RDF/XML needs none."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        return f"RDF/XML must be UTF-8 here (byte {e.start} is not)"
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        return "RDF/XML with a DTD (<!DOCTYPE, <!ENTITY) is not accepted: entity declarations " \
               "can expand to gigabytes, and RDF/XML needs none"
    return None
