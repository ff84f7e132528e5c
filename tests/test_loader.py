"""The report loader on the bundled report (Chinese), a synthetic English report, the same
report as Word and PDF, and bad inputs."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import Dataset, Literal, URIRef
from rdflib.namespace import PROV, RDF

from cbmkg.config import ROOT
from cbmkg.errors import InputError
from cbmkg.namespaces import CBM, OA
from loaders.quality import CATEGORIES, evaluate, keys
from loaders.report import extract, read_report

ONTOLOGY = ROOT / "ontology"
ZH = ROOT / "corpus" / "A_75_95-ZH.txt"
EN = ROOT / "tests" / "data" / "reports" / "A_76_150-EN.txt"
ACTOR = "https://w3id.org/cbmkg/id/actor/"
GRAPH = "https://w3id.org/cbmkg/graph/report/"


@pytest.fixture(scope="module")
def zh():
    return read_report(ZH, ONTOLOGY)


@pytest.fixture(scope="module")
def zh_rdf() -> Dataset:
    return extract(ZH, ONTOLOGY)


def test_document_and_replies(zh) -> None:
    assert (zh.symbol, zh.lang, zh.job_number, zh.session) == ("A/75/95", "zh", "20-07725", 75)
    assert zh.mandate == URIRef("https://w3id.org/cbmkg/id/instrument/a-res-74-39")
    assert [(r.code, r.reply.original_language, r.date) for r in zh.replies] == [
        ("ARM", "en", "2020-05-15"), ("COL", "es", "2020-05-28"), ("ECU", "es", "2020-05-31"),
        ("MEX", "es", "2020-05-26"), ("QAT", "ar", "2020-04-21"), ("ESP", "es", "2020-05-15"),
        ("UKR", "en", "2020-05-01"), ("EU", "en", "2020-05-20")]
    assert [s.section.number for s in zh.sections] == ["一", "二", "三"]


def test_paragraphs_are_clean_and_whole(zh) -> None:
    texts = [p.paragraph.text for s in zh.sections for p in s.paragraphs]
    texts += [p.paragraph.text for r in zh.replies for p in r.paragraphs]
    assert not any("20-07725" in t or "https://" in t or t.strip() == "A/75/95" for t in texts)
    # a paragraph cut by a page break in the PDF is one paragraph again
    assert any("一些国家认为有必要加强威慑和国防措施" in t for t in texts)
    assert any("适用行为规范和标准" in t for t in texts)
    # hard wraps are joined without a stray space between Chinese characters
    assert any("建立信任和安全措施的途径和方法" in t for t in texts)
    # the paragraph after the page furniture starts a paragraph of its own
    arm = next(r for r in zh.replies if r.code == "ARM")
    assert arm.paragraphs[4].paragraph.text.startswith("在阿塞拜疆武装部队的 28 个旅中")
    # list items stay paragraphs, numbered ones keep their number apart from the text
    ecu = next(r for r in zh.replies if r.code == "ECU")
    numbered = [p.paragraph for p in ecu.paragraphs if p.paragraph.number]
    assert [p.number for p in numbered] == [str(n) for n in range(1, 11)]
    assert numbered[0].text.startswith("参加联合国常规武器登记册")


def test_every_fact_cites_paragraph_words_and_speaker(zh_rdf: Dataset) -> None:
    facts = 0
    document = zh_rdf.graph(URIRef(GRAPH + "A-75-95/zh"))  # holds the graphs' provenance
    for graph in zh_rdf.graphs():
        if not str(graph.identifier).startswith(GRAPH):
            continue
        attributed = document.value(graph.identifier, PROV.wasAttributedTo)
        assert attributed is not None, graph.identifier
        for fact in set(graph.subjects(CBM.reportedBy, None)):
            facts += 1
            assert graph.value(fact, CBM.reportedBy) == attributed
            paragraph = graph.value(fact, CBM.paragraph)
            text = str(graph.value(paragraph, CBM.text))
            span = graph.value(fact, CBM.evidence)
            quote = next(graph.objects(span, OA.hasSelector / OA.exact))
            assert str(quote) in text
    assert facts > 60


def test_what_armenia_says_about_azerbaijan_stays_armenias(zh_rdf: Dataset) -> None:
    graph = zh_rdf.graph(URIRef(GRAPH + "A-75-95/zh/reply/ARM"))
    holdings = [e for e in graph.subjects(RDF.type, CBM.HoldingsDeclaration)]
    assert len(holdings) == 1
    event = holdings[0]
    assert graph.value(event, CBM.agent) == URIRef(ACTOR + "AZE")
    assert graph.value(event, CBM.reportedBy) == URIRef(ACTOR + "ARM")
    assert graph.value(event, CBM.presentedAsNonCompliance) == Literal(True)
    tanks = [q for q in graph.objects(event, CBM.quantity)
             if graph.value(q, CBM.equipmentCategory) == CBM.BattleTank]
    assert [(int(str(graph.value(q, CBM.value))), int(str(graph.value(q, CBM.statedLimit)))) for q in tanks] \
        == [(525, 220)]
    claims = list(graph.subjects(CBM.claimsEvent, event))
    assert claims and graph.value(claims[0], CBM.stance) == CBM.Accusation
    # nothing of it is in any other graph, and nothing says AZE exceeded anything on its own
    for other in zh_rdf.graphs():
        if other.identifier != graph.identifier:
            assert (event, None, None) not in other


def test_no_triple_in_the_default_graph(zh_rdf: Dataset) -> None:
    assert len(zh_rdf.default_graph) == 0


def test_same_input_same_graph(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1600000000")
    first = set(extract(EN, ONTOLOGY).quads())
    second = set(extract(EN, ONTOLOGY).quads())
    assert first == second


@pytest.mark.parametrize("gold", sorted((ROOT / "tests" / "data" / "gold").glob("*.json")),
                         ids=lambda p: p.stem)
def test_precision_and_recall_on_annotated_reports(gold: Path) -> None:
    scores = evaluate(gold)
    for category in CATEGORIES:
        precision, recall, *_ = scores[category]
        assert precision >= 0.9 and recall >= 0.9, (category, scores[category])


# ---- formats ---------------------------------------------------------------------------
def _paragraphs(path: Path) -> list[tuple[str, list[str]]]:
    report = read_report(path, ONTOLOGY, symbol="A/76/150")
    return [(r.code, [p.paragraph.text for p in r.paragraphs]) for r in report.replies]


def _blocks(path: Path) -> list[str]:
    """The text file's paragraphs as a Word author would have typed them."""
    blocks, current = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            current.append(line.strip())
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    out = []
    for lines in blocks:
        if lines[0].startswith("["):
            out += lines  # "[Original: …]" and the date are lines of their own
        else:
            text = lines[0]
            for line in lines[1:]:
                text = text + line if text.endswith("-") and not line.startswith("and") \
                    else text + " " + line
            out.append(text)
    return out


