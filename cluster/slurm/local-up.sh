#!/usr/bin/env bash
# A real Slurm cluster on this machine: munged, MariaDB with slurmdbd (accounting: sacct),
# slurmctld, and one slurmd per node.
#
#   cluster/slurm/local-up.sh [N] [--cpus C]     N nodes (default 2), C CPUs each (default: all cores)
#   source /run/sprig-slurm/env                  then sbatch, srun, squeue, sacct, scancel as usual
#   cluster/slurm/local-down.sh                  stops every daemon it started and removes every file
#
# Nodes are the network-namespace hosts of cluster/netns-up.sh: node sprig-h<i> runs its slurmd
# in namespace sprig-h<i> with that hostname (a private UTS namespace) at 10.213.47.<10+i>, so
# `sbatch -N 2` spans two hosts that talk TCP over the bridge; slurmctld, slurmdbd and munged run
# in the root namespace (the bridge's 10.213.47.1). Where network namespaces cannot be made, the
# cluster has one node, in the root namespace on 127.0.0.1, and says so. Each node offers C CPUs:
# all cores by default, since every namespace sees them all (two nodes share the real cores).
#
# The configuration is generated in /run/sprig-slurm (SPRIG_SLURM_STATE): slurm.conf (one
# partition "local"; MpiDefault=pmix when Slurm's PMIx plugin is installed, else none, said),
# slurmdbd.conf, the munge key, state, spool and log directories, pid files. Its own ports
# (SPRIG_SLURM_PORT, default 26817: slurmctld; +1 slurmd; +2 slurmdbd; +3 MariaDB, on
# 127.0.0.1 only). Installs the Debian packages it needs when they are missing. Needs root.
# The state directory is one of its own: made with the file .sprig-local-slurm in it, which
# local-down.sh requires before it removes anything; an existing directory without it that is
# not empty is refused (an absolute path is needed).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
STATE=${SPRIG_SLURM_STATE:-/run/sprig-slurm}
while [ "${#STATE}" -gt 1 ] && [ "${STATE%/}" != "$STATE" ]; do STATE=${STATE%/}; done
OWNER=.sprig-local-slurm   # our file in a state directory of our own (local-down.sh needs it)
PORT=${SPRIG_SLURM_PORT:-26817}
SUBNET=10.213.47

fail() { echo "error: local-up.sh: $*" >&2; exit 64; }
nodes=2; cpus=$(nproc)
while [ $# -gt 0 ]; do
    case "$1" in
        --cpus) [ $# -ge 2 ] || fail "--cpus needs a number"; cpus=$2; shift 2 ;;
        -h|--help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) fail "unknown option '$1'" ;;
        *) nodes=$1; shift ;;
    esac
done
# The state directory first: one of ours (the marker), or absent, or empty; never another.
case $STATE in /*) ;; *) fail "SPRIG_SLURM_STATE must be an absolute path, not '$STATE'" ;; esac
if [ -e "$STATE" ] || [ -L "$STATE" ]; then
    [ -d "$STATE" ] && [ ! -L "$STATE" ] || fail "SPRIG_SLURM_STATE '$STATE' is not a directory"
    if ! { [ -f "$STATE/$OWNER" ] && [ ! -L "$STATE/$OWNER" ]; } && [ -n "$(ls -A -- "$STATE" 2>/dev/null | head -1)" ]; then
        fail "'$STATE' is not empty and not a state directory of local-up.sh (no $OWNER): set SPRIG_SLURM_STATE to a new directory"
    fi
fi
# Digits are checked before any arithmetic (bash would misread 08 as octal, overflow at 2^63).
[[ "$nodes" =~ ^[1-9][0-9]{0,2}$ ]] && [ "$nodes" -le 64 ] || fail "N must be 1..64 nodes, not '$nodes'"
[[ "$cpus" =~ ^[1-9][0-9]{0,3}$ ]] && [ "$cpus" -le 4096 ] || fail "--cpus must be 1..4096 CPUs per node, not '$cpus'"
[[ "$PORT" =~ ^[1-9][0-9]{3,4}$ ]] && [ "$PORT" -ge 1024 ] && [ "$PORT" -le 65532 ] ||
    fail "SPRIG_SLURM_PORT must be 1024..65532 (the cluster uses it and the 3 ports above it), not '$PORT'"
[ "$(id -u)" -eq 0 ] || fail "needs root (daemons as root, network namespaces)"

# The packages, as launch.sh installs its own.
PACKAGES=(slurmctld slurmd slurm-client slurmdbd munge mariadb-server mariadb-client libpmix2 iproute2 procps util-linux)
# Their own services (the system's munge, MariaDB) are not started: we start ours.
"$(dirname "$0")/../../tools/install-packages.sh" --as local-up.sh --no-service-start "${PACKAGES[@]}" || exit 1

# The daemons must not inherit a descriptor of our caller's other than the standard streams
# (a caller waiting for its end, as Foundation's Process does, would wait for the daemons).
for fd in /proc/$$/fd/*; do
    fd=${fd##*/}
    if [ "$fd" -gt 2 ] 2>/dev/null; then eval "exec $fd>&-" 2>/dev/null || true; fi
