#!/usr/bin/env bash
# Benchmarks of data-parallel training (figures go to bench/README.md):
#   1. this machine: 2 ranks × 1 thread vs 1 rank × 1 thread, and vs 1 rank × 2 threads,
#      at densities 0.01 and 0.001 (examples/s, fastest epoch after the first);
#   2. bytes allreduced per step against a dense data-parallel trainer (DDP) of the same sizes;
#   3. the local namespace cluster (2 hosts × 1 rank) with links limited to 10 Gbit/s and
#      1 Gbit/s (tc tbf; this VM's kernel has no netem, so no latency is added): allreduce time against buffer size, a fitted α-β model, the share of
#      communication in a step at densities 0.1, 0.01, 0.001, and a projection to 8–256 nodes;
#   4. fused vs per-layer gradient allreduce on the same cluster.
#   bench/distributed.sh [--only 1|2|3] [--epochs E] [--train-size N]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
only="1,2,3"; epochs=4; train=20000
while [ $# -gt 0 ]; do
    case "$1" in
        --only) only=$2; shift 2 ;;
        --epochs) epochs=$2; shift 2 ;;
        --train-size) train=$2; shift 2 ;;
        *) echo "error: distributed.sh: unknown option '$1'" >&2; exit 64 ;;
    esac
done
wants() { [[ ",$only," == *",$1,"* ]]; }
cd "$ROOT"
swift build -c release >/dev/null
SPRIG=$ROOT/.build/release/sprig
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
out=$ROOT/bench/results/distributed-$(date +%Y%m%d-%H%M%S); mkdir -p "$out"
LAYERS=3072,1024,512,10

# best SECONDS-FILE: fastest epoch after the first, as examples/s and seconds
best() { python3 -c "
import json,sys
e=[json.loads(l) for l in open(sys.argv[1]) if l.strip()]
t=e[1:] if len(e)>1 else e
b=min(t,key=lambda r:r['seconds']); print(round(b['examples_per_second']), round(b['seconds'],4), round(b.get('communication_seconds',0),4))" "$1"; }

train_args() { echo --dataset synthetic --layer-sizes $LAYERS --overall-density "$1" --train-size "$train" --test-size 100 --epochs "$epochs"; }

if wants 1; then
    echo "## 1. ranks and threads on this machine ($(nproc) cores), $LAYERS, $train examples, batch 100"
    echo "| density | 1 rank × 1 thread ex/s | 1 rank × 2 threads ex/s | 2 ranks × 1 thread ex/s | 2×1 / 1×1 | 2×1 / 1×2 |"
    echo "|---|---:|---:|---:|---:|---:|"
    for d in 0.01 0.001; do
        "$SPRIG" train $(train_args $d) --threads 1 --metrics "$out/d$d-1x1.jsonl" > /dev/null
        "$SPRIG" train $(train_args $d) --threads 2 --metrics "$out/d$d-1x2.jsonl" > /dev/null
        mpirun -np 2 --map-by slot:PE=1 --bind-to core "$SPRIG" train $(train_args $d) --threads 1 --metrics "$out/d$d-2x1.jsonl" > /dev/null
        a=$(best "$out/d$d-1x1.jsonl" | cut -d' ' -f1); b=$(best "$out/d$d-1x2.jsonl" | cut -d' ' -f1); c=$(best "$out/d$d-2x1.jsonl" | cut -d' ' -f1)
        echo "| $d | $a | $b | $c | $(python3 -c "print(f'{$c/$a:.2f}×')") | $(python3 -c "print(f'{$c/$b:.2f}×')") |"
    done
fi

if wants 2; then
    echo; echo "## 2. bytes allreduced per step, $LAYERS"
    echo "| density | Sprig (4 × (nonzeros + biases + dense weights)) | dense DDP (4 × all weights and biases) | ratio |"
    echo "|---|---:|---:|---:|"
    dense=$(python3 -c "s=[int(x) for x in '$LAYERS'.split(',')]; print(4*sum(a*b+b for a,b in zip(s,s[1:])))")
    for d in 1 0.1 0.01 0.001; do
        p=$("$SPRIG" train --dataset synthetic --layer-sizes $LAYERS --overall-density $d --train-size 10 --test-size 1 --epochs 0 | grep -o '[0-9]* parameters' | cut -d' ' -f1)
        echo "| $d | $((4 * p)) | $dense | $(python3 -c "print(f'{$dense/(4*$p):.1f}×')") |"
    done
fi

if wants 3; then
    [ "$(id -u)" -eq 0 ] || { echo "section 3 needs root (network namespaces)"; exit 0; }
    for d in 0.1 0.01 0.001; do
        "$SPRIG" train --dataset synthetic --layer-sizes $LAYERS --overall-density $d --train-size 10 --test-size 1 --epochs 0 \
            | grep -o '[0-9]* parameters' | cut -d' ' -f1 > "$out/parameters-d$d.txt"
    done
    MCA="--hostfile /run/sprig-netns/hostfile --mca plm_rsh_agent $ROOT/cluster/netns-rsh --mca btl tcp,self --mca btl_tcp_if_include 10.213.47.0/24 --mca oob_tcp_if_include 10.213.47.0/24 --bind-to none"
    for rate in 10gbit 1gbit; do
        cluster/netns-up.sh 2 --slots 1 --rate "$rate" > /dev/null
        mpirun -np 2 $MCA "$SPRIG" mpi-bench --repetitions 15 \
            --bytes 4,256,4096,65536,262144,1048576,4194304,16777216 > "$out/allreduce-$rate.jsonl"
        for d in 0.1 0.01 0.001; do
            mpirun -np 2 $MCA "$SPRIG" train $(train_args $d) --threads 1 --metrics "$out/cluster-$rate-d$d.jsonl" > /dev/null
        done
        for x in fused per-layer; do
            for d in 0.1 0.01; do
                mpirun -np 2 $MCA "$SPRIG" train $(train_args $d) --threads 1 --allreduce $x --metrics "$out/exchange-$rate-$x-d$d.jsonl" > /dev/null
            done
        done
        cluster/netns-down.sh
    done
    python3 "$ROOT/bench/alpha_beta.py" "$out"
    echo; echo "## 4. gradient exchange: fused (one allreduce) vs per-layer (non-blocking, overlapping backward), 2 hosts × 1 rank"
    echo "| link | density | fused ex/s | per-layer ex/s | per-layer / fused |"
    echo "|---|---|---:|---:|---:|"
    for rate in 10gbit 1gbit; do for d in 0.1 0.01; do
        f=$(best "$out/exchange-$rate-fused-d$d.jsonl" | cut -d' ' -f1); p=$(best "$out/exchange-$rate-per-layer-d$d.jsonl" | cut -d' ' -f1)
        echo "| $rate | $d | $f | $p | $(python3 -c "print(f'{$p/$f:.2f}×')") |"
    done; done
fi
echo; echo "raw results: $out"
