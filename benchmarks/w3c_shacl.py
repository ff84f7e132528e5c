"""The W3C SHACL test suite against cbmkg's validation entry point: pass rate per engine.

    python benchmarks/w3c_shacl.py [--engine turbo|pyshacl] [--suite ../shared/w3c/shacl/tests] [-v]

The manifest reader and comparison are tests/w3c_shacl.py (the test suite runs them too).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.w3c_shacl import DEFAULT_SUITE, cases, run_case  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", default="turbo", choices=["turbo", "pyshacl"])
    parser.add_argument("--suite", type=Path, default=DEFAULT_SUITE)
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    all_cases = cases(args.suite / "manifest.ttl")
    passed = 0
    for case in all_cases:
        ok = run_case(case, args.engine)
        passed += ok
        if args.verbose and not ok:
            print("FAIL", case.name)
    print(f"W3C SHACL suite, engine {args.engine}: {passed} of {len(all_cases)} passed "
          f"({passed / len(all_cases):.1%})")


if __name__ == "__main__":
    main()
