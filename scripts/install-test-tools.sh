#!/usr/bin/env bash
# Installs, from Debian's packages, the tools the tests run for real when they are missing:
# ansible-playbook (ansible-core), openssl (HTTPS health check tests), tmux (the terminal UI test), and a Docker engine (docker.io) with
# busybox-static (test images are built from it), docker-compose (v1, the fallback) and postgresql
# (initdb, pg_ctl, postgres: the PostgreSQL state tests start their own server) and pgbouncer. terraform comes
# with the machine. The compose v2 plugin is not installed for the machine (the fallback test needs a
# docker without it): its one binary is taken from Debian trixie's docker-compose package and put in
# $DEPLOYCTL_TEST_TOOLS/cli-plugins (default .cache/test-tools), where the plugin test finds it.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
test_tools="${DEPLOYCTL_TEST_TOOLS:-$repo/.cache/test-tools}"
missing=()
command -v ansible-playbook >/dev/null 2>&1 || missing+=(ansible-core)
command -v git >/dev/null 2>&1 || missing+=(git)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v tmux >/dev/null 2>&1 || missing+=(tmux)
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v busybox >/dev/null 2>&1 || missing+=(busybox-static)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
# PostgreSQL (the team state backend's tests start a throwaway server): initdb, pg_ctl and postgres.
pg_bin() { command -v "$1" >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/"$1" >/dev/null 2>&1; }
pg_bin initdb && pg_bin pg_ctl && pg_bin postgres || missing+=(postgresql)
# PgBouncer (the tests check that a pooler in transaction mode is refused, and session mode works).
[ -x /usr/sbin/pgbouncer ] || command -v pgbouncer >/dev/null 2>&1 || missing+=(pgbouncer)
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

plugin="$test_tools/cli-plugins/docker-compose"
if ! "$plugin" version 2>/dev/null | grep -q 'version v\?2\.'; then
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  echo 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main' >"$work/sources.list"
  mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
  # A private apt state: the machine's sources, lists and cache stay as they are.
  apt=(apt-get -qq -o Dir::Etc::sourcelist="$work/sources.list" -o Dir::Etc::sourceparts=- -o Dir::State::Lists="$work/lists"
    -o Dir::Cache="$work/cache" -o APT::Sandbox::User="$(id -un)")
  "${apt[@]}" update
  (cd "$work" && "${apt[@]}" download docker-compose)
  mkdir -p "$work/root" "$(dirname "$plugin")"
  dpkg-deb -x "$work"/docker-compose_*.deb "$work/root"
  install -m 0755 "$work/root/usr/libexec/docker/cli-plugins/docker-compose" "$plugin"
fi
"$plugin" version 2>/dev/null | grep -q 'version v\?2\.' || { echo "install-test-tools: the compose v2 plugin is missing from $plugin and could not be installed" >&2; exit 1; }
