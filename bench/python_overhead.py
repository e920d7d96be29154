#!/usr/bin/env python3
"""The Python face's overhead: `sprig.MLP.fit` against `sprig train`, same configuration, same
machine, interleaved repeats (the VM's speed drifts, so they alternate).

  bench/python_overhead.py [--sprig BIN] [--repeats R] [--epochs E] [--threads T]
                           [--density D] [--sizes 784,1024,512,10]

Each repeat runs the CLI (`sprig train --metrics`) and a Python process that reads Fashion-MNIST
with `sprig.datasets` and calls `fit`, both on the full data set. Figures, median over the
repeats: the training epochs (per run the fastest epoch after the first, as bench/README.md
times every benchmark) and the whole process's wall time (start-up, reading, standardising and
training; the CLI reads the same gzip files). The library is $SPRIG_LIBRARY or the package's.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

PYTHON_RUN = """
import json, sys, sprig
(x, y), (xt, yt) = sprig.datasets.fashion_mnist()
history = sprig.MLP({sizes!r}, overall_density={density}, seed=1).fit(
    x, y, epochs={epochs}, threads={threads}, validation=(xt, yt))
json.dump(list(history), open(sys.argv[1], "w"))
"""


def fastest_after_first(rows):
    rows = rows[1:] or rows
    return min(r["seconds"] for r in rows)


def main():
    p = argparse.ArgumentParser()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    p.add_argument("--sprig", default=os.path.join(root, ".build-test/release/sprig"))
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--density", type=float, default=0.01)
    p.add_argument("--sizes", default="784,1024,512,10")
    a = p.parse_args()
    sizes = [int(s) for s in a.sizes.split(",")]
    env = dict(os.environ)
    env.setdefault("SPRIG_LIBRARY", os.path.join(os.path.dirname(a.sprig), "libSprigC.so"))
    env["PYTHONPATH"] = os.path.join(root, "python") + os.pathsep + env.get("PYTHONPATH", "")
    results = {"cli": {"epoch": [], "wall": []}, "python": {"epoch": [], "wall": []}}
    with tempfile.TemporaryDirectory() as tmp:
        script = os.path.join(tmp, "fit.py")
        with open(script, "w") as f:
            f.write(PYTHON_RUN.format(sizes=sizes, density=a.density, epochs=a.epochs, threads=a.threads))
        for r in range(a.repeats):
            metrics = os.path.join(tmp, f"cli-{r}.jsonl")
            start = time.perf_counter()
            subprocess.run([a.sprig, "train", "--dataset", "fashion-mnist", "--layer-sizes", a.sizes,
                            "--overall-density", str(a.density), "--seed", "1", "--epochs", str(a.epochs),
                            "--threads", str(a.threads), "--metrics", metrics], check=True, capture_output=True, env=env)
            results["cli"]["wall"].append(time.perf_counter() - start)
            results["cli"]["epoch"].append(fastest_after_first([json.loads(l) for l in open(metrics)]))
            history = os.path.join(tmp, f"python-{r}.json")
            start = time.perf_counter()
            subprocess.run([sys.executable, script, history], check=True, capture_output=True, env=env)
            results["python"]["wall"].append(time.perf_counter() - start)
            results["python"]["epoch"].append(fastest_after_first(json.load(open(history))))
            print(f"repeat {r + 1}: cli epoch {results['cli']['epoch'][-1]:.3f} s, wall {results['cli']['wall'][-1]:.2f} s; "
                  f"python epoch {results['python']['epoch'][-1]:.3f} s, wall {results['python']['wall'][-1]:.2f} s", flush=True)
    print(f"\n### Python `fit` vs `sprig train`: Fashion-MNIST {a.sizes}, density {a.density}, {a.epochs} epochs, "
          f"{a.threads} threads, {a.repeats} interleaved repeats (medians)\n")
    print("| measure | CLI | Python | Python / CLI |")
    print("|---|---:|---:|---:|")
    for key, label in (("epoch", "training epoch, s (fastest after the first)"), ("wall", "whole process, s")):
        c, py = statistics.median(results["cli"][key]), statistics.median(results["python"][key])
        print(f"| {label} | {c:.3f} | {py:.3f} | {py / c:.3f} |")
    print("\nTarget: within 5 % (Python / CLI ≤ 1.05).")


if __name__ == "__main__":
    main()
