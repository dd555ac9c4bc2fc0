# Wild Rydes: the two commands are `make demo` and `make test`; the rest is below.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAGE ?= dev
export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: help demo up sql venv browser test unit functional bench soak mutate plan lint format package scan deploy deploy-stack deploy-bucket destroy policies lock lock-scan clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(BIN)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# Chalice packages with pip and supports pip < 26.3: a known-good pip, not the newest.
	$(BIN)/python -m pip install --quiet "pip==26.2.1"
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

PORT ?= 4566
API_PORT ?= 8000

demo: venv  ## the whole pipeline on this machine, no AWS account: about 90 s, then a report (JSON=1, DATASET=taxi)
	$(BIN)/python -m local demo --port $(PORT) $(if $(JSON),--json) $(if $(DATASET),--dataset $(DATASET))

up: venv  ## the same stack until Ctrl-C, with the query API on 127.0.0.1:$(API_PORT) (NO_API=1: none, for your own chalice local)
	$(BIN)/python -m local up --port $(PORT) --api-port $(API_PORT) $(if $(NO_API),--no-api)

sql: venv  ## SQL over the archive (tables wildrydes, taxi_trips): make sql Q="SELECT ..." or N=peak_hours [P=value] [ENGINE=athena]
	$(BIN)/python -m local sql --port $(PORT) $(if $(N),--named "$(N)","$(Q)") $(if $(P),--param "$(P)") $(if $(ENGINE),--engine $(ENGINE))

venv: $(BIN)/.installed  ## create .venv and install the pinned dependencies

# The browser tests drive Debian's Chromium through Playwright (never a downloaded browser).
CHROMIUM ?= /usr/bin/chromium
export WILDRYDES_CHROMIUM := $(CHROMIUM)
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

browser:  ## install Debian's Chromium for the browser tests, if it is not there yet
	@test -x $(CHROMIUM) || { \
	  echo "browser: installing Debian's chromium (apt-get)"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium >/dev/null; }
	@$(CHROMIUM) --version 2>/dev/null  # (its wrapper script warns about large memory sizes)

# The test files spread over this many processes (pytest-xdist; a file's tests stay together,
# sharing its fixtures): the end-to-end runs mostly wait on the clock. TEST_WORKERS=0: one process.
TEST_WORKERS ?= 2

test: venv browser  ## run every test (unit, functional, infrastructure, local, end to end, browser); TEST_WORKERS=2
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile

unit: venv  ## run the unit tests only
	$(BIN)/python -m pytest -q tests/unit

functional: venv  ## run the functional tests only
	$(BIN)/python -m pytest -q tests/functional

bench: venv  ## measure speed and AWS calls: a table and build/bench.json (QUICK=1: under a minute)
	$(BIN)/python -m bench $(if $(QUICK),--quick)

mutate: venv  ## mutation testing of the core (mutmut): a table per module and build/mutation.json; MODULE=taxi.fares for one (slow: see docs/DEVELOPMENT.md)
	$(BIN)/python -m tests.mutation $(if $(MODULE),--module $(MODULE))

soak: venv  ## run `make up` for MINUTES (default 30) and report each process's memory growth an hour (build/soak.json)
	$(BIN)/python -m bench.soak --minutes $(or $(MINUTES),30)

plan: venv  ## capacity and monthly cost (UNICORNS=N; default 10, 1,000, 100,000 and 1,000,000)
	$(BIN)/python -m bench.plan $(if $(UNICORNS),--unicorns $(UNICORNS))

lint: venv  ## ruff lint and format check, mypy strict (the Lambda package also for its runtime)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	@# What goes into Lambda, checked again against the Python it runs on there.
	$(BIN)/mypy --python-version $(patsubst python%,%,$(word 1,$(shell $(BIN)/python -m infra platform --stage $(STAGE)))) app.py chalicelib

format: venv  ## apply ruff's formatting and fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

