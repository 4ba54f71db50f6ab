# domainwatch: `make demo` and `make test` work on a fresh Debian 12 machine with Python 3.11.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-unit compile uncompile lint lock format bench soak dashboards rules release image clean screenshots

UV := $(BIN)/uv
# uv installs into this venv, never downloads a Python, and takes the lock as it is (--frozen).
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))
export UV_PYTHON_DOWNLOADS := never
SYNC := $(UV) sync --frozen --all-extras --all-groups

# Everything comes from uv.lock, checked by hash: first uv itself (its hashes read from the lock),
# then the dependencies and the locked build backend, then domainwatch (editable) built with that
# backend. A changed lock or pyproject reinstalls.
$(STAMP): uv.lock pyproject.toml
	@$(PYTHON) -m venv --help >/dev/null 2>&1 && $(PYTHON) -c 'import ensurepip' 2>/dev/null || \
	  { [ "$$(id -u)" = 0 ] && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null; }
	$(PYTHON) -m venv $(VENV)
	$(PYTHON) scripts/lock_requirement.py uv > $(VENV)/uv-requirement.txt
	$(BIN)/python -m pip install --isolated --quiet --disable-pip-version-check \
	  --require-hashes --no-deps -r $(VENV)/uv-requirement.txt
	$(SYNC) --quiet --no-install-project
	$(SYNC) --quiet --no-build-isolation
	@touch $(STAMP)

# Refresh the lock: every dependency to the newest release pyproject.toml allows. Then `make test`.
lock: $(STAMP)
	$(UV) lock --upgrade

# LISTEN=HOST:PORT (or DOMAINWATCH_DEMO_LISTEN) serves the page elsewhere than 127.0.0.1:8427.
demo: $(STAMP)
	$(BIN)/domainwatch demo $(if $(LISTEN),--listen $(LISTEN))

# Everything (unit, integration, system tiers), in random order, with the hot modules compiled
# by mypyc; then the unit tier interpreted (scripts/test-tiers.sh). The coverage gate is on the
# pure packages (pyproject: [tool.coverage]), over both runs.
test: $(STAMP)
	./scripts/install-test-deps.sh
	./scripts/test-tiers.sh

# The hot modules compiled in place (domainwatch/runtime/native.py), or back to pure Python.
compile: $(STAMP)
	$(BIN)/python scripts/compile.py
uncompile: $(STAMP)
	$(BIN)/python scripts/compile.py --clean

# The unit tier alone (tests/unit only): no sockets, no subprocesses, property tests at a fifth
# of their examples (tests/examples.py); about 10 s.
test-unit: $(STAMP)
	HYPOTHESIS_PROFILE=$${HYPOTHESIS_PROFILE:-dev} $(BIN)/python -m pytest tests/unit

lint: $(STAMP)
	@$(UV) lock --check --quiet || { echo "uv.lock is stale against pyproject.toml: run 'make lock'" >&2; exit 1; }
	$(BIN)/ruff check domainwatch tests bench dashboards scripts deploy/prometheus hatch_build.py
	$(BIN)/ruff format --check domainwatch tests bench dashboards scripts deploy/prometheus hatch_build.py
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/hadolint Dockerfile
	$(BIN)/yamllint -s deploy config.example.yaml .yamllint.yaml
	$(BIN)/python dashboards/generate.py --check
	$(BIN)/python deploy/prometheus/rules.py --check
	@if [ -x .cache/debian/usr/bin/amtool ]; then .cache/debian/usr/bin/amtool check-config deploy/compose/alertmanager.yml >/dev/null; else echo "amtool not extracted (scripts/install-test-deps.sh): alertmanager.yml not checked"; fi
	$(BIN)/python scripts/validate-kubernetes.py

dashboards: $(STAMP)
	$(BIN)/python dashboards/generate.py

# The README's pictures: the status page at 10,000 domains in Chromium (full pages stay in
# build/screenshots/).
screenshots: $(STAMP)
	$(BIN)/python -m pytest -q -p no:randomly tests/integration/test_browser_fleet.py
	mkdir -p docs/images && cp build/screenshots/*-top.png docs/images/

# The alert rules and their promtool tests, from deploy/prometheus/parameters.yaml.
rules: $(STAMP)
	$(BIN)/python deploy/prometheus/rules.py

bench: $(STAMP)
	./scripts/install-test-deps.sh
	command -v dnsperf >/dev/null || { [ "$$(id -u)" = 0 ] && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends dnsperf >/dev/null; }
	$(BIN)/python bench/engine_scenario.py
	$(BIN)/python bench/spf_trees.py
	$(BIN)/python bench/transports.py --domains $${DOMAINS:-10000} --loop uvloop
	$(BIN)/python bench/transports.py --domains $${DOMAINS:-10000} --loop asyncio
	$(BIN)/python bench/fleet.py --domains $${DOMAINS:-10000} --runs $${RUNS:-3}
	$(BIN)/python bench/native.py --domains $${DOMAINS:-10000} --runs $${RUNS:-3}
	$(BIN)/python bench/page.py --domains $${STARTUP_DOMAINS:-100000} --runs 20
	$(BIN)/python bench/scrape.py --domains $${STARTUP_DOMAINS:-100000} --runs 3
	$(BIN)/python bench/startup.py --domains $${STARTUP_DOMAINS:-100000} --runs $${RUNS:-3} $(if $(BEFORE),--tree $(BEFORE))
	$(BIN)/python bench/stores.py --domains $${STARTUP_DOMAINS:-100000}

# Memory under a resolver outage, 30 minutes (MINUTES=... to change): RSS must stay flat.
soak: $(STAMP)
	$(BIN)/python bench/soak.py --minutes $${MINUTES:-30}

# The release artefacts (docs/releasing.md): wheel and sdist built by the locked backend, checked
# by twine; a CycloneDX SBOM of the locked runtime; SHA-256 sums of them all; then the image,
# where a builder runs (IMAGE=0 skips it). The version is the git tag's (after it: a development
# version).
DIST ?= dist
IMAGE ?= 1
release: $(STAMP)
	rm -rf $(DIST) && mkdir -p $(DIST)
	DOMAINWATCH_COMPILE=1 $(UV) build --quiet --no-build-isolation --out-dir $(DIST)
	rm -f $(DIST)/.gitignore
	$(BIN)/twine check --strict $(DIST)/*
	$(UV) export --quiet --frozen --no-emit-project -o $(DIST)/runtime-requirements.txt
	$(BIN)/cyclonedx-py requirements --output-reproducible --of JSON \
	  -o $(DIST)/domainwatch-$$($(BIN)/hatchling version).cdx.json $(DIST)/runtime-requirements.txt
	rm $(DIST)/runtime-requirements.txt
	cd $(DIST) && sha256sum * > SHA256SUMS && sha256sum --check --quiet SHA256SUMS
	@ls -1 $(DIST)
	@if [ "$(IMAGE)" != 0 ]; then ./scripts/build-image.sh; fi

# The OCI image, where podman or buildah can run (scripts/build-image.sh says why not otherwise).
image: $(STAMP)
	./scripts/build-image.sh

format: $(STAMP)
	$(BIN)/ruff format domainwatch tests bench dashboards scripts
	$(BIN)/ruff check --fix domainwatch tests bench dashboards scripts

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
