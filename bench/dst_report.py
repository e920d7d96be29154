#!/usr/bin/env python3
"""Tables for bench/dst.sh (standard library only).

  dst_report.py record --index FILE --part P --impl I --tag T [--density D] [--rule R]
                       [--ranks N] [--rc RC] --metrics FILE
  dst_report.py tables RESULTS_DIR [--only 1,2,3]

Timing rule (bench/README.md): the fastest epoch after the first.  For a run with regrow
once per epoch the candidates are the epochs after the first that contain a topology step
(regrown > 0; the last epoch has none), so that the topology time is in the epoch measured.
"""

import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_report import (accuracy_cells, accuracy_values, fastest_epochs,  # noqa: E402
                          find, main, read_metrics, repeats, secs)


RULES = [("static", "static"), ("set", "SET (set:0.3, random)"),
         ("rigl", "RigL (magnitude:0.3, gradient, cosine)")]


def table1(runs, out):
    out.append("### 1. Fashion-MNIST 784-1024-512-10: test accuracy, final and best\n")
    out.append("| density | rule | PyTorch final | PyTorch best | Sprig final | Sprig best "
               "| Sprig − PyTorch (final) | (best) | PyTorch s/epoch | Sprig s/epoch |")
    out.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    densities = sorted({r["density"] for r in runs if r.get("part") == "1"},
                       key=lambda d: -float(d))
    for d in densities:
        for key, label in RULES:
            vals = {}
            for impl in ("pytorch", "sprig"):
                run = find(runs, part="1", impl=impl, density=d, rule=key)
                rows = read_metrics(run["metrics"]) if run else []
                vals[impl] = accuracy_values(run, rows, regrow=key != "static")
            cells = [d, label] + accuracy_cells(vals)
            out.append("| " + " | ".join(cells) + " |")
    out.append("\nTarget: Sprig within 1 point of PyTorch for each rule.\n")


def table2(runs, out):
    out.append("### 2. Cost of the topology step, density 0.01 (per run its fastest epoch after the "
               "first that contains a regrow; median over the repeats)\n")
    out.append("| run | repeats | s/epoch (median) | topology s in that epoch | topology share | regrown "
               "| / static |")
    out.append("|---|---:|---:|---:|---:|---:|---:|")
    base = None
    med = {}
    for key, label in [("static", "Sprig static"), ("set", "Sprig set:0.3 + random"),
                       ("gradient", "Sprig magnitude:0.3 + gradient"),
                       ("pt-set", "PyTorch set:0.3 + random")]:
        rows = fastest_epochs(repeats(runs, "2", key), key != "static")
        if not rows:
            out.append(f"| {label} | 0 | not run | – | – | – | – |")
            continue
        s = statistics.median(r["seconds"] for r in rows)
        topo = statistics.median(r.get("topology_seconds", 0) for r in rows)
        share = statistics.median(r.get("topology_seconds", 0) / r["seconds"] for r in rows)
        regrown = statistics.median(r.get("regrown", 0) for r in rows)
        if key == "static":
            base = s
        med[key] = s
        ratio = f"{s / base:.3f}" if base and not key.startswith("pt") else "–"
        out.append(f"| {label} | {len(rows)} | {s:.3f} | {topo:.4f} | {100 * share:.1f} % | {regrown:.0f} | {ratio} |")
    if med.get("pt-set") and med.get("set"):
        out.append(f"\nPyTorch-masked / Sprig epoch time with SET: **{med['pt-set'] / med['set']:.1f}×** "
                   "(target ≥ 20×).")
    out.append("Target: epoch time with regrow every epoch / static ≤ 1.1 for random.\n")


def table3(runs, out):
    out.append("### 3. 2 ranks vs 1 rank (1 thread each, per-rank batch 100): weak-scaling "
               "efficiency (median over the repeats of each run's fastest epoch)\n")
    out.append("| training | repeats | 1 rank examples/s | 2 ranks examples/s | efficiency "
               "= 2-rank / (2 × 1-rank) |")
    out.append("|---|---:|---:|---:|---:|")
    for key, label in [("static", "static"), ("set", "SET regrow (set:0.3, random)")]:
        eps = {}
        count = {}
        for n in (1, 2):
            rows = fastest_epochs(repeats(runs, "3", rule=key, ranks=n), key != "static")
            eps[n] = statistics.median(r["examples_per_second"] for r in rows) if rows else None
            count[n] = len(rows)
        eff = (f"{eps[2] / (2 * eps[1]):.3f}" if eps[1] and eps[2] else "–")
        f = lambda n: "not run" if eps[n] is None else f"{eps[n]:,.0f}"
        out.append(f"| {label} | {min(count.values())} | {f(1)} | {f(2)} | {eff} |")
    out.append("\nTarget: the same efficiency with regrow as static.\n")


if __name__ == "__main__":
    sys.exit(main(("part", "impl", "tag", "density", "rule", "ranks", "rc", "metrics"),
                  {"density": None, "rule": None, "ranks": "1", "rc": "0"},
                  [("1", table1), ("2", table2), ("3", table3)], "1,2,3"))
