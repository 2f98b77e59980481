# Slotwise — developer commands. `make dev` and `make test` are the two a fresh machine needs.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# The interpreter matches the Lambda runtime (3.13, for SnapStart): `.python-version` names it (pyenv reads it too).
# PYTHON is pyenv's install of that version when pyenv has it, else `python3.13` on PATH; `make` stops with a clear
# error when neither exists (`pyenv install $(PYTHON_VERSION)` or the distribution's python3.13 fixes that).
PYTHON_VERSION := $(shell cat .python-version)
PYTHON_MINOR := $(basename $(PYTHON_VERSION))
PYTHON ?= $(shell p="$$(pyenv prefix $(PYTHON_VERSION) 2>/dev/null)/bin/python$(PYTHON_MINOR)"; \
  [ -x "$$p" ] && echo "$$p" || command -v python$(PYTHON_MINOR))
VENV := .venv
PY := $(VENV)/bin/python
API_PORT ?= 3000
DYNAMODB_PORT ?= 8000
MOTO_PORT ?= 5050
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20

.PHONY: help install java chromium console dev tick seed mail test lint format openapi synth bench clean

help: ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml .python-version
	@[ -n "$(PYTHON)" ] && [ -x "$(PYTHON)" ] || { echo "Python $(PYTHON_MINOR) not found: run" \
	  "'pyenv install $(PYTHON_VERSION)' or install python$(PYTHON_MINOR) (or PYTHON=/path/to/python$(PYTHON_MINOR))" >&2; exit 1; }
	@# A venv made by another Python (3.11 before the move) is rebuilt, not upgraded in place.
	@[ "$$($(PY) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" = "$(PYTHON_MINOR)" ] \
	  || { rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

infra/node_modules/.installed: infra/package.json infra/package-lock.json
	npm --prefix infra ci --no-audit --no-fund --loglevel=error
	touch $@

java: ## install a headless Java for DynamoDB Local, only if `java` is missing
	@command -v java >/dev/null 2>&1 || { \
	  echo "java not found: installing openjdk-17-jre-headless with apt"; \
	  SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless; }

chromium: ## install Debian's chromium for the browser tests, only if /usr/bin/chromium is missing (never a download)
	@[ -x /usr/bin/chromium ] || { \
	  echo "chromium not found: installing Debian's chromium with apt"; \
	  SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq --no-install-recommends chromium; }

# The web console (infra/console/README.md): rebuilt only when its sources, its lockfile or the OpenAPI document
# (its generated client) change, so a second `make test` does not rebuild it.
CONSOLE := infra/console
CONSOLE_SOURCES := $(shell find $(CONSOLE)/src $(CONSOLE)/tests -type f ! -name schema.d.ts 2>/dev/null) \
  $(CONSOLE)/index.html $(CONSOLE)/vite.config.ts $(CONSOLE)/tsconfig.json $(CONSOLE)/tsconfig.test.json \
  $(CONSOLE)/package.json
OPENAPI_DOCUMENT := layers/slotwise/api/openapi.json

$(CONSOLE)/node_modules/.installed: $(CONSOLE)/package.json $(CONSOLE)/package-lock.json
	npm --prefix $(CONSOLE) ci --no-audit --no-fund --loglevel=error
	touch $@

$(CONSOLE)/dist/.built: $(CONSOLE)/node_modules/.installed $(CONSOLE_SOURCES) $(OPENAPI_DOCUMENT)
	npm --prefix $(CONSOLE) run build
	touch $@

console: $(CONSOLE)/dist/.built ## build the web console into infra/console/dist (served at /console/)

install: $(VENV)/.installed infra/node_modules/.installed java chromium console ## venv with dev extras, DynamoDB Local, Java, chromium, the console

dev: install ## start DynamoDB Local, moto, demo data, the API on :3000 (WebSocket :3001) and the workers (PERSIST=1 keeps data)
	POWERTOOLS_METRICS_DISABLED=true $(PY) -m infra.local serve --api-port $(API_PORT) \
	  --dynamodb-port $(DYNAMODB_PORT) --moto-port $(MOTO_PORT) $(if $(WS_PORT),--ws-port $(WS_PORT)) $(if $(PERSIST),--persist)

tick: ## run every scheduled job once against the running `make dev`
	$(PY) -m infra.local tick

seed: ## load the demo data into the running `make dev`
	$(PY) -m infra.local seed

mail: ## list the e-mail the running `make dev` sent (moto's SES); ARGS="--show 1" or ARGS="--out mail"
	$(PY) -m infra.local mail $(ARGS)

lint: $(VENV)/.installed ## ruff and mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: $(VENV)/.installed ## apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test: install lint ## lint, then every test tier (unit, integration on DynamoDB Local, infra, e2e)
	$(PY) -m pytest

fuzz: install ## schemathesis against the local runtime on free ports: admin, customer, anonymous (a few minutes)
	$(PY) -m pytest -m fuzz tests/e2e/test_schema_fuzzing.py

openapi: $(VENV)/.installed ## regenerate the merged OpenAPI document the API serves
	$(PY) -m infra.openapi

# The layer matches the functions' arm64 architecture; pip fetches aarch64 wheels, so no Docker and any host works.
LAYER_DIR := build/layer
LAYER_PLATFORM := manylinux2014_aarch64

synth: $(VENV)/.installed infra/node_modules/.installed ## build the Lambda layer and synthesize cdk.out offline (STAGE=prod for prod)
	$(PY) -m infra.layer_build --out $(LAYER_DIR) --platform $(LAYER_PLATFORM)
	infra/node_modules/.bin/cdk synth --quiet -c layerDir=$(LAYER_DIR) $(if $(STAGE),-c stage=$(STAGE))

bench: install ## run the benchmarks under bench/ and write docs/performance.md
	$(PY) -m bench

clean: ## remove build output and local data
	rm -rf build cdk.out .local .pytest_cache .mypy_cache .ruff_cache $(CONSOLE)/dist
