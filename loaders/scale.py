"""A scale corpus: N report files in the UN "views of Member States" layout, made from the
reports we have, for the real loader to read.

    python -m loaders.scale OUT_DIR --scale 10        # about 10x the bundled corpus build
    python -m loaders.scale OUT_DIR --reports 40      # exactly 40 reports

Each generated report is a template report (the bundled corpus report and the test
reports, Chinese and English) rewritten: a new symbol and session (1985 to 2025), every
year moved by the same number of years, a new set of replies drawn from the templates'
replies of that language and given to other States of the party register (their names in
the report's language, also where the reply names itself), and the figures (three digits or
more) varied. The text keeps its raw layout (hard-wrapped lines, page headers and footers),
so the loader meets what it meets in real reports; nothing is written as RDF here.

Sizes are counted in quads: ``--scale k`` writes reports until they hold about ``k`` times
the quads of the bundled corpus build (ontology, registers and A/75/95 together), estimated
from the quads each template reply gives when the loader reads the template. 500x is about
10 M quads.
"""

from __future__ import annotations

import argparse
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rdflib import Graph, Literal
from rdflib.namespace import RDF, RDFS

from cbmkg.config import ROOT
from cbmkg.namespaces import CBM

#: the reports generated ones are made from (language of each from its file name)
TEMPLATES = (ROOT / "corpus" / "A_75_95-ZH.txt",
             ROOT / "tests" / "data" / "reports" / "A_76_150-EN.txt",
             ROOT / "tests" / "data" / "reports" / "A_77_90-EN.txt")
FILE_LANG = {"zh": "ZH", "en": "EN"}
#: years the rewriting moves (1980 to 2049) unless part of a number, a symbol or a name
YEAR = re.compile(r"(?<![\d/\-.,])(19[89]\d|20[0-4]\d)(?![\d/\-]|,\d)")
#: figures of three digits or more ("525", "12,000"), not parts of symbols or job numbers
FIGURE = re.compile(r"(?<![\d/\-.,])(\d{1,3}(?:,\d{3})+|\d{3,})(?![\d/\-]|[.,]\d)")
#: numbers that name rather than count: a year inside a title (《…1994 年维也纳文件》,
#: "Vienna Document 2011"), resolution, decision and article numbers
TITLED = re.compile(r"《[^《》]*》|Document \d{4}|\(\d{4}\)|(?:resolution|decision|Article|第)\s*\d[\d/]*")


@dataclass(frozen=True)
class Block:
    """A reply of a template: its raw lines (heading first), who replied and its size."""
    lines: tuple[str, ...]
    name: str          # the respondent's name as the heading writes it
    code: str
    quads: int         # quads the loader makes of this reply
    session: int       # of its report (its years are moved from that session's)


@dataclass(frozen=True)
class Template:
    path: Path
    lang: str
    session: int
    head: tuple[str, ...]    # everything before the first reply of governments
    tail: tuple[str, ...]    # everything after the last one (other sections)
    replies: tuple[Block, ...]
    head_quads: int          # the quads of the document graph and the non-State replies


@dataclass
class Plan:
    """One report to write."""
    symbol: str
    lang: str
    template: Template
    replies: list[tuple[Block, str, str]]  # (reply, new respondent code, its name)
    seed: int

    @property
    def quads(self) -> int:
        return self.template.head_quads + sum(b.quads for b, _, _ in self.replies)

    @property
    def file_name(self) -> str:
        return self.symbol.replace("/", "_") + "-" + FILE_LANG[self.lang] + ".txt"


def load_templates(ontology_dir: Path = ROOT / "ontology") -> list[Template]:
    """The template reports, read by the loader (for their layout and their quads)."""
    from loaders.report import read_report, to_dataset

    out = []
    for path in TEMPLATES:
        report = read_report(path, ontology_dir)
        lines = path.read_text(encoding="utf-8").split("\n")
        dataset = to_dataset(report)
        sizes = {str(g.identifier).rsplit("/", 1)[-1]: len(g) for g in dataset.graphs()}
        states = [r for r in report.replies if report.sections[r.section - 1].section.number
                  in ("II", "二")]
        if not states:
            continue
        starts = [r.reply.line for r in report.replies] + [s.section.line for s in report.sections]
        blocks = []
        for r in states:
            end = min((s for s in starts if s > r.reply.line), default=len(lines) + 1)
            blocks.append(Block(tuple(lines[r.reply.line - 1:end - 1]), r.reply.heading.strip(),
                                r.code, sizes.get(r.code, 0), report.session or 0))
        first = states[0].reply.line
        last = min((s for s in starts if s > states[-1].reply.line), default=len(lines) + 1)
        assert report.session is not None
        out.append(Template(path, report.lang, report.session, tuple(lines[:first - 1]),
                            tuple(lines[last - 1:]), tuple(blocks),
                            len(dataset) - sum(b.quads for b in blocks)))
    return out


