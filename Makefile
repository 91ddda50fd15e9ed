# receiptlake — the commands people run. `make test` and `make demo` work on a fresh clone:
# they create .venv from the pinned requirements and install what else is missing.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
SCAN := .venv-scan
ENV ?= dev
PORT ?= 8000

export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export PIP_DISABLE_PIP_VERSION_CHECK := 1
export PYTHONDONTWRITEBYTECODE := 1
# Tesseract/OpenMP and onnxruntime: one thread each is fastest on two cores.
export OMP_THREAD_LIMIT := 1

PY_SOURCES := app.py stacks lambda_src glue_scripts receiptlake ml tests bench
WEBAPP_SOURCES := $(shell find webapp -path webapp/node_modules -prune -o -path webapp/dist -prune -o -type f -print 2>/dev/null)

.PHONY: help
help:  ## list the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

# ---- installation ------------------------------------------------------------------
$(VENV)/.stamp: requirements.txt requirements.lock pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip==25.3
	$(PY) -m pip install --quiet -r requirements.txt -c requirements.lock
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $@

$(SCAN)/.stamp: requirements-scan.txt
	@test -x $(SCAN)/bin/python || $(PYTHON) -m venv $(SCAN)
	$(SCAN)/bin/pip install --quiet -r requirements-scan.txt
	@touch $@

.PHONY: venv system webapp
venv: $(VENV)/.stamp

system:  ## Debian packages the tests need (installed only when missing)
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	@command -v java >/dev/null 2>&1 || { \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null; }

webapp/node_modules/.stamp: webapp/package-lock.json
	cd webapp && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

webapp/dist/index.html: webapp/node_modules/.stamp $(WEBAPP_SOURCES)
	cd webapp && npm run build --silent

webapp: webapp/dist/index.html  ## build the web app

# ---- local mode --------------------------------------------------------------------
.PHONY: demo
demo: venv webapp  ## local mode on http://127.0.0.1:$(PORT) with sample receipts (Ctrl-C stops)
	$(VENV)/bin/receiptlake local up --port $(PORT)

# ---- quality -----------------------------------------------------------------------
.PHONY: lint test test-python synth scan bench
lint: venv webapp/node_modules/.stamp  ## ruff, mypy and the web app's linter
	$(VENV)/bin/ruff check $(PY_SOURCES)
	$(VENV)/bin/ruff format --check $(PY_SOURCES)
	$(VENV)/bin/mypy app.py stacks lambda_src glue_scripts receiptlake ml bench tests
	cd webapp && npm run lint --silent

test: venv $(SCAN)/.stamp system webapp  ## every check and test (what CI runs)
	$(MAKE) --no-print-directory lint
	$(VENV)/bin/pytest
	$(MAKE) --no-print-directory synth scan
	cd webapp && npm test --silent

synth: venv  ## synthesize dev, staging and prod into cdk.out/ (fails on any nag finding)
	rm -rf cdk.out
	RECEIPTLAKE_ENV=all $(PY) app.py
	@ls -d cdk.out/assembly-*

scan: $(SCAN)/.stamp  ## cfn-lint and checkov over cdk.out (run make synth first)
	$(SCAN)/bin/cfn-lint --ignore-checks W3005 -- cdk.out/assembly-*/*.template.json
	$(SCAN)/bin/checkov -d cdk.out --framework cloudformation --skip-download --quiet --compact

bench: venv  ## benchmarks; figures are printed and recorded in bench/README.md
	$(PY) bench/bench_synth.py
	@for b in bench/bench_*.py; do [ "$$b" = bench/bench_synth.py ] || $(PY) "$$b"; done
	@[ ! -f bench/eval_reader.py ] || $(PY) bench/eval_reader.py

# ---- deploy ------------------------------------------------------------------------
.PHONY: deploy destroy diff
deploy: venv webapp  ## deploy one environment: make deploy ENV=dev
	npx -y aws-cdk@2 deploy --all -c env=$(ENV) --require-approval broadening

diff: venv  ## what a deploy would change: make diff ENV=prod
	npx -y aws-cdk@2 diff --all -c env=$(ENV)

destroy: venv  ## remove one environment's stacks (retained data stays): make destroy ENV=dev
	npx -y aws-cdk@2 destroy --all -c env=$(ENV)

.PHONY: clean
clean:  ## remove build output (not .venv, not .local)
	rm -rf cdk.out .build webapp/dist .pytest_cache .mypy_cache .ruff_cache
