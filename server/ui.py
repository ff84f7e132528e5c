"""The pages people use: ``/ui`` (YASGUI, served from this server's own copy of the npm
package, with the named queries as ready examples and permalinks), ``/ui/queries`` (the named
queries, their descriptions and parameters), and ``/openapi.json`` (the non-SPARQL routes)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, jsonify, redirect, render_template, send_from_directory
from werkzeug.wrappers import Response as WerkzeugResponse

from cbmkg.catalogue import Catalogue

from .errors import refuse

blueprint = Blueprint("ui", __name__)
HERE = Path(__file__).parent
YASGUI = HERE / "ui" / "node_modules" / "@zazuko" / "yasgui" / "build"
VENDORED = {"yasgui.min.js", "yasgui.min.css"}


def _examples() -> list[dict[str, Any]]:
    catalogue = Catalogue(Path(current_app.config["CBMKG"].queries_dir))
    examples = []
    for q in catalogue.all():
        text = q.bind({})
        examples.append({
            "name": q.name, "title": q.title, "description": q.description, "query": text,
            "parameters": [{"name": p.name, "type": p.type, "description": p.description}
                           for p in q.parameters],
            "permalink": "/ui?" + urlencode({"query": text}),
            "run": f"/queries/{q.name}"})
    return examples


@blueprint.get("/")
def home() -> WerkzeugResponse:
    return redirect("/ui", code=302)


@blueprint.get("/ui")
def query_page() -> str:
    examples = _examples()
    return render_template("ui.html", examples=examples, examples_json=json.dumps(examples))


@blueprint.get("/ui/queries")
def queries_page() -> str:
    return render_template("queries.html", examples=_examples(),
                           formats=["json", "csv", "tsv", "xml"])


@blueprint.get("/vendor/yasgui/<name>")
def yasgui(name: str) -> Response:
    if name not in VENDORED:
        return refuse(404, f"no file {name!r} here")
    if not (YASGUI / name).exists():
        return refuse(503, "YASGUI is not installed on this server; its operator runs `make setup` "
                      "(npm ci in server/ui)")
    response = send_from_directory(YASGUI, name, max_age=86400)
    return response


@blueprint.get("/openapi.json")
def openapi() -> Response:
    return jsonify(json.loads((HERE / "openapi.json").read_text(encoding="utf-8")))