done

"$(dirname "$0")/local-down.sh" >/dev/null 2>&1 || true
for p in $PORT $((PORT + 1)) $((PORT + 2)) $((PORT + 3)); do
    ss -Hltn "sport = :$p" | grep -q . && fail "port $p is in use (set SPRIG_SLURM_PORT to another base port)"
done

# Namespaces where the machine allows them, else one node in the root namespace.
if [ -z "${SPRIG_SLURM_NO_NETNS:-}" ] && ip netns add sprig-probe 2>/dev/null && ip netns del sprig-probe; then
    netns=1
    "$ROOT/cluster/netns-up.sh" "$nodes" --slots "$cpus" >/dev/null
    controller=$SUBNET.1
else
    [ "$nodes" -eq 1 ] || fail "this machine cannot make network namespaces (ip netns add failed): only one node (local-up.sh 1)"
    netns=0
    controller=127.0.0.1
fi
mkdir -p "$STATE" || fail "could not make the state directory '$STATE'"
echo "state directory of cluster/slurm/local-up.sh: cluster/slurm/local-down.sh removes what the cluster made here" > "$STATE/$OWNER"
mkdir -p "$STATE"/{munge,ctld,log,db}
for i in $(seq 1 "$nodes"); do mkdir -p "$STATE/spool/sprig-h$i" "$STATE/tmp/sprig-h$i"; done
chmod 700 "$STATE/munge"
echo "$netns" > "$STATE/netns"
marker="SPRIG_LOCAL_SLURM=$STATE"   # in every daemon's environment: local-down.sh finds strays by it
# Starts a daemon with its standard streams on a file (they log to $STATE/log): none may
# keep the caller's open (a caller reading our output to its end would wait forever).
daemon() { "$@" </dev/null >>"$STATE/log/daemons.out" 2>&1; }

# munge: a key of our own, its socket in the state directory.
dd if=/dev/urandom of="$STATE/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$STATE/munge/munge.key"
daemon env "$marker" munged --force --socket="$STATE/munge/munge.socket" --key-file="$STATE/munge/munge.key" \
    --pid-file="$STATE/munge/munged.pid" --log-file="$STATE/log/munged.log" --seed-file="$STATE/munge/munged.seed" \
    || fail "munged did not start (see $STATE/log/munged.log)"

# MariaDB for slurmdbd, on 127.0.0.1 at a port of ours, in the state directory.
password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
mariadb-install-db --user=root --datadir="$STATE/db" --auth-root-authentication-method=socket \
    --skip-test-db > "$STATE/log/mariadb-install.log" 2>&1 || fail "mariadb-install-db failed (see $STATE/log/mariadb-install.log)"
env "$marker" mariadbd --no-defaults --user=root --datadir="$STATE/db" --socket="$STATE/mysql.sock" \
    --pid-file="$STATE/mariadbd.pid" --bind-address=127.0.0.1 --port=$((PORT + 3)) \
    --innodb-buffer-pool-size=32M --innodb-log-file-size=16M --log-error="$STATE/log/mariadbd.log" \
    </dev/null >>"$STATE/log/daemons.out" 2>&1 &
for _ in $(seq 1 100); do [ -S "$STATE/mysql.sock" ] && break; sleep 0.1; done
[ -S "$STATE/mysql.sock" ] || fail "MariaDB did not start (see $STATE/log/mariadbd.log)"
mariadb --no-defaults -S "$STATE/mysql.sock" -u root -e "
    CREATE USER 'slurm'@'127.0.0.1' IDENTIFIED BY '$password';
    GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';" || fail "could not create the accounting database user"

