#!/usr/bin/env bash
# Debian packages the test suite needs, installed only when running as root and missing.
# Server packages must not start system services: install under a policy-rc.d that denies it
# (and keep any policy-rc.d that was already there).
set -euo pipefail

needed=()
command -v knotd >/dev/null 2>&1 || needed+=(knot)

if [ ${#needed[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-test-deps: not root; missing ${needed[*]} (tests that need them will be skipped)" >&2
  exit 0
fi

policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy"
  chmod 755 "$policy"
  created_policy=1
fi
cleanup() { if [ "$created_policy" -eq 1 ]; then rm -f "$policy"; fi; }
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${needed[@]}" >/dev/null
# Belt and braces: if a service was started anyway, stop it; tests run their own instances.
if command -v systemctl >/dev/null 2>&1; then systemctl stop knot >/dev/null 2>&1 || true; fi
pkill -x knotd >/dev/null 2>&1 || true
