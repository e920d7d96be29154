#!/usr/bin/env bash
# A local multi-host cluster on one machine: N network namespaces ("hosts") on one bridge.
#
#   cluster/netns-up.sh N [--slots S] [--rate RATE] [--delay DELAY]
#
# Host i is namespace sprig-h<i> with address 10.213.47.<10+i>/24 on its eth0; the bridge
# sprig-br0 in the root namespace holds 10.213.47.1 (where mpirun listens). The /24 belongs
# to this script alone. --rate (e.g. 10gbit, 1gbit) limits every host's outgoing link with
# tc's token bucket (tbf); --delay (e.g. 50us) adds latency with tc netem, where the kernel
# has it (some VM kernels do not: then the run stops with a message saying so). Writes the hostfile
# /run/sprig-netns/hostfile (S slots per host, default 2) and the address→namespace map the
# launch agent (cluster/netns-rsh) reads. Needs root. cluster/netns-down.sh removes it all.
set -euo pipefail
SUBNET=10.213.47
BRIDGE=sprig-br0
STATE=/run/sprig-netns

fail() { echo "error: netns-up.sh: $*" >&2; exit 64; }
[ $# -ge 1 ] || fail "usage: cluster/netns-up.sh N [--slots S] [--rate RATE] [--delay DELAY]"
hosts=$1; shift
[[ "$hosts" =~ ^[1-9][0-9]{0,2}$ ]] && [ "$hosts" -le 200 ] || fail "N must be 1..200, not '$hosts'"
slots=2; rate=""; delay=""
while [ $# -gt 0 ]; do
    case "$1" in --slots|--rate|--delay) [ $# -ge 2 ] || fail "$1 needs a value" ;; esac
    case "$1" in
        --slots) slots=$2; shift 2 ;;
        --rate) rate=$2; shift 2 ;;
        --delay) delay=$2; shift 2 ;;
        *) fail "unknown option '$1'" ;;
    esac
done
[[ "$slots" =~ ^[1-9][0-9]{0,3}$ ]] && [ "$slots" -le 4096 ] || fail "--slots must be 1..4096, not '$slots'"
[ "$(id -u)" -eq 0 ] || fail "needs root (ip netns)"
tc_rate_bits() {   # 10gbit → 10000000000
    local v=${1%bit} m=1
    case $v in *[gG]) m=1000000000; v=${v%?} ;; *[mM]) m=1000000; v=${v%?} ;; *[kK]) m=1000; v=${v%?} ;; esac
    [[ "$v" =~ ^[0-9]+$ ]] && [[ "$1" == *bit ]] || return 1
    echo $(( v * m ))
}
command -v ip >/dev/null || fail "ip (iproute2) is not installed"

"$(dirname "$0")/netns-down.sh" >/dev/null 2>&1 || true
mkdir -p "$STATE"
ip link add "$BRIDGE" type bridge
ip addr add "$SUBNET.1/24" dev "$BRIDGE"
ip link set "$BRIDGE" up
: > "$STATE/hosts"
: > "$STATE/hostfile"
for i in $(seq 1 "$hosts"); do
    ns=sprig-h$i; address=$SUBNET.$((10 + i))
    ip netns add "$ns"
    ip link add "sprig-v$i" type veth peer name eth0 netns "$ns"
    ip link set "sprig-v$i" master "$BRIDGE" up
    ip -n "$ns" addr add "$address/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" link set lo up
    parent=(root)
    if [ -n "$delay" ]; then
        ip netns exec "$ns" tc qdisc add dev eth0 root handle 1: netem delay "$delay" 2>/dev/null \
            || { "$(dirname "$0")/netns-down.sh"; fail "--delay needs the netem qdisc, which this kernel lacks (tc qdisc add … netem failed)"; }
        parent=(parent 1:1)
    fi
    if [ -n "$rate" ]; then
        # A bucket of 1 ms at the rate (at least 64 KiB), packets queued up to 20 ms.
        bits=$(tc_rate_bits "$rate") || fail "--rate '$rate' is not a rate like 10gbit or 500mbit"
        burst=$(( bits / 8 / 1000 )); [ $burst -ge 65536 ] || burst=65536
        ip netns exec "$ns" tc qdisc add dev eth0 "${parent[@]}" handle 2: tbf rate "$rate" burst "$burst" latency 20ms
    fi
    echo "$address $ns" >> "$STATE/hosts"
    echo "$address slots=$slots" >> "$STATE/hostfile"
done
echo "cluster: $hosts hosts on $SUBNET.0/24${rate:+, rate $rate}${delay:+, delay $delay}; hostfile $STATE/hostfile"
