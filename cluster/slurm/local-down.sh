#!/usr/bin/env bash
# Stops the local Slurm cluster of cluster/slurm/local-up.sh: every daemon it started (by its
# pid file, then any process still carrying its marker: slurmstepd, job steps), the network
# namespaces it made, and every file in its state directory. Safe to run when nothing is up.
set -uo pipefail
STATE=${SPRIG_SLURM_STATE:-/run/sprig-slurm}
marker="SPRIG_LOCAL_SLURM=$STATE"

# The processes whose environment carries the marker (daemons, slurmstepd, jobs).
marked() {
    local environ pid
    for environ in /proc/[0-9]*/environ; do
        pid=${environ#/proc/}; pid=${pid%/environ}
        [ "$pid" = $$ ] && continue
        tr '\0' '\n' < "$environ" 2>/dev/null | grep -qxF "$marker" && echo "$pid"
    done
}

stop() {   # stop PID...: SIGTERM, up to 5 s, then SIGKILL
    [ $# -gt 0 ] || return 0
    kill -TERM "$@" 2>/dev/null
    for _ in $(seq 1 50); do
        local alive=0 p
        for p in "$@"; do kill -0 "$p" 2>/dev/null && alive=1; done
        [ $alive -eq 0 ] && return 0
        sleep 0.1
    done
    kill -KILL "$@" 2>/dev/null
}

if [ -d "$STATE" ]; then
    pids=()
    for f in "$STATE"/slurmd-*.pid "$STATE"/slurmctld.pid "$STATE"/slurmdbd.pid "$STATE"/mariadbd.pid "$STATE"/munge/munged.pid; do
        [ -s "$f" ] && pids+=("$(cat "$f")")
    done
    stop "${pids[@]}"
    mapfile -t strays < <(marked)
    stop "${strays[@]}"
    if [ "$(cat "$STATE/netns" 2>/dev/null)" = 1 ]; then "$(dirname "$0")/../netns-down.sh" >/dev/null 2>&1; fi
    rm -rf "$STATE"
fi
exit 0
