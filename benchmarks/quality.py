"""Precision and recall of the report loader against the annotations in tests/data/gold/.

    python benchmarks/quality.py [GOLD.json ...] [--diff] [--dump REPORT]

The scoring is ``loaders/quality.py`` (the tests use it too); this is its command line.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cbmkg.config import ROOT  # noqa: E402
from loaders.quality import differences, evaluate, keys  # noqa: E402
from loaders.report import read_report  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("gold", nargs="*", type=Path)
    parser.add_argument("--dump", type=Path, help="print the loader's keys for this report")
    parser.add_argument("--diff", action="store_true", help="list missed and extra keys")
    args = parser.parse_args()
    if args.dump:
        data = {"input": str(args.dump), **keys(read_report(args.dump, ROOT / "ontology"))}
        print(json.dumps(data, ensure_ascii=False, indent=1))
        return
    files = args.gold or sorted((ROOT / "tests" / "data" / "gold").glob("*.json"))
    for path in files:
        print(f"{path.name}")
        print(f"  {'category':<11} {'precision':>9} {'recall':>7}  matched/extracted/gold")
        for category, (p, r, m, f, g) in evaluate(path).items():
            print(f"  {category:<11} {p:>9.3f} {r:>7.3f}  {m}/{f}/{g}")
        if args.diff:
            for category, d in differences(path).items():
                for kind in ("missed", "extra"):
                    for key in d[kind]:
                        print(f"    {category} {kind}: {key}")


if __name__ == "__main__":
    main()
