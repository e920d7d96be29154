"""Plots of a scaling CSV (from cluster/scaling.sh): throughput, efficiency and the time
breakdown (compute vs communication per epoch), one PNG each, per scaling mode."""
import csv
import sys
from collections import defaultdict

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt


def main(path, out):
    rows = list(csv.DictReader(open(path)))
    series = defaultdict(list)
    for r in rows:
        series[(r["mode"], r["density"])].append(r)
    for mode in sorted({r["mode"] for r in rows}):
        keys = sorted(k for k in series if k[0] == mode)
        fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
        for _, density in keys:
            pts = sorted(series[(mode, density)], key=lambda r: int(r["ranks"]))
            ranks = [int(r["ranks"]) for r in pts]
            axes[0].plot(ranks, [float(r["examples_per_second"]) for r in pts], "o-", label=f"density {density}")
            axes[1].plot(ranks, [float(r["efficiency"]) for r in pts], "o-", label=f"density {density}")
            x = [f"{density}\nP={p}" for p in ranks]
            compute = [float(r["compute_seconds"]) for r in pts]
            comm = [float(r["communication_seconds"]) for r in pts]
            axes[2].bar(x, compute, color="tab:blue")
            axes[2].bar(x, comm, bottom=compute, color="tab:orange")
        axes[0].set(title=f"{mode} scaling: throughput", xlabel="ranks", ylabel="examples/s")
        axes[1].set(title="efficiency", xlabel="ranks", ylabel="vs 1 rank", ylim=(0, 1.2))
        axes[2].set(title="epoch: compute (blue) + communication (orange)", ylabel="seconds")
        axes[2].tick_params(axis="x", labelsize=7)
        for a in axes[:2]:
            a.set_xscale("log", base=2)
            a.legend()
            a.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(f"{out}/scaling-{mode}.png", dpi=110)
        print(f"wrote {out}/scaling-{mode}.png")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
