#!/usr/bin/env bash
# Installs, from Debian's packages, the tools the tests run for real when they are missing:
# ansible-playbook (ansible-core), openssl (HTTPS health check tests), tmux (the terminal UI test), and a Docker engine (docker.io) with
# busybox-static (test images are built from it) and docker-compose (v1). terraform comes with the machine.
set -euo pipefail
missing=()
command -v ansible-playbook >/dev/null 2>&1 || missing+=(ansible-core)
command -v git >/dev/null 2>&1 || missing+=(git)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v tmux >/dev/null 2>&1 || missing+=(tmux)
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v busybox >/dev/null 2>&1 || missing+=(busybox-static)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-test-tools: need root to install ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
for tool in terraform ansible-playbook git openssl tmux dockerd busybox docker-compose; do
  command -v "$tool" >/dev/null 2>&1 || { echo "install-test-tools: $tool is missing and could not be installed" >&2; exit 1; }
done