def state_names(ontology_dir: Path = ROOT / "ontology") -> dict[str, list[tuple[str, str]]]:
    """(code, name) of every State of the party register, by language (its rdfs:label)."""
    graph = Graph().parse(ontology_dir / "registers" / "parties.ttl", format="turtle")
    out: dict[str, list[tuple[str, str]]] = {lang: [] for lang in FILE_LANG}
    for state in sorted(graph.subjects(RDF.type, CBM.State), key=str):
        code = graph.value(state, CBM.code)
        for label in graph.objects(state, RDFS.label):
            if isinstance(label, Literal) and label.language in out and code is not None:
                out[label.language].append((str(code), str(label)))
    return out


def plans(count: int | None = None, quads: int | None = None, seed: int = 1,
          ontology_dir: Path = ROOT / "ontology") -> Iterator[Plan]:
    """The reports to write: ``count`` of them, or as many as hold about ``quads``."""
    templates = load_templates(ontology_dir)
    names = state_names(ontology_dir)
    by_lang = {lang: [t for t in templates if t.lang == lang] for lang in FILE_LANG}
    pool = {lang: [b for t in ts for b in t.replies] for lang, ts in by_lang.items()}
    written = total = 0
    while (count is not None and written < count) or (quads is not None and total < quads):
        rng = random.Random(seed * 1_000_003 + written)
        # two in three in English, as the series is; sessions 40 to 80 (1985 to 2025)
        lang = "zh" if written % 3 == 0 else "en"
        template = by_lang[lang][written // 3 % len(by_lang[lang])]
        session = 40 + written % 41
        symbol = f"A/{session}/{100 + written // 41}"
        size = rng.randint(4, 12) if lang == "zh" else rng.randint(6, 20)
        states = rng.sample(names[lang], size)
        blocks = [rng.choice(pool[lang]) for _ in states]
        plan = Plan(symbol, lang, template, [(b, c, n) for b, (c, n) in zip(blocks, states, strict=True)],
                    rng.randrange(1 << 30))
        written += 1
        total += plan.quads
        yield plan


def _shift_years(line: str, delta: int) -> str:
    kept = [m.span() for m in TITLED.finditer(line)]

    def move(m: re.Match[str]) -> str:
        if any(a <= m.start() < b for a, b in kept):
            return m[0]
        return str(int(m[0]) + delta)

    return YEAR.sub(move, line)


def _vary_figures(line: str, rng: random.Random) -> str:
    kept = [m.span() for m in TITLED.finditer(line)]

    def vary(m: re.Match[str]) -> str:
        digits = m[0].replace(",", "")
        if any(a <= m.start() < b for a, b in kept) or 1900 <= int(digits) <= 2099:
            return m[0]
        value = max(100, round(int(digits) * rng.uniform(0.6, 1.5)))
        return f"{value:,}" if "," in m[0] else str(value)

    return FIGURE.sub(vary, line)


def render(plan: Plan) -> str:
    """The text of a planned report."""
    rng = random.Random(plan.seed)
    template = plan.template
    session = int(plan.symbol.split("/")[1])

    def rewrite(lines: tuple[str, ...] | list[str], since: int = template.session) -> list[str]:
        return [_vary_figures(_shift_years(line, session - since), rng) for line in lines]

    # the symbol wherever the template prints its own (title, page headers)
    own = re.compile(re.escape(f"A/{template.session}/") + r"\d+")
    out = rewrite([own.sub(plan.symbol, line) for line in template.head])
    for block, _code, name in plan.replies:
        heading, *body = block.lines
        out.append(heading.replace(block.name, name))
        out += rewrite([own.sub(plan.symbol, line.replace(block.name, name)) for line in body],
                       block.session)
    out += rewrite([own.sub(plan.symbol, line) for line in template.tail])
    return "\n".join(out)


def write_corpus(folder: Path, count: int | None = None, quads: int | None = None,
                 seed: int = 1) -> list[Path]:
    """Write the planned reports into ``folder``; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for plan in plans(count, quads, seed):
        path = folder / plan.file_name
        path.write_text(render(plan), encoding="utf-8")
        paths.append(path)
    return paths


def bundled_quads() -> int:
    """Quads of the bundled corpus build (ontology, registers, the bundled report): 1x."""
    from cbmkg.store import EmbeddedStore
    from loaders.build import build

    store = EmbeddedStore.memory()
    build(store, ROOT / "ontology", [ROOT / "corpus" / "A_75_95-ZH.txt"])
    return store.count()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("output", type=Path)
    size = parser.add_mutually_exclusive_group(required=True)
    size.add_argument("--scale", type=float, help="about this many times the bundled corpus build")
    size.add_argument("--reports", type=int, help="this many reports")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    quads = None
    if args.scale is not None:
        base = bundled_quads()
        # the generated reports come on top of the ontology and registers, built once
        quads = round(args.scale * base) - (base - sum(t.head_quads + sum(b.quads for b in t.replies)
                                                       for t in load_templates()[:1]))
    paths = write_corpus(args.output, args.reports, quads, args.seed)
    print(f"{len(paths)} reports written to {args.output}")


if __name__ == "__main__":
    main()
