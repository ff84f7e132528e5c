"""``/validate`` and ``/ontology`` on a real HTTP server (127.0.0.1) over the bundled
corpus: RDF in every format validated in the store's context, in two sections, with labels
and attribution; the HTML form a person uses (driven as a browser sends it); the ontology by
content negotiation at its IRI's path, and its documentation page."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import requests
from rdflib import Dataset, Graph, URIRef
from werkzeug.serving import make_server

from cbmkg.config import ROOT, load_config
from cbmkg.store import EmbeddedStore
from loaders.build import build
from server import create_app

CBM = "https://w3id.org/cbmkg/ontology#"
SH = "http://www.w3.org/ns/shacl#"
BAD_REPLY = """@prefix cbm: <https://w3id.org/cbmkg/ontology#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<https://example.org/reply> a cbm:Reply ; cbm:order 1 ; cbm:replyDate "2020-05-28"^^xsd:date .
"""
# holdings Armenia reports of Azerbaijan, above its maximum level of battle tanks
HOLDINGS = """@prefix cbm: <https://w3id.org/cbmkg/ontology#> .
<https://example.org/declaration> a cbm:HoldingsDeclaration ; cbm:agent <https://w3id.org/cbmkg/id/actor/AZE> ;
    cbm:reportedBy <https://w3id.org/cbmkg/id/actor/ARM> ; cbm:quantity <https://example.org/tanks> .
<https://example.org/tanks> a cbm:Quantity ; cbm:quantityKind cbm:Holding ; cbm:equipmentCategory cbm:BattleTank ;
    cbm:value 700.0 ; cbm:qualifier cbm:UpTo .