# Slurm's PMIx plugin, when installed, is the default MPI interface of srun.
plugins=/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)/slurm-wlm
if [ -e "$plugins/mpi_pmix.so" ]; then mpi=pmix; else mpi=none
    echo "note: Slurm's PMIx plugin ($plugins/mpi_pmix.so) is not installed: MpiDefault=none; use cluster/slurm/train-mpirun.sbatch" >&2
fi

cat > "$STATE/slurmdbd.conf" <<EOF
# Generated by cluster/slurm/local-up.sh.
AuthType=auth/munge
AuthInfo=socket=$STATE/munge/munge.socket
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort=$((PORT + 2))
SlurmUser=root
PidFile=$STATE/slurmdbd.pid
LogFile=$STATE/log/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$((PORT + 3))
StorageUser=slurm
StoragePass=$password
StorageLoc=slurm_acct_db
EOF
chmod 600 "$STATE/slurmdbd.conf"

host=$(hostname -s)
{
    cat <<EOF
# Generated by cluster/slurm/local-up.sh: a local cluster of $nodes node(s).
ClusterName=sprig-local
SlurmctldHost=$host($controller)
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$STATE/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/spool/%n
# Each node's own temporary directory (PMIx's rendezvous files would collide in one /tmp).
TmpFS=$STATE/tmp/%n
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd-%n.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd-%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/affinity
MpiDefault=$mpi
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
JobRequeue=1
KillWait=30
MinJobAge=600
MessageTimeout=20
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=30
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort=$((PORT + 2))
# slurmdbd connections take their munge socket from here (Slurm: AccountingStoragePass).
AccountingStoragePass=$STATE/munge/munge.socket
EOF
    for i in $(seq 1 "$nodes"); do
        if [ $netns -eq 1 ]; then where="NodeHostname=sprig-h$i NodeAddr=$SUBNET.$((10 + i))"
        else where="NodeHostname=$host NodeAddr=127.0.0.1"; fi
        echo "NodeName=sprig-h$i $where CPUs=$cpus State=UNKNOWN"
    done
    echo "PartitionName=local Nodes=ALL Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO"
} > "$STATE/slurm.conf"

cat > "$STATE/env" <<EOF
# source this to use the local cluster (cluster/slurm/local-up.sh)
export SLURM_CONF=$STATE/slurm.conf
export $marker
EOF
export SLURM_CONF=$STATE/slurm.conf

daemon env "$marker" slurmdbd || fail "slurmdbd did not start (see $STATE/log/slurmdbd.log)"   # reads slurmdbd.conf beside $SLURM_CONF
for _ in $(seq 1 100); do ss -Hltn "sport = :$((PORT + 2))" | grep -q . && break; sleep 0.1; done
ss -Hltn "sport = :$((PORT + 2))" | grep -q . || fail "slurmdbd did not start (see $STATE/log/slurmdbd.log)"
sacctmgr -i add cluster sprig-local >/dev/null || fail "sacctmgr could not register the cluster (see $STATE/log/slurmdbd.log)"

daemon env "$marker" slurmctld -i || fail "slurmctld did not start (see $STATE/log/slurmctld.log)"
for i in $(seq 1 "$nodes"); do
    # nsenter enters the host's network namespace only (ip netns exec would also remount /sys,
    # hiding the cgroup file systems slurmd's cgroup plugin needs); unshare gives it a hostname.
    if [ $netns -eq 1 ]; then
        daemon nsenter --net="/run/netns/sprig-h$i" unshare --uts sh -c "hostname sprig-h$i; exec env '$marker' slurmd"
    else
        daemon env "$marker" slurmd
    fi || fail "slurmd of node sprig-h$i did not start (see $STATE/log/slurmd-sprig-h$i.log)"
done

# Ready when every node is idle.
for _ in $(seq 1 200); do
    idle=$(sinfo -h -N -t idle -o '%N' 2>/dev/null | sort -u | wc -l)
    [ "$idle" -eq "$nodes" ] && break
    sleep 0.1
done
if [ "$idle" -ne "$nodes" ]; then
    sinfo -N >&2 || true
    fail "only $idle of $nodes nodes came up idle (logs in $STATE/log)"
fi
where="network namespaces sprig-h1..sprig-h$nodes on $SUBNET.0/24"
[ $netns -eq 1 ] || where="the root namespace (no network namespaces on this machine: one node)"
echo "slurm: cluster sprig-local, $nodes node(s) × $cpus CPUs in $where, MpiDefault=$mpi; source $STATE/env"
