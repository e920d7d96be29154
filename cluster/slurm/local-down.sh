#!/usr/bin/env bash
# Stops the local Slurm cluster of cluster/slurm/local-up.sh: every daemon it started (by its
# pid file, then any process still carrying its marker: slurmstepd, job steps), the network
# namespaces it made, and the files it made in its state directory. Safe to run when nothing is up.
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

# The processes whose environment carries the marker (daemons, slurmstepd, jobs). A process
# may exit while we look (No such process) or be another user's: those are skipped quietly.
marked() {
    local environ pid
    for environ in /proc/[0-9]*/environ; do
        pid=${environ#/proc/}; pid=${pid%/environ}
        [ "$pid" = $$ ] && continue
        { tr '\0' '\n' < "$environ"; } 2>/dev/null | grep -qxF "$marker" && echo "$pid"
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

pids=()
for f in "$STATE"/slurmd-*.pid "$STATE"/slurmctld.pid "$STATE"/slurmdbd.pid "$STATE"/mariadbd.pid "$STATE"/munge/munged.pid; do
    [ -f "$f" ] && [ -s "$f" ] || continue
    pid=$(head -c 32 "$f" | tr -d ' \n')
    [[ "$pid" =~ ^[1-9][0-9]{0,9}$ ]] && pids+=("$pid")
done
stop "${pids[@]}"
mapfile -t strays < <(marked)
stop "${strays[@]}"
if [ "$(head -c 8 "$STATE/netns" 2>/dev/null)" = 1 ]; then "$(dirname "$0")/../netns-down.sh" >/dev/null 2>&1; fi

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