def test_word_document_reads_like_the_text(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    for block in _blocks(EN):
        document.add_paragraph(block)
    path = tmp_path / "A_76_150-EN.docx"
    document.save(str(path))
    from_word = _paragraphs(path)
    from_text = _paragraphs(EN)
    assert [code for code, _ in from_word] == [code for code, _ in from_text]
    # the page break of the text file is inside a sentence; Word has no page furniture
    assert from_word[0][1][0] == from_text[0][1][0]
    assert keys(read_report(path, ONTOLOGY))["events"] == keys(read_report(EN, ONTOLOGY))["events"]


def test_pdf_reads_like_the_text(tmp_path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    for block in _blocks(EN):
        pdf.multi_cell(0, 5, block.replace("–", "-"))
        pdf.ln(3)
    path = tmp_path / "A_76_150-EN.pdf"
    pdf.output(str(path))
    found = keys(read_report(path, ONTOLOGY))
    expected = keys(read_report(EN, ONTOLOGY))
    assert found["replies"] == expected["replies"]
    assert found["events"] == expected["events"]
    assert found["claims"] == expected["claims"]


# ---- bad input -------------------------------------------------------------------------
BAD = {
    "empty": ("A_1_1-EN.txt", b"", "the file is empty"),
    "not a report": ("notes-EN.txt", b"Shopping list\n\nmilk\neggs\n", "not a report of compiled replies"),
    "binary": ("A_1_1-EN.txt", bytes(range(256)) * 4, "a binary file"),
    "not utf-8": ("A_1_1-EN.txt", "Caf\u00e9\n".encode("latin-1"), "not UTF-8 text"),
    "truncated reply": ("A_1_1-EN.txt",
                        b"A/1/1\n\nI. Replies received from Governments\n\nGeorgia\n\n"
                        b"[Original: English]\n[27 May 2021]\n", "has no text"),
    "unknown respondent": ("A_1_1-EN.txt",
                           b"A/1/1\n\nI. Replies received from Governments\n\nFreedonia\n\n"
                           b"[Original: English]\n[27 May 2021]\n\nFreedonia supports all measures.\n",
                           "unknown respondent 'Freedonia'"),
    "no symbol": ("views.txt",
                  b"I. Replies received from Governments\n\nGeorgia\n\n[Original: English]\n"
                  b"[27 May 2021]\n\nGeorgia supports all measures.\n", "no document symbol"),
    "wrong type": ("A_1_1-EN.xls", b"x", "reports are read from .txt, .pdf or .docx"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_named(case: str, tmp_path: Path) -> None:
    name, data, message = BAD[case]
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(InputError) as info:
        extract(path, ONTOLOGY)
    assert str(path) in str(info.value)
    assert message in str(info.value)


def test_bad_input_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "A_1_1-EN.txt"
    path.write_bytes(BAD["unknown respondent"][1])
    with pytest.raises(InputError, match=rf"{path}:5: unknown respondent"):
        extract(path, ONTOLOGY)


def test_bad_report_leaves_the_store_as_it_was(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cbmkg.cli import cli

    env = {"CBMKG_STORE": str(tmp_path / "store")}
    runner = CliRunner()
    assert runner.invoke(cli, ["build", str(EN)], env=env).exit_code == 0
    before = runner.invoke(cli, ["export"], env=env).stdout
    bad = tmp_path / "A_1_1-EN.txt"
    bad.write_bytes(BAD["truncated reply"][1])
    result = runner.invoke(cli, ["build", str(EN), str(bad)], env=env)
    assert result.exit_code == 1 and "has no text" in result.stderr
    assert runner.invoke(cli, ["export"], env=env).stdout == before


def test_extract_writes_every_format(tmp_path: Path) -> None:
    from click.testing import CliRunner
    from rdflib import Graph

    from cbmkg.cli import cli

    for fmt, parse_as in (("nquads", "nquads"), ("trig", "trig"), ("jsonld", "json-ld"),
                          ("turtle", "turtle")):
        out = tmp_path / f"out.{fmt}"
        result = CliRunner().invoke(cli, ["extract", str(EN), "--format", fmt, "-o", str(out)])
        assert result.exit_code == 0, result.output
        g = Dataset() if fmt != "turtle" else Graph()
        g.parse(out, format=parse_as)
        assert len(g) > 300, fmt


def test_named_queries_over_the_built_report(tmp_path: Path) -> None:
    from cbmkg.catalogue import Catalogue
    from cbmkg.store import EmbeddedStore
    from loaders.build import build

    store = EmbeddedStore.memory()
    build(store, ONTOLOGY, [ZH])
    catalogue = Catalogue(ROOT / "queries")

    def run(name: str, **params: str) -> list[dict[str, str]]:
        result = store.select(catalogue.get(name).bind(params))
        names = [v.value for v in result.variables]
        return [{n: (r[n].value if r[n] is not None else "") for n in names}
                for r in result]

    replies = run("replies")
    assert list(replies[0]) == ["report", "respondent_code", "respondent_label",
                                "original_language", "date", "paragraph_count"]
    assert [(r["respondent_code"], r["paragraph_count"]) for r in replies][:2] == [("ARM", "11"),
                                                                                 ("COL", "8")]
    events = run("events", reported_by="ARM", type="MilitaryExercise")
    assert list(events[0]) == ["event", "type", "start", "end", "agent_codes", "location",
                                    "instrument", "reported_by", "alleged_violation", "paragraph",
                                    "evidence"]
    assert sorted(e["start"] for e in events) == ["2019", "2019-03-11", "2019-05-20", "2019-09-16"]
    assert {e["agent_codes"] for e in events} == {"AZE"} and {e["alleged_violation"] for e in events} == {"true"}
    quantities = run("event-quantities", quantity_kind="Holding")
    assert {(q["unit"], q["value"], q["limit"]) for q in quantities} == {
        ("BattleTank", "525", "220"), ("ArmouredCombatVehicle", "428", "220"),
        ("Artillery", "972", "285"), ("AttackHelicopter", "59", "50")}
    relations = run("party-relations", party_code="ESP")
    assert {(r["relation"], r["instrument"].rsplit("/", 1)[1]) for r in relations} >= {
        ("HasRatified", "open-skies"), ("HasRatified", "cfe")}
    claims = run("claims", claimant_code="UKR")
    assert claims and all(c["subject_codes"] == "RUS" for c in claims)
    mentions = run("mentions", respondent_code="COL", kind="instrument")
    unresolved = [m["text"] for m in mentions if m["target"] == ""]
    assert "《欧洲联盟武器贸易条约》" in unresolved
