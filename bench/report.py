#!/usr/bin/env python3
"""Bookkeeping and Markdown tables for bench/run.sh (standard library only).

  report.py record --index RUNS.jsonl --bench 1 --impl pytorch --rc 0 \
      [--density D] [--width W] [--metrics FILE] [--stdout FILE] [--time-file FILE] [--status S]
      appends one run to the index (status is derived from rc unless given).
  report.py pytorch-seconds METRICS.jsonl
      prints the training seconds of the last epoch (for run.sh's time budget), or nothing.
  report.py tables RESULTS_DIR [--only 1,2,3]
      prints the Markdown tables for the runs in RESULTS_DIR/runs.jsonl.

Per-run metrics files are JSON lines with keys epoch, loss, train_accuracy, test_accuracy,
seconds (training time of that epoch only) and examples_per_second.
"""

import argparse
import json
import math
import os
import sys

EXIT_OOM = 3


# ----------------------------------------------------------------------------- reading

def read_json_lines(path):
    """All JSON objects in a file, skipping lines that are not JSON objects."""
    out = []
    if not path or not os.path.exists(path):
        return out
    with open(path, errors="replace") as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if isinstance(obj, dict):
                out.append(obj)
    return out


def epoch_records(path):
    return [r for r in read_json_lines(path) if "epoch" in r and "seconds" in r]


def last_epoch(path):
    recs = epoch_records(path)
    return recs[-1] if recs else None


def peak_from_time_file(path):
    """Max RSS in KiB from a file written by `/usr/bin/time -f '%M' -o FILE`."""
    if not path or not os.path.exists(path):
        return None
    value = None
    with open(path, errors="replace") as f:
        for line in f:
            line = line.strip()
            if line.isdigit():
                value = int(line)
    return value


def stdout_info(path):
    """peak_rss_mb, densities and error lines printed by the program, if any."""
    info = {}
    for obj in read_json_lines(path):
        for key in ("peak_rss_mb", "densities", "error", "rss_after_import_mb"):
            if key in obj:
                info[key] = obj[key]
    return info


# ----------------------------------------------------------------------------- record

def derive_status(rc, stdout_path):
    if rc == 0:
        return "ok"
    info = stdout_info(stdout_path)
    if rc == EXIT_OOM or info.get("error") == "out of memory":
        return "oom"
    if rc in (137, -9):
        return "killed"      # SIGKILL: most likely the kernel's OOM killer
    if rc == 124:
        return "timeout"
    return "failed"


def cmd_record(a):
    status = a.status or derive_status(a.rc, a.stdout)
    info = stdout_info(a.stdout)
    peak_kb = peak_from_time_file(a.time_file)
    if peak_kb is None and "peak_rss_mb" in info:
        peak_kb = int(info["peak_rss_mb"] * 1024)
    rec = {
        "bench": a.bench, "impl": a.impl, "density": a.density, "width": a.width,
        "rc": a.rc, "status": status, "metrics": a.metrics, "stdout": a.stdout,
        "peak_rss_kb": peak_kb, "densities": info.get("densities"),
    }
    last = last_epoch(a.metrics)
    if last is not None:
        rec["last_epoch"] = last
    with open(a.index, "a") as f:
        f.write(json.dumps(rec) + "\n")


def cmd_pytorch_seconds(a):
    last = last_epoch(a.metrics)
    if last is not None:
        print(last["seconds"])


# ----------------------------------------------------------------------------- tables

def fmt(x, digits=2):
    if x is None:
        return "–"
    if isinstance(x, str):
        return x
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:.{digits}f}"


def fmt_density(d):
    return f"{d:g}" if d is not None else "–"


def status_text(run):
    return {"oom": "OOM", "killed": "killed (OOM?)", "timeout": "timeout",
            "skipped-time": "skipped (time)", "failed": f"failed (rc {run.get('rc')})",
            "skipped": "skipped"}.get(run["status"], run["status"])


