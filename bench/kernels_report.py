#!/usr/bin/env python3
"""The roofline table of bench/kernels.sh: kernels_report.py RESULTS_DIR.

RESULTS_DIR holds new-R.jsonl (and old-R.jsonl with --baseline), each the output of one
`sprig kernel-bench`; every figure is the median over the runs.
"""
import glob
import json
import os
import statistics
import sys


def runs(directory, side):
    out = []
    for path in sorted(glob.glob(os.path.join(directory, f"{side}-*.jsonl"))):
        with open(path) as f:
            out.append([json.loads(line) for line in f if line.strip()])
    return out


def median_of(values):
    return statistics.median(values) if values else float("nan")


def main():
    directory = sys.argv[1]
    new, old = runs(directory, "new"), runs(directory, "old")
    machines = [line["machine"] for run in new for line in run if "machine" in line]
    keys = ["sgemm_gflops", "l2_gbytes_per_second", "l3_gbytes_per_second", "dram_gbytes_per_second"]
    m = {k: median_of([x[k] for x in machines]) for k in keys}
    print(f"Machine (medians of {len(new)} runs): sgemm {m['sgemm_gflops']:.0f} GFLOP/s; read bandwidth "
          f"L2 {m['l2_gbytes_per_second']:.0f}, L3 {m['l3_gbytes_per_second']:.0f}, "
          f"DRAM {m['dram_gbytes_per_second']:.0f} GB/s.\n")

    def collect(side_runs):
        table = {}
        for run in side_runs:
            for line in run:
                if "kernel" in line:
                    table.setdefault((line["width"], line["density"], line["kernel"]), []).append(line)
        return table

    current, baseline = collect(new), collect(old)
    header = "| W | density | kernel | nnz | GFLOP/s | % of sgemm | B/nnz | gathers from | bound | % of bound |"
    if baseline:
        header += " before GFLOP/s | new/before |"
    print(header)
    print("|" + "---|" * (header.count("|") - 1))
    order = {"forward": 0, "transposed": 1, "sddmm": 2}
    for key in sorted(current, key=lambda k: (k[0], -k[1], order.get(k[2], 9))):
        lines = current[key]
        first = lines[0]
        gflops = median_of([x["gflops"] for x in lines])
        bound = median_of([x["bound_gflops"] for x in lines])
        row = (f"| {key[0]} | {key[1]} | {key[2]} | {first['nonzeros']:,} | {gflops:.1f} | "
               f"{100 * gflops / m['sgemm_gflops']:.0f} % | {first['bytes_per_nonzero']} | {first['gathered_from']} | "
               f"{first['bound']} ({bound:.0f}) | {100 * gflops / bound:.0f} % |")
        if baseline:
            before = median_of([x["gflops"] for x in baseline.get(key, [])])
            row += f" {before:.1f} | {gflops / before:.2f}× |"
        print(row)
    skipped = sorted({(x["width"], x["density"]) for run in new for x in run if "skipped" in x})
    if skipped:
        print("\nSkipped (over --max-nonzeros): " + ", ".join(f"W={w} at {d}" for w, d in skipped))


if __name__ == "__main__":
    main()
