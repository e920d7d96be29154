#!/usr/bin/env bash
# Removes the local cluster made by cluster/netns-up.sh: its namespaces, veths and bridge.
set -uo pipefail
for ns in $(ip netns list 2>/dev/null | awk '$1 ~ /^sprig-h[0-9]+$/ { print $1 }'); do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
    ip netns del "$ns"
done
ip link del sprig-br0 2>/dev/null
rm -rf /run/sprig-netns
exit 0
