#!/usr/bin/env bash
# Stops the local Slurm cluster of cluster/slurm/local-up.sh: its jobs (scancel, while
# slurmctld is up), every daemon it started (by its pid file, then any process still carrying
# its marker: slurmstepd, job steps; never this script's own callers, which carry it when they
# sourced the env file), the network namespaces it made (removal retried, then checked), and
# the files it made in its state directory. Safe to run when nothing is up. Should a process or
# a namespace of the cluster survive, one `error:` line names it, the state directory stays
# (a second run finishes the work) and the status is 1.
#
# Only a state directory that local-up.sh made (it holds the file .sprig-local-slurm) is
# touched, and in it only what the cluster makes (an allow-list); the directory goes when that
# leaves it empty. Any other existing directory named by SPRIG_SLURM_STATE is refused with one
# `error:` line and status 64, and nothing is stopped or removed.
set -uo pipefail
STATE=${SPRIG_SLURM_STATE:-/run/sprig-slurm}
while [ "${#STATE}" -gt 1 ] && [ "${STATE%/}" != "$STATE" ]; do STATE=${STATE%/}; done
OWNER=.sprig-local-slurm   # local-up.sh's file in a state directory of its own making
fail() { echo "error: local-down.sh: $*" >&2; exit 64; }

case $STATE in /*) ;; *) fail "SPRIG_SLURM_STATE must be an absolute path, not '$STATE'" ;; esac
if [ ! -e "$STATE" ] && [ ! -L "$STATE" ]; then exit 0; fi   # nothing is up
[ -d "$STATE" ] && [ ! -L "$STATE" ] || fail "SPRIG_SLURM_STATE '$STATE' is not a directory local-up.sh made: left alone"
[ -f "$STATE/$OWNER" ] && [ ! -L "$STATE/$OWNER" ] ||
    fail "'$STATE' is not a state directory of cluster/slurm/local-up.sh (it has no $OWNER): nothing stopped or removed"
marker="SPRIG_LOCAL_SLURM=$STATE"

# This script and its callers: a caller that sourced the env file (a shell, `timeout`, a test
# wrapper) carries the marker too, and must not be stopped by the script it is waiting for.
ours=" $$ "
p=$$
while p=$(awk '/^PPid:/ { print $2; exit }' "/proc/$p/status" 2>/dev/null) && [ -n "$p" ] && [ "$p" -gt 1 ]; do ours+="$p "; done

# True when PID is this script or one of its callers, or a process this script started (its
# own subshells and pipelines, which inherit the marker).
is_ours() {
    local p=$1 hops=0
    case "$ours" in *" $1 "*) return 0 ;; esac
    while [ -n "$p" ] && [ "$p" -gt 1 ] && [ $hops -lt 64 ]; do
        [ "$p" = $$ ] && return 0
        p=$(awk '/^PPid:/ { print $2; exit }' "/proc/$p/status" 2>/dev/null); hops=$((hops + 1))
    done
    return 1
}

# The processes whose environment carries the marker (daemons, slurmstepd, jobs), less ours. A
# process may exit while we look (No such process) or be another user's: skipped quietly.
marked() {
    local environ pid
    for environ in /proc/[0-9]*/environ; do
        pid=${environ#/proc/}; pid=${pid%/environ}
        { tr '\0' '\n' < "$environ"; } 2>/dev/null | grep -qxF "$marker" && ! is_ours "$pid" && echo "$pid"
    done
}

alive() {   # alive PID: running (a zombie waiting for its parent has ended)
    local state
    state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
    [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

stop() {   # stop PID...: SIGTERM, up to 5 s, then SIGKILL
    [ $# -gt 0 ] || return 0
    kill -TERM "$@" 2>/dev/null
    for _ in $(seq 1 50); do
        local running=0 p
        for p in "$@"; do alive "$p" && running=1; done
        [ $running -eq 0 ] && return 0
        sleep 0.1
    done
    kill -KILL "$@" 2>/dev/null
    sleep 0.2
}

daemon_pid() {   # daemon_pid FILE: the pid a pid file names, when it is a live process
    local pid
    [ -f "$1" ] && [ -s "$1" ] || return 1
    pid=$(head -c 32 "$1" | tr -d ' \n')
    [[ "$pid" =~ ^[1-9][0-9]{0,9}$ ]] && alive "$pid" && echo "$pid"
}

# The jobs first, while slurmctld is up: cancelled, and given up to 10 s to end (their ranks
# stop at the end of a step), so that no step is being started while the daemons go.
if daemon_pid "$STATE/slurmctld.pid" >/dev/null && [ -f "$STATE/slurm.conf" ]; then
    export SLURM_CONF=$STATE/slurm.conf
    mapfile -t jobs < <(timeout 10 squeue -h -o %A 2>/dev/null)
    if [ ${#jobs[@]} -gt 0 ]; then
        timeout 10 scancel "${jobs[@]}" >/dev/null 2>&1
        for _ in $(seq 1 50); do
            [ -z "$(timeout 5 squeue -h -o %A 2>/dev/null)" ] && break
            sleep 0.2
        done
    fi
fi

# The daemons (slurmd first: no new step starts), then whatever still carries the marker.
pids=()
for f in "$STATE"/slurmd-*.pid "$STATE"/slurmctld.pid "$STATE"/slurmdbd.pid "$STATE"/mariadbd.pid "$STATE"/munge/munged.pid; do
    pid=$(daemon_pid "$f") && pids+=("$pid")
done
stop "${pids[@]}"
mapfile -t strays < <(marked)
stop "${strays[@]}"

# The namespaces: netns-down.sh, then again for any still there (a process may have been
# starting in one), a few times.
namespaces() { ip netns list 2>/dev/null | awk '$1 ~ /^sprig-h[0-9]+$/ { print $1 }'; }
netns=0
[ "$(head -c 8 "$STATE/netns" 2>/dev/null)" = 1 ] && netns=1
if [ $netns -eq 1 ]; then
    for _ in 1 2 3 4 5; do
        "$(dirname "$0")/../netns-down.sh" >/dev/null 2>&1
        [ -z "$(namespaces)" ] && break
        sleep 0.5
    done
fi

# Nothing of the cluster may be left running.
mapfile -t survivors < <(marked)
problems=""
[ ${#survivors[@]} -eq 0 ] || problems="processes ${survivors[*]} still run"
if [ $netns -eq 1 ] && [ -n "$(namespaces)" ]; then
    problems="${problems:+$problems; }network namespaces $(namespaces | tr '\n' ' ')are still there"
fi
if [ -n "$problems" ]; then
    echo "error: local-down.sh: $problems (run cluster/slurm/local-down.sh again; the state directory $STATE is kept)" >&2
    exit 1
fi

# What local-up.sh and its daemons make in the state directory, and nothing else.
shopt -s nullglob
rm -rf -- "$STATE"/{munge,ctld,log,db,spool,tmp} "$STATE"/{netns,env,slurm.conf,slurmdbd.conf,mysql.sock,mysql.sock.lock} \
    "$STATE"/{slurmctld,slurmdbd,mariadbd}.pid "$STATE"/slurmd-*.pid
left=$(ls -A -- "$STATE" 2>/dev/null | grep -vxF "$OWNER" | head -3 | tr '\n' ' ')
if [ -z "$left" ]; then
    rm -f -- "$STATE/$OWNER" && rmdir -- "$STATE" 2>/dev/null
else
    echo "note: local-down.sh: kept $STATE: it also holds files the cluster did not make (${left% })" >&2
fi
exit 0
