"""The named queries over HTTP: ``/queries`` lists them (title, description, parameters),
``/queries/NAME?param=value`` runs one and answers in any SPARQL result format."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from cbmkg.catalogue import Catalogue
from cbmkg.errors import NamedQueryError

from .answers import Job
from .errors import refuse
from .sparql import run_job

blueprint = Blueprint("named", __name__)


def _catalogue() -> Catalogue:
    return Catalogue(Path(current_app.config["CBMKG"].queries_dir))


@blueprint.get("/queries")
def listing() -> Response:
    entries: list[dict[str, Any]] = [
        {"name": q.name, "title": q.title, "description": q.description,
         "parameters": [{"name": p.name, "type": p.type, "description": p.description}
                        for p in q.parameters],
         "url": f"/queries/{q.name}"}
        for q in _catalogue().all()]
    return jsonify(entries)


@blueprint.get("/queries/<name>")
def run(name: str) -> Response:
    query = _catalogue().get(name)  # an unknown name: NamedQueryError, answered 404 (errors.py)
    values = {k: v for k, v in request.args.items() if k != "format"}
    try:
        text = query.bind(values)
    except NamedQueryError as e:
        return refuse(400, str(e))
    return run_job(Job(text))
