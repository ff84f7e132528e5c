"""The cost curves: benchmarks/results/scale.json (benchmarks/scale.py) and the
endpoint figures benchmarks/results/endpoint-*.json (benchmarks/endpoint_load.py --json)
drawn as one chart, benchmarks/results/cost-curves.png, which the README shows.

    python benchmarks/chart.py
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    scale = json.loads((RESULTS / "scale.json").read_text())["sizes"]
    sizes = sorted(scale.values(), key=lambda e: e["quads"])
    quads = [e["quads"] / 1e6 for e in sizes]
    fig, axes = plt.subplots(2, 2, figsize=(12, 8.5))
    fig.suptitle("cbmkg: cost by corpus size (2 cores; benchmarks/scale.py, endpoint_load.py)")

    ax = axes[0][0]
    ax.plot(quads, [e["build"]["seconds"] for e in sizes], "o-", label="build, whole (wall)")
    ax.plot(quads, [e["build"].get("load", 0) for e in sizes], "s--", label="  read + load")
    ax.plot(quads, [e["build"].get("validate", 0) for e in sizes], "^--", label="  validation and findings")
    ax.plot(quads, [e["add_one"]["seconds"] for e in sizes], "D-", label="add one report (wall)")
    ax.axhline(900, color="grey", lw=0.8, ls=":")
    ax.text(quads[0], 900, " 15 min", va="bottom", color="grey")
    ax.set(xlabel="million quads", ylabel="seconds", title="Build", xscale="log", yscale="log")
    ax.legend(fontsize=8)

    ax = axes[0][1]
    ax.plot(quads, [e["build"]["peak_rss_mb"] / 1024 for e in sizes], "o-", label="build (process tree)")
    ax.plot(quads, [e["add_one"]["peak_rss_mb"] / 1024 for e in sizes], "D-", label="add one report")
    endpoint = _endpoint()
    if endpoint:
        xs = [q / 1e6 for q in endpoint]
        ax.plot(xs, [e["memory_mb"][_cbmkg(e)]["total"] / 1024 for e in endpoint.values()], "s-",
                label="cbmkg serve, all workers")
        ax.plot(xs, [e["memory_mb"]["oxigraph"]["total"] / 1024 for e in endpoint.values()], "x--",
                label="oxigraph serve")
    ax.axhline(4, color="grey", lw=0.8, ls=":")
    ax.text(quads[0], 4, " 4 GB", va="bottom", color="grey")
    ax.set(xlabel="million quads", ylabel="GiB resident (peak)", title="Memory", xscale="log")
    ax.legend(fontsize=8)

    ax = axes[1][0]
    names = sorted({k for e in sizes for k in e.get("queries", {})
                    if k.endswith(":one") or ":" in k and k.split(":")[0] + ":one" not in e["queries"]})
    for name in names:
        points = [(e["quads"] / 1e6, e["queries"][name]) for e in sizes if name in e.get("queries", {})]
        points = [(x, q) for x, q in points if "median_ms" in q]
        if points:
            ax.plot([x for x, _ in points], [q["median_ms"] for _, q in points], "o-", ms=3,
                    label=name.replace(":one", " (one)").replace(":all", ""))
    ax.axhline(100, color="grey", lw=0.8, ls=":")
    ax.text(quads[0], 100, " 100 ms", va="bottom", color="grey")
    ax.set(xlabel="million quads", ylabel="median ms (one client, embedded)",
           title="Named queries (first parameter bound)", xscale="log", yscale="log")
    ax.legend(fontsize=6, ncol=2)

    ax = axes[1][1]
    if endpoint:
        rows = {r["query"] for e in endpoint.values() for r in e["rows"]}
        for query in sorted(rows):
            xs, cb, ox = [], [], []
            for q, e in endpoint.items():
                row = next((r for r in e["rows"] if r["query"] == query), None)
                if row:
                    xs.append(q / 1e6)
                    cb.append(row["loads"][_cbmkg(e)]["rps"])
                    ox.append(row["loads"]["oxigraph"]["rps"])
            line = ax.plot(xs, cb, "o-", ms=3, label=query.removeprefix("named:"))[0]
            ax.plot(xs, ox, "x:", ms=3, color=line.get_color())
        ax.set(xlabel="million quads", ylabel="requests/s (wrk, 4 connections)",
               title="Endpoint: cbmkg serve (o-) and oxigraph serve (x:)", xscale="log", yscale="log")
        ax.legend(fontsize=6, ncol=2)
    else:
        ax.set_axis_off()
    fig.tight_layout()
    out = RESULTS / "cost-curves.png"
    fig.savefig(out, dpi=110)
    print(f"chart written to {out}")


def _endpoint() -> dict[int, dict[str, Any]]:
    found = {}
    for path in sorted(RESULTS.glob("endpoint-*.json")):
        figures = json.loads(path.read_text())
        found[figures["quads"]] = figures
    return dict(sorted(found.items()))


def _cbmkg(figures: dict[str, Any]) -> str:
    return next(name for name in figures["memory_mb"] if name.startswith("cbmkg"))


if __name__ == "__main__":
    main()
