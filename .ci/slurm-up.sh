#!/usr/bin/env bash
# Starts a one-node Slurm cluster on this machine for the sweep's Slurm test (docs in README, "Sweeps on Slurm").
# Installs Debian's slurm-wlm and munge when missing, writes a munge key and a one-node slurm.conf for this host,
# and starts munged, slurmctld and slurmd, recording their process ids in $AMALGAM_SLURM_STATE (default
# /tmp/amalgam-slurm) for slurm-down.sh. Needs root (or sudo). Leaves an already answering cluster alone.
set -euo pipefail

state="${AMALGAM_SLURM_STATE:-/tmp/amalgam-slurm}"
sudo_cmd=""
[ "$(id -u)" -ne 0 ] && sudo_cmd="sudo -n"

if command -v sinfo >/dev/null 2>&1 && timeout 10 sinfo -h >/dev/null 2>&1; then
  echo "slurm-up: a Slurm controller already answers; nothing to do"
  exit 0
fi

if ! command -v slurmctld >/dev/null 2>&1 || ! command -v munged >/dev/null 2>&1; then
  echo "slurm-up: installing slurm-wlm and munge"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends slurm-wlm munge
fi

mkdir -p "$state"
host="$(hostname -s)"
cpus="$(nproc)"
# RealMemory a little under MemTotal (MB), so slurmd does not drain the node for lack of memory.
memory_mb=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 * 9 / 10 ))

# munge: a key and directories owned by the munge user; munged runs as that user.
$sudo_cmd mkdir -p /etc/munge /var/lib/munge /var/log/munge /run/munge
if [ ! -s /etc/munge/munge.key ]; then
  $sudo_cmd dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
fi
$sudo_cmd chown -R munge:munge /etc/munge /var/lib/munge /var/log/munge /run/munge
$sudo_cmd chmod 400 /etc/munge/munge.key
$sudo_cmd chmod 700 /etc/munge
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  $sudo_cmd su -s /bin/sh munge -c /usr/sbin/munged
  for _ in $(seq 1 20); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.5; done
fi
munge -n | unmunge >/dev/null || { echo "slurm-up: munged does not answer" >&2; exit 1; }
cat /run/munge/munged.pid > "$state/munged.pid" 2>/dev/null || true

# slurm.conf: one node named after this host, one partition, no accounting (sacct stays unavailable).
$sudo_cmd mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
$sudo_cmd tee /etc/slurm/slurm.conf >/dev/null <<CONF
# Written by amalgam .ci/slurm-up.sh: a one-node cluster for tests.
ClusterName=amalgam
SlurmctldHost=${host}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=${state}/slurmctld.pid
SlurmdPidFile=${state}/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
NodeName=${host} CPUs=${cpus} RealMemory=${memory_mb} State=UNKNOWN
PartitionName=debug Nodes=${host} Default=YES MaxTime=INFINITE State=UP
CONF

$sudo_cmd slurmctld
$sudo_cmd slurmd
for _ in $(seq 1 60); do
  if timeout 5 sinfo -h -o "%T" 2>/dev/null | grep -qE "idle|mixed|allocated"; then
    echo "slurm-up: node ${host} is up ($(sinfo -h -o '%P %T %c CPUs %m MB'))"
    exit 0
  fi
  sleep 1
done
echo "slurm-up: the node did not become idle; see /var/log/slurm/" >&2
exit 1
