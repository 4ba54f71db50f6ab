#!/usr/bin/env bash
# Debian packages the test suite needs, installed only when running as root and missing.
#  - knot, unbound, chromium, postgresql: installed with apt under a policy-rc.d that denies service
#    start-up (any policy-rc.d already there is kept); PostgreSQL without its `main` cluster.
#  - prometheus (promtool): only its binaries, extracted with `apt-get download` + `dpkg -x` into
#    .cache/debian/, never installed as a service.
set -euo pipefail
cd "$(dirname "$0")/.."

needed=()
command -v knotd >/dev/null 2>&1 || [ -x /usr/sbin/knotd ] || needed+=(knot)
command -v unbound >/dev/null 2>&1 || [ -x /usr/sbin/unbound ] || needed+=(unbound)
command -v chromium >/dev/null 2>&1 || needed+=(chromium)
# PostgreSQL's server binaries (tests/integration/postgres.py runs its own cluster in a temp dir).
compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null || needed+=(postgresql)
extract=()
[ -x .cache/debian/usr/bin/promtool ] || extract+=(prometheus)
[ -x .cache/debian/usr/bin/prometheus-alertmanager ] || extract+=(prometheus-alertmanager)

[ -e /usr/share/prometheus/alertmanager/email.tmpl ] || extract+=(prometheus-alertmanager)
if [ ${#needed[@]} -eq 0 ] && [ ${#extract[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-test-deps: not root; missing ${needed[*]} ${extract[*]} (tests that need them will be skipped)" >&2
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq

if [ ${#needed[@]} -gt 0 ]; then
  policy=/usr/sbin/policy-rc.d
  created_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod 755 "$policy"
    created_policy=1
  fi
  cleanup() { if [ "$created_policy" -eq 1 ]; then rm -f "$policy"; fi; }
  trap cleanup EXIT
  # Debian's postgresql-common would create (and start) a `main` cluster on install; the tests
  # make their own. Said before the package is installed, and only where nothing says otherwise.
  if [[ " ${needed[*]} " == *" postgresql "* ]] && [ ! -e /etc/postgresql-common/createcluster.conf ]; then
    install -d /etc/postgresql-common
    printf 'create_main_cluster = false\n' > /etc/postgresql-common/createcluster.conf
  fi
  apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confold "${needed[@]}" >/dev/null
  # No service is stopped here, by name or otherwise: on a machine where Knot or Unbound serves
  # real users that would be production DNS. The policy above keeps the packages from starting
  # one, and the tests start their own knotd and unbound on 127.0.0.1 and stop them by PID.
fi

if [ ${#extract[@]} -gt 0 ]; then
  work=$(mktemp -d)
  chmod 777 "$work"  # apt downloads as the unprivileged _apt user
  (cd "$work" && apt-get download -qq "${extract[@]}")
  mkdir -p .cache/debian
  for deb in "$work"/*.deb; do dpkg -x "$deb" .cache/debian; done
  rm -rf "$work"
fi

# Debian's Alertmanager reads its notification templates from this fixed path; copy those data
# files there (the binary stays in .cache/debian and no service is installed).
templates=/usr/share/prometheus/alertmanager
if [ ! -e "$templates/email.tmpl" ] && [ -d ".cache/debian$templates" ]; then
  install -d "$templates"
  install -m 0644 ".cache/debian$templates"/*.tmpl "$templates"/
fi
