#!/usr/bin/env sh
# Install domainwatch and its runtime dependencies (with the `postgresql` extra), exactly as
# uv.lock records them (checked by hash), into the virtual environment TARGET; the Dockerfile's
# build stage runs it. The package is built as a wheel by the locked hatchling. Needs python3
# (3.11+) and the project's files.
set -eu
target=${1:?usage: install-locked.sh TARGET_VENV}
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pip_install() { py=$1; shift; "$py" -m pip install --isolated --quiet --disable-pip-version-check --require-hashes --no-deps "$@"; }

python3 -m venv "$work/tools"
python3 scripts/lock_requirement.py uv > "$work/uv.txt"
pip_install "$work/tools/bin/python" -r "$work/uv.txt"
"$work/tools/bin/uv" export --quiet --frozen --no-emit-project --extra postgresql -o "$work/runtime.txt"
"$work/tools/bin/uv" export --quiet --frozen --no-emit-project --only-group build -o "$work/build.txt"
pip_install "$work/tools/bin/python" -r "$work/build.txt"
"$work/tools/bin/python" -m pip wheel --isolated --quiet --no-deps --no-build-isolation -w "$work/wheel" .

python3 -m venv "$target"
pip_install "$target/bin/python" -r "$work/runtime.txt"
"$target/bin/python" -m pip install --isolated --quiet --disable-pip-version-check --no-deps "$work"/wheel/*.whl
"$target/bin/python" -m pip check
