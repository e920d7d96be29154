"""Fits T(n) = α + β·n to 2-rank allreduce timings on the shaped namespace cluster, reports the
communication share of training steps, and projects throughput and efficiency to 8–256 nodes.

Projection model (assumptions, stated in the output): weak scaling with 100 examples per node
per step; each node computes as one rank of this machine measured (compute seconds per step from
the 2-rank cluster run); a ring allreduce of n bytes over P nodes costs 2(P−1)·α₁ + 2(P−1)/P·n·β₁,
with α₁ = α/2 and β₁ = β from the 2-rank fit (a 2-rank ring has 2 latency steps, one full
transfer); no overlap of communication with compute (conservative).
"""
import glob
import json
import os
import sys


def lines(path):
    return [json.loads(l) for l in open(path) if l.strip()]


def fit(points):
    """Least squares of the *relative* error (weights 1/t²): message sizes span 7 orders of
    magnitude, and an unweighted fit lets the largest messages decide α."""
    w = [1 / (y * y) for _, y in points]
    sw = sum(w); sx = sum(wi * x for wi, (x, _) in zip(w, points)); sy = sum(wi * y for wi, (_, y) in zip(w, points))
    sxx = sum(wi * x * x for wi, (x, _) in zip(w, points)); sxy = sum(wi * x * y for wi, (x, y) in zip(w, points))
    beta = (sw * sxy - sx * sy) / (sw * sxx - sx * sx)
    return (sy - beta * sx) / sw, beta


def main(out):
    for rate in ("10gbit", "1gbit"):
        path = f"{out}/allreduce-{rate}.jsonl"
        if not os.path.exists(path):
            continue
        pts = [(r["bytes"], r["seconds"]) for r in lines(path)]
        alpha, beta = fit(pts)
        print(f"\n## 3. namespace cluster, links limited to {rate} (tbf), 2 hosts × 1 rank")
        print("| bytes | allreduce s | model α + β·n |")
        print("|---:|---:|---:|")
        for b, t in pts:
            print(f"| {b} | {t:.6f} | {alpha + beta * b:.6f} |")
        print(f"\nα = {alpha * 1e6:.1f} µs, β = {beta * 1e9:.3f} ns/byte (effective {8 / beta / 1e9:.2f} Gbit/s)")
        print("\n| density | step s (slowest rank) | communication s per step | share of step |")
        print("|---|---:|---:|---:|")
        compute_step = {}
        for d in ("0.1", "0.01", "0.001"):
            p = f"{out}/cluster-{rate}-d{d}.jsonl"
            if not os.path.exists(p):
                continue
            e = lines(p)
            t = e[1:] if len(e) > 1 else e
            best = min(t, key=lambda r: r["seconds"])
            steps = best["examples_per_second"] * best["seconds"] / 100
            step = best["seconds"] / steps
            comm = best["communication_seconds"] / steps
            compute_step[d] = step - comm
            print(f"| {d} | {step:.5f} | {comm:.5f} | {100 * comm / step:.1f} % |")
        print("\nProjection, weak scaling (100 examples per node per step), ring allreduce, no overlap:")
        print("| density | bytes/step | nodes | step s | examples/s | efficiency |")
        print("|---|---:|---:|---:|---:|---:|")
        for d, c in compute_step.items():
            n = 4 * int(open(f"{out}/parameters-d{d}.txt").read())
            for P in (8, 16, 32, 64, 128, 256):
                comm = 2 * (P - 1) * alpha / 2 + 2 * (P - 1) / P * n * beta
                step = c + comm
                print(f"| {d} | {n} | {P} | {step:.5f} | {P * 100 / step:.0f} | {c / step:.2f} |")


if __name__ == "__main__":
    main(sys.argv[1])
