"""The query page in a real headless Chromium (Debian's package, driven by Playwright's
Python client): YASGUI loads from this server alone, a named query runs from the examples,
its rendered rows match the store, permalinks open their query, and the page of named queries
lists each with its parameters. The screenshot lands in tests/screenshots/ for a person to see."""

from __future__ import annotations

import shutil
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode, urlparse

import pytest
from werkzeug.serving import make_server

from cbmkg.config import ROOT, load_config
from cbmkg.store import EmbeddedStore
from loaders.build import build
from server import create_app

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = ROOT / "tests" / "screenshots"
# as the machine's notes say: without these, Chromium keeps calling Google's hosts
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _needs_browser_and_yasgui() -> None:
    """Fail at once, saying what to install, rather than time out on a page that cannot load."""
    from server.ui import VENDORED, YASGUI

    assert Path(CHROMIUM).exists(), f"no browser at {CHROMIUM}: Debian's chromium is needed (`make browser`)"
    missing = sorted(name for name in VENDORED if not (YASGUI / name).exists())
    assert not missing, f"YASGUI is not installed ({', '.join(missing)} missing in {YASGUI}): run `make setup`"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, EmbeddedStore]]:
    store = EmbeddedStore.open(tmp_path_factory.mktemp("ui"), create=True)
    build(store, ROOT / "ontology", [ROOT / "corpus" / "A_75_95-ZH.txt"])
    app = create_app(load_config({"workers": 1}), store=store)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", store
    server.shutdown()
    app.extensions["cbmkg.runner"].close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    _needs_browser_and_yasgui()
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS, timeout=60_000)
        yield chromium
        chromium.close()


def test_query_page_runs_a_named_query(site: tuple[str, EmbeddedStore], browser) -> None:
    base, store = site
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    hosts: set[str] = set()
    page.on("request", lambda r: hosts.add(urlparse(r.url).netloc))
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(base + "/ui")
    page.wait_for_selector(".yasqe .CodeMirror")
    page.click("#examples button[data-name='replies']")
    page.click(".tabPanel.active .yasqe_queryButton")
    page.wait_for_selector(".tabPanel.active .yasr table.dataTable tbody tr td", timeout=20_000)
    cells = page.locator(".tabPanel.active .yasr table.dataTable tbody tr").all_inner_texts()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "ui-replies.png"), full_page=True)
    expected = {row["respondent"].value for row in store.select(
        "PREFIX cbm: <https://w3id.org/cbmkg/ontology#> SELECT ?respondent WHERE { "
        "?r a cbm:Reply ; cbm:respondent/cbm:code ?respondent }")}
    shown = " ".join(cells)
    assert len(cells) == len(expected) == 8
    assert all(code in shown for code in expected)
    assert hosts == {urlparse(base).netloc}, f"the page reached beyond this server: {hosts}"
    assert not errors
    page.close()


def test_permalink_opens_its_query(site: tuple[str, EmbeddedStore], browser) -> None:
    base, _ = site
    query = "SELECT (COUNT(*) AS ?replies) WHERE { ?r a <https://w3id.org/cbmkg/ontology#Reply> }"
    page = browser.new_page()
    page.goto(base + "/ui?" + urlencode({"query": query}))
    page.wait_for_selector(".yasqe .CodeMirror")
    text = page.evaluate("() => document.querySelector('.tabPanel.active .CodeMirror').CodeMirror.getValue()")
    assert text == query
    page.close()


def test_named_queries_page(site: tuple[str, EmbeddedStore], browser) -> None:
    base, _ = site
    page = browser.new_page()
    page.goto(base + "/ui/queries")
    names = page.locator("section.named-query").evaluate_all("els => els.map(e => e.id)")
    assert {"events", "obligations", "replies", "compliance-findings"} <= set(names)
    events = page.locator("section#events")
    assert "reported_by" in events.inner_text()
    with page.expect_response(lambda r: "/queries/events" in r.url) as answer:
        events.get_by_role("link", name="csv").click()
    assert answer.value.status == 200 and answer.value.headers["content-type"].startswith("text/csv")
    page.close()


def test_a_missing_browser_or_yasgui_is_named_at_once(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import server.ui

    monkeypatch.setattr(server.ui, "YASGUI", tmp_path / "nothing")
    with pytest.raises(AssertionError, match="YASGUI is not installed.*make setup"):
        _needs_browser_and_yasgui()
    monkeypatch.setattr(sys.modules[__name__], "CHROMIUM", str(tmp_path / "no-chromium"))
    with pytest.raises(AssertionError, match="no browser at .*no-chromium"):
        _needs_browser_and_yasgui()
