#!/usr/bin/env bash
# `make test`: every tier (unit, integration, system) with the hot modules compiled by mypyc
# (scripts/compile.py; pure Python where no compiler is at hand), then the unit tier again
# interpreted, the fallback every install without a compiler runs. The coverage gate is on both
# runs together: a compiled module's lines are counted by the interpreted run. The tree is left
# pure Python whatever happens, so that an edited module is never shadowed by an old build.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
trap '$PY scripts/compile.py --clean' EXIT

$PY scripts/compile.py
expected=$($PY -c 'from domainwatch.runtime.native import compiled; print(int(compiled()))')
DOMAINWATCH_EXPECT_COMPILED=$expected $PY -m pytest --cov --cov-report= --cov-fail-under=0 "$@"
$PY scripts/compile.py --clean
echo "test-tiers: the unit tier again, interpreted"
DOMAINWATCH_EXPECT_COMPILED=0 $PY -m pytest tests/unit -q --cov --cov-append -p no:randomly