"""


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("validate-http")
    store = EmbeddedStore.open(folder / "store", create=True)
    build(store, ROOT / "ontology", [ROOT / "corpus" / "A_75_95-ZH.txt"])
    app = create_app(load_config({"store": str(folder / "store")}), store=store)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    app.extensions["cbmkg.runner"].close()


def post(base: str, body: str | bytes, media: str, accept: str = "text/plain") -> requests.Response:
    return requests.post(base + "/validate", data=body.encode() if isinstance(body, str) else body,
                         headers={"Content-Type": media, "Accept": accept}, timeout=120)


def as_format(turtle: str, fmt: str) -> bytes:
    if fmt in ("nquads", "trig"):
        data = Dataset()
        data.graph(URIRef("https://example.org/graph")).parse(data=turtle, format="turtle")
        return data.serialize(format=fmt, encoding="utf-8")
    return Graph().parse(data=turtle, format="turtle").serialize(format=fmt, encoding="utf-8")


@pytest.mark.parametrize("media,fmt", [("text/turtle", "turtle"), ("application/n-triples", "nt"),
                                       ("application/ld+json", "json-ld"), ("application/rdf+xml", "xml"),
                                       ("application/n-quads", "nquads"), ("application/trig", "trig")])
def test_every_rdf_format_is_validated_in_two_sections(base: str, media: str, fmt: str) -> None:
    answer = post(base, as_format(BAD_REPLY, fmt), media)
    assert answer.status_code == 200, answer.text
    assert answer.headers["Cbmkg-Conforms"] == "false"
    integrity, findings = answer.text.split("\nCompliance findings", 1)
    assert "Violation reply — https://example.org/reply, cbm:respondent" in " ".join(integrity.split())
    assert "A reply has exactly one respondent" in integrity and "答复须有且仅有一个答复方" in integrity
    assert "0 findings" in findings


def test_findings_about_the_posted_data_with_attribution(base: str) -> None:
    answer = post(base, HOLDINGS, "text/turtle")
    # the holdings lack the paragraph they were read from: a fault of the data, apart from the finding
    assert answer.status_code == 200 and answer.headers["Cbmkg-Conforms"] == "false", answer.text
    integrity, findings = answer.text.split("\nCompliance findings", 1)
    assert "An extracted fact points to the paragraph it was read from" in integrity
    assert "Armenia alleges that Azerbaijan holds up to 700 battle tanks, above its maximum level of 220." in findings
    assert "Strength: possible but undecided" in findings and "亚美尼亚指称" in findings
    assert "1 findings: 0 violations, 1 warnings" in findings, "only what is about the posted data"
    report = Graph().parse(data=post(base, HOLDINGS, "text/turtle", "text/turtle").text, format="turtle")
    results = set(report.subjects(URIRef(SH + "focusNode"), URIRef("https://example.org/tanks")))
    assert len(results) == 1
    result = next(iter(results))
    assert report.value(result, URIRef(CBM + "evidenceKind")) == URIRef(CBM + "OtherPartyAllegation")
    assert report.value(result, URIRef(SH + "resultSeverity")) == URIRef(SH + "Warning")
    rows = post(base, HOLDINGS, "text/turtle", "text/csv").text.splitlines()
    assert rows[0].startswith("section,severity,shape,focus")
    assert [r.split(",")[:2] for r in rows[1:]] == [["integrity", "Violation"]] * 3 + [["compliance", "Warning"]]


def test_an_undeclared_term_in_posted_data_is_named(base: str) -> None:
    answer = post(base, f"<https://example.org/x> a <{CBM}MilitaryExcercise> .", "text/turtle")
    assert answer.headers["Cbmkg-Conforms"] == "false"
    assert "cbm:MilitaryExcercise is not a term of the ontology" in answer.text


def test_the_form_for_people(base: str) -> None:
    page = requests.get(base + "/validate", timeout=30)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert '<form method="post" action="/validate"' in page.text and 'name="data"' in page.text
    assert all(f'value="{m}"' in page.text for m in ("text/turtle", "application/ld+json", "application/trig"))
    # as a browser sends the form: multipart, the data in a field, its format in another
    sent = requests.post(base + "/validate", files={"data": (None, BAD_REPLY), "format": (None, "text/turtle")},
                         timeout=120)
    assert sent.status_code == 200 and sent.headers["Content-Type"].startswith("text/html")
    assert sent.headers["Cbmkg-Conforms"] == "false"
    assert 'id="integrity"' in sent.text and 'id="findings"' in sent.text
    assert "A reply has exactly one respondent" in sent.text and "The data does not conform" in sent.text
    assert "cbm:Reply" in sent.text  # the pasted data is kept in the form
    uploaded = requests.post(base + "/validate", timeout=120,
                             files={"file": ("holdings.ttl", HOLDINGS), "format": (None, "text/turtle")})
    assert "Armenia alleges that Azerbaijan holds up to 700 battle tanks" in uploaded.text
    broken = requests.post(base + "/validate", files={"data": (None, "@prefix : <"), "format": (None, "text/turtle")},
                           timeout=30)
    assert broken.status_code == 400 and "does not parse" in broken.text


def test_the_ontology_at_its_iri_path(base: str) -> None:
    page = requests.get(base + "/ontology", headers={"Accept": "text/html,*/*;q=0.8"}, timeout=30)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert "<title>cbmkg: ontology of confidence-building measures</title>" in page.text
    assert "Accept" in page.headers["Vary"].split(", ")
    for accept, fmt in (("text/turtle", "turtle"), ("application/ld+json", "json-ld"),
                        ("application/rdf+xml", "xml"), ("application/n-triples", "nt")):
        answer = requests.get(base + "/ontology", headers={"Accept": accept}, timeout=30)
        assert answer.status_code == 200 and answer.headers["Content-Type"].startswith(accept), accept
        g = Graph().parse(data=answer.text, format=fmt)
        assert (URIRef("https://w3id.org/cbmkg/ontology"), None, None) in g
        assert (URIRef(CBM + "ComplianceFinding"), None, None) in g and (URIRef(CBM + "UpTo"), None, None) in g
    by_name = requests.get(base + "/ontology?format=jsonld", headers={"Accept": "text/html"}, timeout=30)
    assert by_name.headers["Content-Type"].startswith("application/ld+json")
    assert requests.get(base + "/ontology", headers={"Accept": "image/png"}, timeout=30).status_code == 406
    assert requests.get(base + "/ontology?format=nonsense", timeout=30).status_code == 406