package: venv  ## build/$(STAGE)/package/sam.json: the app and every resource in one template
	$(BIN)/python -m infra package --stage $(STAGE)

# checkov pins its own boto3 (older than ours), so it has a virtualenv of its own.
SCAN_VENV := .venv-scan
SCAN_RESULTS := build/$(STAGE)/scan.json

$(SCAN_VENV)/.installed: requirements-scan.txt
	test -x $(SCAN_VENV)/bin/python || $(PYTHON) -m venv $(SCAN_VENV)
	$(SCAN_VENV)/bin/python -m pip install --quiet "pip==26.2.1"
	$(SCAN_VENV)/bin/python -m pip install --quiet -r requirements-scan.txt
	touch $@

scan: package $(SCAN_VENV)/.installed  ## checkov on the packaged template: no failed check; accepted ones say why in it
	@rm -f $(SCAN_RESULTS)
	$(SCAN_VENV)/bin/checkov --file build/$(STAGE)/package/sam.json --framework cloudformation \
	  --skip-download --compact --quiet --output cli --output json \
	  --output-file-path console,$(SCAN_RESULTS)
	@$(SCAN_VENV)/bin/python -c 'import json, sys; s = json.load(open(sys.argv[1]))["summary"]; \
	  print("scan: checkov %(checkov_version)s: %(passed)d passed, %(failed)d failed," % s, \
	  "%(skipped)d skipped (each with its reason in the template)" % s)' $(SCAN_RESULTS)

deploy: venv  ## deploy STAGE with chalice deploy (ALERT_EMAIL=, OPS_EMAIL=, FARE_EMAIL= for alert, alarm and fare emails)
	$(BIN)/python -m infra deploy --stage $(STAGE) $(if $(ALERT_EMAIL),--alert-email $(ALERT_EMAIL)) $(if $(OPS_EMAIL),--operations-email $(OPS_EMAIL)) $(if $(FARE_EMAIL),--fare-email $(FARE_EMAIL))

deploy-stack: venv  ## deploy STAGE as one stack (way 1): package, then aws cloudformation package/deploy (BUCKET=, ALERT_EMAIL=, OPS_EMAIL=, FARE_EMAIL=, SHARDS=)
	$(BIN)/python -m infra deploy-stack --stage $(STAGE) $(if $(BUCKET),--bucket $(BUCKET)) $(if $(ALERT_EMAIL),--alert-email $(ALERT_EMAIL)) $(if $(OPS_EMAIL),--operations-email $(OPS_EMAIL)) $(if $(FARE_EMAIL),--fare-email $(FARE_EMAIL)) $(if $(SHARDS),--shard-count $(SHARDS))

deploy-bucket: venv  ## print the deploy bucket both ways upload to (made on first use: private, encrypted)
	@$(BIN)/python -m infra deploy-bucket

destroy: venv  ## delete STAGE: chalice delete, then the supporting stack (the archive bucket is kept)
	$(BIN)/python -m infra destroy --stage $(STAGE)

policies: venv  ## regenerate .chalice/policy-*.json from infra/policies.py
	$(BIN)/python -m infra policies

lock: venv  ## re-freeze requirements-dev.txt from requirements-dev.in
	$(BIN)/python -m pip install --quiet -r requirements-dev.in
	(echo '# Frozen by `make lock` from requirements-dev.in; do not edit by hand.'; \
	 $(BIN)/python -m pip freeze --exclude-editable) > requirements-dev.txt

lock-scan: $(SCAN_VENV)/.installed  ## re-freeze requirements-scan.txt from requirements-scan.in
	$(SCAN_VENV)/bin/python -m pip install --quiet -r requirements-scan.in
	(echo '# Frozen by `make lock-scan` from requirements-scan.in; do not edit by hand.'; \
	 $(SCAN_VENV)/bin/python -m pip freeze --exclude-editable) > requirements-scan.txt

clean:  ## remove build output and caches (keeps .venv)
	rm -rf build .pytest_cache .mypy_cache .ruff_cache
