#!/usr/bin/env bash
# Makes a Docker engine reachable for the docker-backend sandbox tests.
# Installs Debian's docker.io when dockerd is missing, starts dockerd in the
# background when the socket does not answer, and waits (polling `docker info`)
# until it does. Exits non-zero with a message when any of that fails, so CI never
# mistakes a missing engine for a skipped backend.
set -euo pipefail

LOG=${APIFORGE_DOCKERD_LOG:-/var/log/apiforge-dockerd.log}
WAIT_SECS=${APIFORGE_DOCKERD_WAIT_SECS:-60}

die() { echo "docker.sh: $*" >&2; exit 1; }

engine_answers() { docker info >/dev/null 2>&1; }

if ! command -v dockerd >/dev/null 2>&1; then
    [ "$(id -u)" = 0 ] || die "dockerd is missing and installing it needs root (apt-get install docker.io)"
    echo "docker.sh: installing docker.io"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null || die "apt-get update failed"
    apt-get install -y -q --no-install-recommends docker.io >/dev/null \
        || die "apt-get install docker.io failed"
    command -v dockerd >/dev/null 2>&1 || die "docker.io installed but dockerd is not on PATH"
fi
command -v docker >/dev/null 2>&1 || die "the docker client is missing (apt-get install docker.io)"

if engine_answers; then
    echo "docker.sh: engine already running"
    exit 0
fi

[ "$(id -u)" = 0 ] || die "the Docker engine does not answer and starting dockerd needs root"
echo "docker.sh: starting dockerd (log: $LOG)"
# setsid detaches dockerd from this script's process group so CI step cleanup
# does not take it down mid-run.
setsid dockerd >>"$LOG" 2>&1 </dev/null &
pid=$!

deadline=$((SECONDS + WAIT_SECS))
until engine_answers; do
    if ! kill -0 "$pid" 2>/dev/null; then
        tail -n 30 "$LOG" >&2 || true
        die "dockerd exited during start-up; its log is above"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
        tail -n 30 "$LOG" >&2 || true
        die "dockerd did not answer within ${WAIT_SECS}s; its log is above"
    fi
    sleep 0.2
done
echo "docker.sh: engine ready ($(docker version --format '{{.Server.Version}}'))"
