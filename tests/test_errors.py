"""Every route, walked with bad input on a real HTTP server: each refusal comes in the one
envelope the client asked for (an HTML page, RFC 9457 problem details, or a line of text),
says what is wrong, is never a 500 for a client's mistake, and shows no path of the machine
and no traceback."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from werkzeug.serving import make_server

from cbmkg.config import ROOT, load_config
from cbmkg.store import EmbeddedStore
from loaders.build import build
from server import create_app
from server.errors import envelope, scrub

ACCEPTS = {"html": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8", "json": "application/json",
           "text": "text/plain", "none": ""}
BODIES = [("text/turtle", b"@prefix : <"), ("application/sparql-query", b"SELEC ?x {"),
          ("application/json", b"{"), ("application/x-www-form-urlencoded", b"query=%ZZ&update=1"),
          ("application/octet-stream", b"\x00\xff\xfe")]
ARGS = "?query=SELECT%20%7B&graph=not%20an%20iri&format=nonsense&lang=xx&default-graph-uri=%20"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, list[str], Path]]:
    folder = tmp_path_factory.mktemp("errors")
    store = EmbeddedStore.open(folder / "store", create=True)
    build(store, ROOT / "ontology", [])
    config = load_config({"store": str(folder / "store"), "update_token": "secret"})
    app = create_app(config, store=store)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    paths = []
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<any\([^)]*\):root>", "id", rule.rule)
        path = re.sub(r"<path:[^>]+>", "no/such/thing", path)
        path = re.sub(r"<[^>]+>", "nonexistent", path)
        paths.append(path)
    yield f"http://127.0.0.1:{server.server_port}", sorted(set(paths)), folder
    server.shutdown()
    app.extensions["cbmkg.runner"].close()


def check_envelope(answer: requests.Response, accept: str, folder: Path) -> None:
    where = f"{answer.request.method} {answer.request.url} (Accept: {accept or 'none'})"
    assert answer.status_code < 500, f"{where}: {answer.status_code} for a client's mistake: {answer.text[:300]}"
    media = answer.headers.get("Content-Type", "").split(";")[0]
    text = answer.text
    for secret in (str(ROOT), str(folder), "Traceback", "/tmp/"):
        assert secret not in text, f"{where} shows {secret!r}: {text[:300]}"
    if answer.request.method == "HEAD":
        return
    if accept == "json":
        assert media == "application/problem+json", where
        problem = json.loads(text)
        assert problem["status"] == answer.status_code and problem["title"] and problem["detail"], where
    elif accept == "html":
        assert media == "text/html", where
        assert f"<h1>{answer.status_code} " in text or "<h1>" in text, where
    else:
        assert media == "text/plain", where
        assert text.startswith(f"{answer.status_code} "), f"{where}: {text[:200]}"


@pytest.mark.parametrize("accept", sorted(ACCEPTS))
def test_every_route_answers_bad_input_in_the_envelope_asked_for(
        site: tuple[str, list[str], Path], accept: str) -> None:
    base, paths, folder = site
    refusals = 0
    for path in paths:
        for method in ("GET", "POST", "PUT", "DELETE", "PATCH"):
            bodies = BODIES if method in ("POST", "PUT", "PATCH") else [(None, None)]
            for media, body in bodies:
                headers = {"Accept": ACCEPTS[accept]}
                if media:
                    headers["Content-Type"] = media
                if method in ("PUT", "DELETE", "POST") and path in ("/store", "/update"):
                    headers["Authorization"] = "Bearer secret"
                answer = requests.request(method, base + path + ARGS, data=body, headers=headers,
                                          timeout=30, allow_redirects=False)
                if answer.status_code >= 400:
                    refusals += 1
                    check_envelope(answer, accept, folder)
    assert refusals > 3 * len(paths), "the walk met too few refusals to say anything"


def test_an_unknown_named_query_does_not_show_where_the_queries_live(site: tuple[str, list[str], Path]) -> None:
    base, _, folder = site
    answer = requests.get(base + "/queries/nonexistent", timeout=10)
    assert answer.status_code == 404 and "nonexistent" in answer.text
    assert str(ROOT) not in answer.text and "queries" in answer.text


def test_the_envelope_hides_folders_and_keeps_the_message() -> None:
    message = f"no query 'x' in {ROOT}/queries; the store {ROOT.parent}/elsewhere/store is empty"
    cleaned = scrub(message, [str(ROOT.parent / "elsewhere" / "store")])
    assert cleaned == "no query 'x' in queries; the store store is empty"
    media, body = envelope(404, "no graph <urn:x>", "application/json")
    assert media.startswith("application/problem+json")
    assert json.loads(body) == {"type": "about:blank", "title": "Not Found", "status": 404,
                                "detail": "no graph <urn:x>"}
    media, body = envelope(400, "a <b> & c", "text/html")
    assert media.startswith("text/html") and b"a &lt;b&gt; &amp; c" in body
    assert envelope(503, "busy", None) == ("text/plain; charset=utf-8", b"503 Service Unavailable: busy\n")
