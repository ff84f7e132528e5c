"""The W3C SHACL test suite (from ../shared/w3c/shacl/, not copied into the repository)
against the project's validation entry point, on both validators."""

from __future__ import annotations

import pytest

from tests.w3c_shacl import DEFAULT_SUITE, cases, run_case

pytestmark = pytest.mark.skipif(not (DEFAULT_SUITE / "manifest.ttl").exists(),
                                reason="the W3C SHACL suite is not beside the project")

# Measured with benchmarks/w3c_shacl.py: both pass 118 of the 120 sht:Validate entries.
# turbo fails property/or-datatypes-001 and property/uniqueLang-002; pySHACL fails
# property/uniqueLang-002 and pre-binding/shapesGraph-001. A regression lowers the count.
EXPECTED = {"turbo": 118, "pyshacl": 118}


@pytest.mark.parametrize("engine", sorted(EXPECTED))
def test_w3c_shacl_suite(engine: str) -> None:
    suite = cases(DEFAULT_SUITE / "manifest.ttl")
    assert len(suite) == 120
    passed = sum(run_case(case, engine) for case in suite)
    assert passed >= EXPECTED[engine], f"{passed} of {len(suite)}"
