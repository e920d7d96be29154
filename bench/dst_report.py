#!/usr/bin/env python3
"""Tables for bench/dst.sh (standard library only).

  dst_report.py record --index FILE --part P --impl I --tag T [--density D] [--rule R]
                       [--ranks N] [--rc RC] --metrics FILE
  dst_report.py tables RESULTS_DIR [--only 1,2,3]

Timing rule (bench/README.md): the fastest epoch after the first.  For a run with regrow
once per epoch the candidates are the epochs after the first that contain a topology step
(regrown > 0; the last epoch has none), so that the topology time is in the epoch measured.
"""

import argparse
import json
import statistics
import os
import sys


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


def fastest_epoch(rows, regrow):
    """The row of the fastest epoch after the first (with a topology step when regrow)."""
    cands = rows[1:] if len(rows) > 1 else rows
    if regrow:
        with_step = [r for r in cands if (r.get("regrown") or 0) > 0]
        cands = with_step or cands
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


def status(run):
    if run is None:
        return "not run"
    if str(run.get("rc")) != "0":
        return f"failed (exit {run.get('rc')})"
    return None


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
            cells = []
            vals = {}
            for impl in ("pytorch", "sprig"):
                run = find(runs, part="1", impl=impl, density=d, rule=key)
                rows = read_metrics(run["metrics"]) if run else []
                final, best = accuracy(rows)
                fe = fastest_epoch(rows, key != "static")
                vals[impl] = (final, best, fe["seconds"] if fe else None, status(run))
            pf, pb, ps, pst = vals["pytorch"]
            sf, sb, ss, sst = vals["sprig"]
            df = f"{100 * (sf - pf):+.2f} points" if pf is not None and sf is not None else "–"
            db = f"{100 * (sb - pb):+.2f} points" if pb is not None and sb is not None else "–"
            cells = [d, label, pst or pct(pf), pct(pb), sst or pct(sf), pct(sb), df, db,
                     secs(ps), secs(ss)]
            out.append("| " + " | ".join(cells) + " |")
    out.append("\nTarget: Sprig within 1 point of PyTorch for each rule.\n")


def repeats(runs, part, prefix=None, **kw):
    """Every run of `part` matching kw whose tag is `prefix` or `prefix`-rN (a repeat)."""
    found = []
    for r in runs:
        if r.get("part") != part or not all(str(r.get(k)) == str(v) for k, v in kw.items()):
            continue
        tag = r.get("tag", "")
        if prefix is None or tag == prefix or tag.startswith(prefix + "-r"):
            found.append(r)
    return found


def fastest_epochs(found, regrow):
    """The fastest epoch (after the first; with a regrow when `regrow`) of each successful run."""
    rows = [fastest_epoch(read_metrics(r["metrics"]), regrow) for r in found if str(r.get("rc")) == "0"]
    return [row for row in rows if row]


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


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("record")
    for k in ("index", "part", "impl", "tag", "metrics"):
        r.add_argument("--" + k, required=True)
    r.add_argument("--density", default=None)
    r.add_argument("--rule", default=None)
    r.add_argument("--ranks", default="1")
    r.add_argument("--rc", default="0")
    t = sub.add_parser("tables")
    t.add_argument("results")
    t.add_argument("--only", default="1,2,3")
    a = p.parse_args()
    if a.cmd == "record":
        rec = {k: getattr(a, k) for k in ("part", "impl", "tag", "density", "rule", "ranks",
                                          "rc", "metrics")}
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
    if "3" in only:
        table3(runs, out)
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
