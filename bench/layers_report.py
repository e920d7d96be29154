#!/usr/bin/env python3
"""Tables for bench/layers.sh (standard library only).

  layers_report.py record --index FILE --part P --impl I --tag T --config C [--rc RC]
                          --metrics FILE
  layers_report.py tables RESULTS_DIR [--only 1,2]

Timing rule (bench/README.md): per run, the fastest epoch after the first; over the repeats
of a configuration, the median of those.
"""

import argparse
import json
import os
import statistics
import sys

CONFIGS = [("plain", 'plain ("ReLU;ReLU;Linear", nesterov:0.9, lr 0.01)'),
           ("batchnorm", 'BatchNorm ("ReLU;BatchNorm;ReLU;BatchNorm;Linear")'),
           ("dropout", "dropout 0.2,0.2,0.2"),
           ("adam", "Adam (0.9, 0.999, 1e-8; lr 0.001)")]


def read_metrics(path):
    rows = []
    try:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line.startswith("{"):
                    try:
                        row = json.loads(line)
                    except ValueError:
                        continue
                    if "epoch" in row:
                        rows.append(row)
    except OSError:
        pass
    return rows


def fastest_epoch(rows):
    cands = rows[1:] if len(rows) > 1 else rows
    return min(cands, key=lambda r: r.get("seconds", float("inf"))) if cands else None


def accuracy(rows):
    accs = [r.get("test_accuracy") for r in rows if r.get("test_accuracy") is not None]
    if not accs:
        return None, None
    return accs[-1], max(accs)


def load_index(results):
    runs = []
    path = os.path.join(results, "runs.jsonl")
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                if line.strip():
                    runs.append(json.loads(line))
    return runs


def find(runs, **kw):
    for r in reversed(runs):
        if all(str(r.get(k)) == str(v) for k, v in kw.items()):
            return r
    return None


def pct(x):
    return "–" if x is None else f"{100 * x:.2f} %"


def secs(x):
    return "–" if x is None else f"{x:.3f}"


def status(run, rows):
    if run is None:
        return "not run"
    if str(run.get("rc")) != "0":
        return f"failed (exit {run.get('rc')})"
    if not rows:
        return "no metrics"
    return None


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
            final, best = accuracy(rows)
            fe = fastest_epoch(rows)
            vals[impl] = (final, best, fe["seconds"] if fe else None, status(run, rows))
        pf, pb, ps, pst = vals["pytorch"]
        sf, sb, ss, sst = vals["sprig"]
        df = f"{100 * (sf - pf):+.2f} points" if pf is not None and sf is not None else "–"
        db = f"{100 * (sb - pb):+.2f} points" if pb is not None and sb is not None else "–"
        cells = [label, "/".join(sorted(set(epochs))) or "–", pst or pct(pf), pct(pb),
                 sst or pct(sf), pct(sb), df, db, secs(ps), secs(ss)]
        out.append("| " + " | ".join(cells) + " |")
    out.append("\nTarget: Sprig within 1 point of PyTorch for each configuration. "
               "s/epoch: fastest epoch after the first (one run; see part 2 for timings).\n")


def median_fastest(runs, part, impl, config):
    found = [r for r in runs if r.get("part") == part and r.get("impl") == impl
             and r.get("config") == config and str(r.get("rc")) == "0"]
    rows = [fastest_epoch(read_metrics(r["metrics"])) for r in found]
    rows = [r for r in rows if r]
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


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("record")
    for k in ("index", "part", "impl", "tag", "config", "metrics"):
        r.add_argument("--" + k, required=True)
    r.add_argument("--rc", default="0")
    t = sub.add_parser("tables")
    t.add_argument("results")
    t.add_argument("--only", default="1,2")
    a = p.parse_args()
    if a.cmd == "record":
        rec = {k: getattr(a, k) for k in ("part", "impl", "tag", "config", "rc", "metrics")}
        with open(a.index, "a") as f:
            f.write(json.dumps(rec) + "\n")
        return 0
    runs = load_index(a.results)
    only = a.only.split(",")
    out = []
    if "1" in only:
        table1(runs, out)
    if "2" in only:
        table2(runs, out)
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
