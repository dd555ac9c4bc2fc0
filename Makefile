# Wild Rydes: the two commands are `make demo` and `make test`; the rest is below.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAGE ?= dev
export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: help demo venv test unit functional lint format package deploy destroy policies lock clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(BIN)/.installed: requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

demo:  ## the whole pipeline on this machine, no AWS account (the local runtime: issue #3)
	@echo "make demo: not available yet: the embedded AWS endpoint and local event-source runtime are issue #3. Meanwhile: make test" >&2; exit 1

venv: $(BIN)/.installed  ## create .venv and install the pinned dependencies

test: venv  ## run every test (unit, functional, infrastructure)
	$(BIN)/python -m pytest -q

unit: venv  ## run the unit tests only
	$(BIN)/python -m pytest -q tests/unit

functional: venv  ## run the functional tests only
	$(BIN)/python -m pytest -q tests/functional

lint: venv  ## ruff lint and format check, mypy strict
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: venv  ## apply ruff's formatting and fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

package: venv  ## build/$(STAGE)/package/sam.json: the app and every resource in one template
	$(BIN)/python -m infra package --stage $(STAGE)

deploy: venv  ## deploy STAGE with chalice deploy (ALERT_EMAIL=you@example.com for alert emails)
	$(BIN)/python -m infra deploy --stage $(STAGE) $(if $(ALERT_EMAIL),--alert-email $(ALERT_EMAIL))

destroy: venv  ## delete STAGE: chalice delete, then the supporting stack (the archive bucket is kept)
	$(BIN)/python -m infra destroy --stage $(STAGE)

policies: venv  ## regenerate .chalice/policy-*.json from infra/policies.py
	$(BIN)/python -m infra policies

lock: venv  ## re-freeze requirements-dev.txt from requirements-dev.in
	$(BIN)/python -m pip install --quiet -r requirements-dev.in
	(echo '# Frozen by `make lock` from requirements-dev.in; do not edit by hand.'; \
	 $(BIN)/python -m pip freeze --exclude-editable) > requirements-dev.txt

clean:  ## remove build output and caches (keeps .venv)
	rm -rf build .pytest_cache .mypy_cache .ruff_cache
