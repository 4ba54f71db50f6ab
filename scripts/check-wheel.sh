#!/usr/bin/env bash
# CI: the release wheel installs from the lock into a clean virtual environment, and the daemon
# it installs starts on the demo config and answers /readyz. Stops what it starts by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
pid=""
cleanup() { if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi; rm -rf "$work"; }
trap cleanup EXIT

IMAGE=0 make --no-print-directory release DIST="$work/dist" >/dev/null
.venv/bin/uv export --quiet --frozen --no-emit-project --extra postgresql -o "$work/runtime.txt"
python3 -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --isolated --quiet --disable-pip-version-check \
  --require-hashes --no-deps -r "$work/runtime.txt"
"$work/venv/bin/python" -m pip install --isolated --quiet --disable-pip-version-check --no-deps "$work"/dist/*.whl
"$work/venv/bin/python" -m pip check >/dev/null
# A platform wheel whose hot modules run compiled (make release compiles them, hatch_build.py).
case "$(basename "$work"/dist/*.whl)" in *-none-any.whl) echo "check-wheel: a pure-Python wheel" >&2; exit 1;; esac
(cd "$work" && "$work/venv/bin/python" -c 'from domainwatch.runtime.native import compiled, MODULES, compiled_modules
assert compiled(), set(MODULES) - set(compiled_modules())')

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
(cd "$work" && exec "$work/venv/bin/domainwatch" demo --listen "127.0.0.1:$port" >"$work/demo.log" 2>&1) &
pid=$!
for _ in $(seq 1 120); do
  if python3 -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:$port/readyz', timeout=1).status == 200 else 1)" 2>/dev/null; then
    echo "check-wheel: $("$work/venv/bin/domainwatch" --version) from the wheel answers /readyz"
    exit 0
  fi
  sleep 0.5
done
echo "check-wheel: the installed daemon never answered /readyz; its log:" >&2
cat "$work/demo.log" >&2
exit 1
