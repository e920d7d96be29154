#!/usr/bin/env python3
"""Tables for bench/fssl.sh (standard library only).

  fssl_report.py record --index FILE --part 1 --impl sprig --tag T --density D --method M
                        [--rc RC] --metrics FILE
  fssl_report.py tables RESULTS_DIR
  fssl_report.py matched-density METRICS   the overall density of a static 784-1024-1024-10
                                           network with the compact network's nonzeros
  fssl_report.py compact-sizes METRICS     the compact network's layer sizes, comma-separated

Timing rule: per run the median of its epochs after the first; per configuration the median
over its repeats (the compact and matched runs are interleaved).
"""

import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_report import find, main, pct, read_metrics, secs, status  # noqa: E402

ORIGINAL = [784, 1024, 1024, 10]
CELLS = sum(a * b for a, b in zip(ORIGINAL, ORIGINAL[1:]))


def run_median(rows, key):
    """The median of `key` over a run's epochs after the first (the only one when there is one)."""
    rows = rows[1:] or rows
    return statistics.median(r[key] for r in rows) if rows else None


def repeated(runs, density, method, key):
    """The median over the repeats of `method` at `density` of each run's median `key`."""
    values = [run_median(read_metrics(r["metrics"]), key) for r in runs
              if r.get("density") == density and r.get("method") == method and str(r.get("rc")) == "0"]
    values = [v for v in values if v is not None]
    return (statistics.median(values), len(values)) if values else (None, 0)


def table(runs, out):
    out.append("### Fashion-MNIST 784-1024-1024-10, 20 epochs: static sparse vs FSSL vs importance pruning\n")
    out.append("| density | method | final test | − static | final sizes | nonzeros | hidden removed "
               "| compact s/epoch | matched static s/epoch | speed-up | repeats | compact inference s (10k) "
               "| matched inference s |")
    out.append("|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    densities = sorted({r["density"] for r in runs}, key=lambda d: -float(d))
    for d in densities:
        static_rows = read_metrics((find(runs, density=d, method="static") or {}).get("metrics", ""))
        static_acc = static_rows[-1]["test_accuracy"] if static_rows else None
        for method in ("static", "fssl", "importance"):
            run = find(runs, density=d, method=method)
            rows = read_metrics(run["metrics"]) if run else []
            if not rows:
                out.append(f"| {d} | {method} | {status(run, rows)} |" + " – |" * 11)
                continue
            last = rows[-1]
            sizes = last.get("layer_sizes") or ORIGINAL
            nonzeros = sum(last["nonzeros"]) if last.get("nonzeros") else None
            removed = 1 - sum(sizes[1:-1]) / sum(ORIGINAL[1:-1])
            diff = f"{100 * (last['test_accuracy'] - static_acc):+.2f}" if static_acc is not None else "–"
            if method == "static":
                t, n = run_median(rows, "seconds"), 1
                tm, ev, evm = None, run_median(rows, "evaluation_seconds"), None
            else:
                t, n = repeated(runs, d, f"compact-{method}", "seconds")
                tm, _ = repeated(runs, d, f"matched-{method}", "seconds")
                ev, _ = repeated(runs, d, f"compact-{method}", "evaluation_seconds")
                evm, _ = repeated(runs, d, f"matched-{method}", "evaluation_seconds")
            out.append("| " + " | ".join([
                d, method, pct(last["test_accuracy"]), diff if method != "static" else "–",
                "-".join(map(str, sizes)), f"{nonzeros:,}" if nonzeros else "as drawn",
                f"{100 * removed:.1f} %", secs(t), secs(tm), f"{tm / t:.2f}×" if tm and t else "–", str(n),
                secs(ev), secs(evm)]) + " |")
    out.append("\nStatic: s/epoch is its own run's (the full network). Compact: the final network trained on "
               "from its saved weights; matched: a static 784-1024-1024-10 network with as many nonzeros.")
    out.append("Targets: at most 1 point below static, ≥ 50 % of the hidden neurons removed, the compact "
               "network ≥ 1.5× faster per epoch than the matched one.\n")


def matched_density(path):
    rows = read_metrics(path)
    if not rows or not rows[-1].get("nonzeros"):
        return 1
    print(f"{sum(rows[-1]['nonzeros']) / CELLS:.8f}")
    return 0


def compact_sizes(path):
    rows = read_metrics(path)
    if not rows or not rows[-1].get("layer_sizes"):
        return 1
    print(",".join(map(str, rows[-1]["layer_sizes"])))
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "matched-density":
        sys.exit(matched_density(sys.argv[2]))
    if len(sys.argv) == 3 and sys.argv[1] == "compact-sizes":
        sys.exit(compact_sizes(sys.argv[2]))
    sys.exit(main(("part", "impl", "tag", "density", "method", "rc", "metrics"),
                  {"rc": "0"}, [("1", table)], "1"))
