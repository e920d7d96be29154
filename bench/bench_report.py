"""Shared helpers of the benchmark tables (bench/dst_report.py, bench/layers_report.py).

Standard library only.  The report scripts import it from their own directory (they put it
on sys.path), so they run from any working directory.
"""

import argparse
import json
import os


def read_metrics(path):
    """The epoch rows of a metrics JSON-lines file (missing file or bad lines: skipped)."""
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


def fastest_epoch(rows, regrow=False):
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


def fastest_epochs(found, regrow=False):
    """The fastest epoch (after the first; with a regrow when `regrow`) of each successful run."""
    rows = [fastest_epoch(read_metrics(r["metrics"]), regrow) for r in found if str(r.get("rc")) == "0"]
    return [row for row in rows if row]


def pct(x):
    return "–" if x is None else f"{100 * x:.2f} %"


def secs(x):
    return "–" if x is None else f"{x:.3f}"


def status(run, rows=None):
    """Why a run has no figures ("not run", "failed (exit N)", with rows given and empty
    "no metrics"), else None."""
    if run is None:
        return "not run"
    if str(run.get("rc")) != "0":
        return f"failed (exit {run.get('rc')})"
    if rows is not None and not rows:
        return "no metrics"
    return None


def accuracy_values(run, rows, regrow=False, check_rows=False):
    """(final, best, fastest epoch's seconds, status) of one run's metrics rows."""
    final, best = accuracy(rows)
    fe = fastest_epoch(rows, regrow)
    return final, best, fe["seconds"] if fe else None, status(run, rows if check_rows else None)


def accuracy_cells(vals):
    """The accuracy table's cells from {"pytorch": accuracy_values, "sprig": ...}: each
    system's final and best, Sprig − PyTorch (final, best), each system's s/epoch."""
    pf, pb, ps, pst = vals["pytorch"]
    sf, sb, ss, sst = vals["sprig"]
    df = f"{100 * (sf - pf):+.2f} points" if pf is not None and sf is not None else "–"
    db = f"{100 * (sb - pb):+.2f} points" if pb is not None and sb is not None else "–"
    return [pst or pct(pf), pct(pb), sst or pct(sf), pct(sb), df, db, secs(ps), secs(ss)]


def main(fields, optional, tables, only):
    """The report's command line: `record --index FILE --FIELD V ... --rc RC --metrics FILE`
    appends {field: value} (in `fields` order) to the index; `tables RESULTS [--only ...]`
    prints the tables, `tables` being (part, function(runs, out)) pairs.  `optional` maps the
    fields that may be left out to their defaults; the others are required."""
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("record")
    r.add_argument("--index", required=True)
    for k in fields:
        if k in optional:
            r.add_argument("--" + k, default=optional[k])
        else:
            r.add_argument("--" + k, required=True)
    t = sub.add_parser("tables")
    t.add_argument("results")
    t.add_argument("--only", default=only)
    a = p.parse_args()
    if a.cmd == "record":
        rec = {k: getattr(a, k) for k in fields}
        with open(a.index, "a") as f:
            f.write(json.dumps(rec) + "\n")
        return 0
    runs = load_index(a.results)
    parts = a.only.split(",")
    out = []
    for part, table in tables:
        if part in parts:
            table(runs, out)
    print("\n".join(out))
    return 0
