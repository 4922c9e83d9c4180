#!/usr/bin/env bash
# Docker engine for preview-docker's integration tests: Debian's docker.io, plus busybox-static
# (no registry is reachable here, so test images are built FROM scratch with /bin/busybox in them)
# and docker-registry (the tests start their own registry with password auth, to pull from).
# git: preview-scm's GitSourceOverHttpIT serves a repository with `git http-backend` behind busybox httpd.
# Idempotent: does nothing but wait when an engine already answers on /var/run/docker.sock.
set -euo pipefail

. "$(dirname "$0")/../lib.sh" # apt_install
apt_install docker.io busybox-static docker-registry git

engine_up() { docker -H unix:///var/run/docker.sock info >/dev/null 2>&1; }

if ! engine_up; then
  echo "docker.sh: starting dockerd (log in /tmp/dockerd.log)"
  # setsid: the engine must outlive this script and the shell that ran it.
  setsid nohup dockerd --host unix:///var/run/docker.sock >/tmp/dockerd.log 2>&1 </dev/null &
fi

for _ in $(seq 1 60); do
  if engine_up; then
    echo "docker.sh: engine answers: $(docker -H unix:///var/run/docker.sock version --format '{{.Server.Version}} (API {{.Server.APIVersion}})')"
    exit 0
  fi
  sleep 1
done
echo "docker.sh: dockerd did not answer within 60 s; last lines of /tmp/dockerd.log:" >&2
tail -n 30 /tmp/dockerd.log >&2 || true
exit 1
