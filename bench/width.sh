#!/usr/bin/env bash
# Width: 3072-W-W-W-10 on CIFAR-shaped synthetic data at a constant number of nonzeros per
# hidden neuron (overall density 5·10⁻⁵ · 2^20 / W: about 52 per neuron, the 3-million-neuron
# network's at W = 2^20), one epoch. Per width: examples/s, peak memory (the process's maximum
# resident set), start-up (process start to the run's summary, i.e. data, patterns and
# transpose plans), the loss over the epoch and the test loss and accuracy after it.
#
#   bench/width.sh [--widths 1024,4096,…] [--train-size N] [--test-size N] [--threads T] [--sprig BIN]
#
# Defaults: widths 1024,4096,16384,65536,262144,1048576; 3 000 training and 300 test examples;
# the machine's cores. The table goes to standard output and to bench/results/width-<timestamp>/.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
WIDTHS=1024,4096,16384,65536,262144,1048576 TRAIN=3000 TEST=300
while [[ $# -gt 0 ]]; do
    case $1 in
        --widths) WIDTHS=$2; shift 2 ;;
        --train-size) TRAIN=$2; shift 2 ;;
        --test-size) TEST=$2; shift 2 ;;
        --threads) THREADS=$2; shift 2 ;;
        --sprig) SPRIG_BIN=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "error: unknown option '$1' (see bench/width.sh --help)" >&2; exit 2 ;;
    esac
done
[[ "$WIDTHS" =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] || { echo "error: --widths takes positive integers separated by commas, got '$WIDTHS'" >&2; exit 2; }
for value in "$TRAIN" "$TEST" "$THREADS"; do
    [[ "$value" =~ ^[1-9][0-9]*$ ]] || { echo "error: --train-size, --test-size and --threads take positive integers, got '$value'" >&2; exit 2; }
done
sprig_and_baseline
OUT="$ROOT/bench/results/width-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"
python3 - "$SPRIG_BIN" "$WIDTHS" "$TRAIN" "$TEST" "$THREADS" "$OUT" <<'PY' | tee "$OUT/report.md"
import json, os, subprocess, sys, time
binary, widths, train, test, threads, out = sys.argv[1], [int(w) for w in sys.argv[2].split(",")], *sys.argv[3:6], sys.argv[6]
print(f"`bench/width.sh --widths {sys.argv[2]} --train-size {train} --test-size {test} --threads {threads}`\n")
print("| W | overall density | parameters | examples/s | peak memory | start-up | loss over the epoch | test loss | test accuracy |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
failed = False
for w in widths:
    density = min(1.0, 5e-5 * 2**20 / w)
    metrics = f"{out}/w{w}.metrics.jsonl"
    command = ["/usr/bin/time", "-f", "peak %M", binary, "train", "--dataset", "synthetic",
               "--layer-sizes", f"3072,{w},{w},{w},10", "--overall-density", f"{density:.6g}",
               "--train-size", train, "--test-size", test, "--epochs", "1", "--threads", threads,
               "--seed", "1", "--metrics", metrics]
    start = time.monotonic()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env=dict(os.environ, SPRIG_PROGRESS_SECONDS="1"))
    startup, parameters, peak, log = None, "?", None, []
    for line in process.stdout:
        log.append(line)
        if startup is None and line.strip().endswith("parameters (weights and biases)"):
            startup = time.monotonic() - start
            parameters = f"{int(line.split()[0]):,}"
        if line.startswith("peak "):
            peak = int(line.split()[1]) / 1024
    process.wait()
    open(f"{out}/w{w}.log", "w").writelines(log)
    if process.returncode != 0:
        reason = next((l.strip() for l in reversed(log) if l.startswith("error:")), log[-1].strip() if log else "")
        print(f"| {w} | {density:.3g} | failed (exit {process.returncode}): {reason} | | | | | | |")
        failed = True
        continue
    epoch = [json.loads(l) for l in open(metrics)][-1]
    print(f"| {w:,} | {density:.3g} | {parameters} | {epoch['examples_per_second']:,.0f} | {peak:,.0f} MiB | {startup:.1f} s | "
          f"{epoch['loss']:.4f} | {epoch['test_loss']:.4f} | {100 * epoch['test_accuracy']:.1f} % |", flush=True)
sys.exit(1 if failed else 0)
PY
