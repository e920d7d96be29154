#!/usr/bin/env python3
"""Tables for bench/layers.sh (standard library only).

  layers_report.py record --index FILE --part P --impl I --tag T --config C [--rc RC]
                          --metrics FILE
  layers_report.py tables RESULTS_DIR [--only 1,2]

Timing rule (bench/README.md): per run, the fastest epoch after the first; over the repeats
of a configuration, the median of those.
"""

import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_report import (accuracy_cells, accuracy_values, fastest_epochs,  # noqa: E402
                          find, main, read_metrics, repeats, secs)

CONFIGS = [("plain", 'plain ("ReLU;ReLU;Linear", nesterov:0.9, lr 0.01)'),
           ("batchnorm", 'BatchNorm ("ReLU;BatchNorm;ReLU;BatchNorm;Linear")'),
           ("dropout", "dropout 0.2,0.2,0.2"),
           ("adam", "Adam (0.9, 0.999, 1e-8; lr 0.001)")]


def table1(runs, out):
    out.append("### 1. Fashion-MNIST 784-1024-1024-10, density 0.05: test accuracy, final and best\n")
    out.append("| configuration | epochs | PyTorch final | PyTorch best | Sprig final | Sprig best "
               "| Sprig − PyTorch (final) | (best) | PyTorch s/epoch | Sprig s/epoch |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for key, label in CONFIGS:
        vals = {}
        epochs = []
        for impl in ("pytorch", "sprig"):
            run = find(runs, part="1", impl=impl, config=key)
            rows = read_metrics(run["metrics"]) if run else []
            if rows:
                epochs.append(str(rows[-1]["epoch"]))
            vals[impl] = accuracy_values(run, rows, check_rows=True)
        cells = [label, "/".join(sorted(set(epochs))) or "–"] + accuracy_cells(vals)
        out.append("| " + " | ".join(cells) + " |")
    out.append("\nTarget: Sprig within 1 point of PyTorch for each configuration. "
               "s/epoch: fastest epoch after the first (one run; see part 2 for timings).\n")


def median_fastest(runs, part, impl, config):
    rows = fastest_epochs(repeats(runs, part, impl=impl, config=config))
    if not rows:
        return None, 0
    return statistics.median(r["seconds"] for r in rows), len(rows)


def table2(runs, out):
    out.append("### 2. Epoch time, PyTorch-masked / Sprig (per run its fastest epoch after the "
               "first; median over the repeats)\n")
    out.append("| configuration | repeats (PyTorch/Sprig) | PyTorch s/epoch | Sprig s/epoch "
               "| PyTorch / Sprig | / plain's ratio |")
    out.append("|---|---:|---:|---:|---:|---:|")
    plain_ratio = None
    for key, label in CONFIGS[:3]:
        p, np_ = median_fastest(runs, "2", "pytorch", key)
        s, ns = median_fastest(runs, "2", "sprig", key)
        ratio = p / s if p and s else None
        if key == "plain":
            plain_ratio = ratio
        rel = (f"{ratio / plain_ratio:.3f}" if ratio and plain_ratio else "–")
        out.append(f"| {label} | {np_}/{ns} | {secs(p) if p else 'not run'} | "
                   f"{secs(s) if s else 'not run'} | "
                   f"{'–' if ratio is None else f'{ratio:.2f}×'} | {rel} |")
    out.append("\nTarget: BatchNorm's and dropout's ratio within 20 % of plain's "
               "(0.80–1.20 in the last column).\n")


if __name__ == "__main__":
    sys.exit(main(("part", "impl", "tag", "config", "rc", "metrics"), {"rc": "0"},
                  [("1", table1), ("2", table2)], "1,2"))
