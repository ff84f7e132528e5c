"""Building at scale, small: the scale corpus goes through the real loader; validation by
units gives what validating the whole union gives; adding a report validates it alone and
keeps the rest. (The 10 M-quad figures come from benchmarks/scale.py, not from here.)"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pyoxigraph import RdfFormat
from rdflib import Graph

from cbmkg.config import ROOT
from cbmkg.errors import InputError
from cbmkg.findings import FINDINGS_GRAPH, compute
from cbmkg.namespaces import CBM
from cbmkg.store import EmbeddedStore
from cbmkg.validation import BASE_GRAPHS, load_shapes, union_store, units_of, validate, validate_units
from loaders.build import build
from loaders.report import Report, read_report
from loaders.scale import TEMPLATES, plans, write_corpus

ONTOLOGY = ROOT / "ontology"
SHAPES = ROOT / "shapes"
BUNDLED = ROOT / "corpus" / "A_75_95-ZH.txt"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return write_corpus(tmp_path_factory.mktemp("scale"), count=6)


def test_generated_reports_vary_and_go_through_the_loader(corpus: list[Path]) -> None:
    templates = [read_report(p, ONTOLOGY) for p in TEMPLATES]
    reports = [read_report(p, ONTOLOGY) for p in corpus]
    assert len({r.symbol for r in reports}) == 6
    assert {r.lang for r in reports} == {"zh", "en"}
    template_codes = {reply.code for t in templates for reply in t.replies}
    codes = {reply.code for r in reports for reply in r.replies}
    assert len(codes - template_codes) > 20, "replies come from other States than the templates'"
    years = {reply.date[:4] for r in reports for reply in r.replies if reply.date}
    assert len(years) >= 3 and not years <= {"2020", "2021", "2022"}
    for report in reports:  # a reply's date is in its report's session year
        session_year = str(report.session + 1945) if report.session else ""
        assert all(reply.date is None or reply.date.startswith(session_year) for reply in report.replies)

    def figures(rs: list[Report]) -> set[object]:
        return {q.value for r in rs for reply in r.replies for p in reply.paragraphs
                for e in p.facts.events for q in e.quantities}

    assert figures(reports) - figures(templates), "figures are varied"
    estimated = {p.file_name: p.quads for p in plans(count=6)}
    store = EmbeddedStore.memory()
    summary = build(store, ONTOLOGY, corpus, shapes_dir=SHAPES, jobs=1)
    assert summary.seconds["validate"] > 0
    for path in corpus:  # the size estimate the generator sizes corpora with holds
        slug = read_report(path, ONTOLOGY).slug
        quads = sum(n for g, n in summary.graphs.items() if f"/report/{slug}/" in g + "/")
        assert abs(quads - estimated[path.name]) < 0.1 * estimated[path.name], path.name
    assert summary.graphs.get(FINDINGS_GRAPH), "the generated figures give findings"
    # found chunk by chunk during the build, they are what the rules give on the whole store
    whole = compute(store, SHAPES)
    stored = Graph().parse(data=store.graph_ntriples(FINDINGS_GRAPH), format="nt")
    assert len(whole) == summary.graphs[FINDINGS_GRAPH] and set(whole) == set(stored)


def test_validation_by_units_gives_what_the_whole_union_gives(corpus: list[Path]) -> None:
    store = EmbeddedStore.memory()
    build(store, ONTOLOGY, [BUNDLED, *corpus[:3]], jobs=1)
    # break facts in two reports, and a register node every unit sees
    store.update(f"""PREFIX cbm: <{CBM}>
        DELETE {{ GRAPH ?g {{ ?e cbm:reportedBy ?who }} }}
        WHERE {{ GRAPH ?g {{ ?e a cbm:MilitaryExercise ; cbm:reportedBy ?who }} }};
        INSERT DATA {{ GRAPH <{BASE_GRAPHS}registers/extra> {{
            <https://w3id.org/cbmkg/id/instrument/cfe> cbm:obligationOf <urn:x:nothing> }} }}""")
    shapes = load_shapes(SHAPES)
    whole = validate(union_store(store.export_bytes()), shapes)
    sizes = store.graph_sizes()
    units = units_of(sizes)
    assert len(units) == 4
    by_units = validate_units(store, units, shapes, sizes=sizes, chunk_quads=1, jobs=2)  # a chunk each
    assert not whole.conforms and whole.results
    assert by_units.results == whole.results
    assert len(list(by_units.report.subjects(None, None))) > 0
    assert by_units.quads > store.count(), "the base graphs are read with every chunk"


def test_adding_a_report_validates_it_alone_and_keeps_the_rest(corpus: list[Path],
                                                               tmp_path: Path) -> None:
    store = EmbeddedStore.open(tmp_path / "store", create=True)
    first = build(store, ONTOLOGY, [BUNDLED, corpus[0]], shapes_dir=SHAPES, jobs=1)
    before = store.graph_sizes()
    added = build(store, ONTOLOGY, [corpus[1]], shapes_dir=SHAPES, add=True)
    after = store.graph_sizes()
    new = {g: n for g, n in after.items() if g not in before}
    assert new and all(after[g] == n for g, n in before.items() if g != FINDINGS_GRAPH)
    base = sum(n for g, n in after.items() if g.startswith(BASE_GRAPHS))
    assert added.validated == base + sum(new.values()), "only the added report, with the registers"
    assert added.validated < first.validated
    findings = store.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{FINDINGS_GRAPH}> "
                            f"{{ ?f a <{CBM}ComplianceFinding> }} }}", union_default_graph=False)
    assert int(next(findings)["n"].value) >= first.graphs[FINDINGS_GRAPH] // 20

    # a bad addition is refused whole and the store keeps what it had
    bad = tmp_path / "bad.nq"
    bad.write_text(f"<https://w3id.org/cbmkg/id/report/X> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "
                   f"<{CBM}Report> <https://w3id.org/cbmkg/graph/report/X/en> .\n", encoding="utf-8")
    active = os.readlink(tmp_path / "store" / "active")
    with pytest.raises(InputError, match="does not conform"):
        build(store, ONTOLOGY, [bad], shapes_dir=SHAPES, add=True)
    assert os.readlink(tmp_path / "store" / "active") == active
    assert store.graph_sizes() == after


def test_a_dataset_file_is_staged_once_and_named_in_errors(tmp_path: Path) -> None:
    broken = tmp_path / "broken.nq"
    broken.write_text("<http://example.org/a> <http://example.org/b> .\n", encoding="utf-8")
    store = EmbeddedStore.memory()
    with pytest.raises(InputError, match="broken.nq"):
        build(store, ONTOLOGY, [broken])
    assert store.count() == 0
    good = tmp_path / "good.nq"
    good.write_text('<http://example.org/a> <http://example.org/b> "c" <https://w3id.org/cbmkg/graph/x> .\n',
                    encoding="utf-8")
    summary = build(store, ONTOLOGY, [good])
    assert summary.graphs["https://w3id.org/cbmkg/graph/x"] == 1
    assert store.graph_ntriples("https://w3id.org/cbmkg/graph/x").startswith(b"<http://example.org/a>")
    assert RdfFormat.N_QUADS.supports_datasets
