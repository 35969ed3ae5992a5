#!/usr/bin/env bash
# Stops the daemons .ci/slurm-up.sh started, by the process ids it recorded (never by a name match).
set -euo pipefail

state="${AMALGAM_SLURM_STATE:-/tmp/amalgam-slurm}"
sudo_cmd=""
[ "$(id -u)" -ne 0 ] && sudo_cmd="sudo -n"

for daemon in slurmd slurmctld munged; do
  pid_file="$state/$daemon.pid"
  [ -s "$pid_file" ] || continue
  pid="$(cat "$pid_file")"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    $sudo_cmd kill "$pid"
    for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    echo "slurm-down: stopped $daemon ($pid)"
  fi
  rm -f "$pid_file"
done