def table(headers, rows):
    lines = ["| " + " | ".join(headers) + " |",
             "|" + "|".join("---:" if i else "---" for i in range(len(headers))) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def index_runs(runs, bench, key):
    """{(key value, impl): run} for one benchmark; later runs override earlier ones."""
    out = {}
    for r in runs:
        if r.get("bench") == bench:
            out[(r.get(key), r.get("impl"))] = r
    return out


def ordered_keys(runs, bench, key, reverse=False):
    keys = []
    for r in runs:
        if r.get("bench") == bench and r.get(key) not in keys:
            keys.append(r.get(key))
    return sorted(keys, reverse=reverse)


def value(run, field):
    """A field of the last epoch of an ok run, else the status text (or None)."""
    if run is None:
        return None
    if run["status"] != "ok":
        return status_text(run)
    last = last_epoch(run.get("metrics")) or run.get("last_epoch")
    if last is None:
        return "no metrics"
    return last.get(field)


def ratio(a, b):
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and b:
        return a / b
    return None


def best_seconds(run):
    """The fastest epoch after the first (warm-up) of an ok run: the machines here are shared
    and noisy, and noise only ever adds time, so best-of-N is the fair figure for both peers."""
    if run is None:
        return None
    if run["status"] != "ok":
        return status_text(run)
    epochs = epoch_records(run.get("metrics")) if run.get("metrics") else []
    if not epochs:
        return value(run, "seconds")
    timed = epochs[1:] if len(epochs) > 1 else epochs
    return min(e["seconds"] for e in timed)


def bench1(runs):
    idx = index_runs(runs, 1, "density")
    rows = []
    for d in ordered_keys(runs, 1, "density", reverse=True):
        pt = best_seconds(idx.get((d, "pytorch")))
        sp = best_seconds(idx.get((d, "sprig")))
        r = ratio(pt, sp)
        rows.append([fmt_density(d), fmt(pt), fmt(sp), fmt(r) + ("×" if r is not None else "")])
    out = ["### 1. CIFAR-shaped synthetic, 3072-1024-512-10 (seconds per epoch, fastest epoch after the first)", "",
           table(["density", "PyTorch s/epoch", "Sprig s/epoch", "ratio PyTorch/Sprig"], rows)]
    s_001 = best_seconds(idx.get((0.001, "sprig")))
    s_01 = best_seconds(idx.get((0.01, "sprig")))
    r = ratio(s_001, s_01)
    if r is not None:
        out += ["", f"Sprig time at density 0.001 / density 0.01: {r:.3f} "
                    f"({fmt(s_001)} s vs {fmt(s_01)} s)"]
    return "\n".join(out)


def pct(x):
    return f"{100 * x:.2f}%" if isinstance(x, (int, float)) else fmt(x)


def bench2(runs):
    idx = index_runs(runs, 2, "density")
    rows = []
    for d in ordered_keys(runs, 2, "density", reverse=True):
        pt_run, sp_run = idx.get((d, "pytorch")), idx.get((d, "sprig"))
        pt = value(pt_run, "test_accuracy")
        sp = value(sp_run, "test_accuracy")
        diff = (sp - pt) if all(isinstance(v, (int, float)) for v in (pt, sp)) else None
        epochs = value(pt_run, "epoch") if pt_run else value(sp_run, "epoch")
        rows.append([fmt_density(d), epochs if isinstance(epochs, int) else "–",
                     pct(pt), pct(sp),
                     (f"{100 * diff:+.2f} pp" if diff is not None else "–"),
                     fmt(value(pt_run, "seconds")), fmt(value(sp_run, "seconds"))])
    return "\n".join([
        "### 2. Fashion-MNIST, 784-1024-512-10 (final test accuracy)", "",
        table(["density", "epochs", "PyTorch test acc", "Sprig test acc",
               "Sprig − PyTorch", "PyTorch s/epoch", "Sprig s/epoch"], rows)])


def mib(run):
    if run is None:
        return None
    if run["status"] not in ("ok",):
        return status_text(run)
    kb = run.get("peak_rss_kb")
    return kb / 1024.0 if kb is not None else "n/a"


def bench3(runs):
    idx = index_runs(runs, 3, "width")
    rows = []
    for w in ordered_keys(runs, 3, "width"):
        pt_run, sp_run = idx.get((w, "pytorch")), idx.get((w, "sprig"))
        pt_eps = value(pt_run, "examples_per_second")
        sp_eps = value(sp_run, "examples_per_second")
        pt_mem, sp_mem = mib(pt_run), mib(sp_run)
        rs, rm = ratio(sp_eps, pt_eps), ratio(pt_mem, sp_mem)
        rows.append([w, fmt(pt_eps, 1), fmt(pt_mem, 0), fmt(sp_eps, 1), fmt(sp_mem, 0),
                     fmt(rs) + ("×" if rs is not None else ""),
                     fmt(rm) + ("×" if rm is not None else "")])
    return "\n".join([
        "### 3. Width scaling, 3072-W-W-W-10 at overall density 0.01", "",
        table(["W", "PyTorch examples/s", "PyTorch peak MiB", "Sprig examples/s",
               "Sprig peak MiB", "speed Sprig/PyTorch", "memory PyTorch/Sprig"], rows)])


def cmd_tables(a):
    runs = read_json_lines(os.path.join(a.results_dir, "runs.jsonl"))
    only = {int(x) for x in a.only.split(",") if x.strip()} if a.only else {1, 2, 3}
    parts = []
    for n, fn in ((1, bench1), (2, bench2), (3, bench3)):
        if n in only and any(r.get("bench") == n for r in runs):
            parts.append(fn(runs))
    if not parts:
        print(f"no results in {a.results_dir}", file=sys.stderr)
        return 1
    print("\n\n".join(parts))
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("record")
    r.add_argument("--index", required=True)
    r.add_argument("--bench", type=int, required=True)
    r.add_argument("--impl", required=True)
    r.add_argument("--rc", type=int, default=0)
    r.add_argument("--density", type=float)
    r.add_argument("--width", type=int)
    r.add_argument("--metrics")
    r.add_argument("--stdout")
    r.add_argument("--time-file")
    r.add_argument("--status")
    s = sub.add_parser("pytorch-seconds")
    s.add_argument("metrics")
    t = sub.add_parser("tables")
    t.add_argument("results_dir")
    t.add_argument("--only")
    a = p.parse_args(argv)
    if a.cmd == "record":
        cmd_record(a)
    elif a.cmd == "pytorch-seconds":
        cmd_pytorch_seconds(a)
    else:
        return cmd_tables(a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
