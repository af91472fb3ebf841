# tasklane: `make up` runs the whole stack on a local AWS emulator; `make test` runs every test.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.13 || (command -v pyenv >/dev/null && pyenv which python3.13 2>/dev/null) || echo python3)
VENV := .venv
MINI := .venv-ministack
CHECKOV := .venv-checkov
PY := $(VENV)/bin/python
LOCAL := $(PY) scripts/localstack.py

.PHONY: help venv up down logs console test unit e2e lint format build validate bench soak clean

help:
	@echo "make up      start the local emulator and deploy tasklane on it (prints URL, key, curl lines)"
	@echo "make down    stop the local emulator and drop its state"
	@echo "make logs    follow the emulator's and the functions' logs"
	@echo "make console open the web console of the local stack (tasklane console)"
	@echo "make unit    the fast inner loop: the offline tests (unit, functional on moto, template), no stack"
	@echo "make e2e     the end-to-end tests on the local stack (started and deployed if none runs)"
	@echo "make test    lint, type-check and every test, the end-to-end ones on the local stack"
	@echo "make bench   benchmarks (cold start, AWS requests per task, local-stack throughput)"

$(VENV)/.installed: requirements.txt functions/requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 13), "tasklane needs Python 3.13 (the Lambda runtime); install it or use pyenv"'
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r requirements.txt
	$(VENV)/bin/pip install -q --no-deps -e .
	touch $@

$(MINI)/.installed:
	$(PYTHON) -m venv $(MINI)
	$(MINI)/bin/pip install -q --upgrade pip
	$(MINI)/bin/pip install -q "ministack==1.5.33" "aws-sam-translator==1.115.0"
	touch $@

$(CHECKOV)/.installed: requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV)
	$(CHECKOV)/bin/pip install -q --upgrade pip
	$(CHECKOV)/bin/pip install -q -r requirements-checkov.txt
	touch $@

venv: $(VENV)/.installed $(MINI)/.installed $(CHECKOV)/.installed

up: venv
	$(LOCAL) start
	$(LOCAL) deploy
	$(LOCAL) info

down:
	-$(LOCAL) stop
	rm -rf .local

logs:
	tail -n 200 -F .local/ministack.log

console: $(VENV)/.installed
	$(VENV)/bin/tasklane console

lint: $(VENV)/.installed $(CHECKOV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/cfn-lint template.yaml
	$(PY) scripts/checkov_scan.py

format: $(VENV)/.installed
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

unit: $(VENV)/.installed
	$(VENV)/bin/pytest -n 2 tests/unit tests/functional tests/template

# The end-to-end tests wait on the stack far more than they compute: E2E_WORKERS files of them run at
# once against one stack (tests/e2e/run.py), each file on one worker, so that a module's costly fixture
# (a browser, a second emulator) is made once.
E2E_WORKERS ?= 4
E2E := $(VENV)/bin/pytest -n $(E2E_WORKERS) --dist loadfile tests/e2e

e2e: venv
	$(E2E) --durations=10

# The whole suite (scripts/test-all): the end-to-end tests, which start the emulator and deploy the
# stack when none is running and stop what they started, run in the background from the start, while
# lint, the offline tests on moto and the simulation run in the foreground; the ten slowest tests of
# each part and a summary with each part's time are printed at the end.
test: venv
	VENV=$(VENV) E2E_WORKERS=$(E2E_WORKERS) scripts/test-all

# The deterministic simulation (tests/simulation): SEED=n replays scenario n exactly; without it,
# fresh seeds run for BUDGET seconds. make test runs its fixed seeds.
BUDGET ?= 600
STEPS ?= 500
.PHONY: simulate
simulate: $(VENV)/.installed
	PYTHONPATH=functions:. $(PY) -m tests.simulation --steps $(STEPS) $(if $(SEED),--seed $(SEED),--budget $(BUDGET))

build: $(VENV)/.installed
	$(VENV)/bin/sam build

validate: $(VENV)/.installed
	SAM_CLI_TELEMETRY=0 $(VENV)/bin/sam validate --lint

bench: venv
	$(PY) bench/run.py

clean: down
	rm -rf .aws-sam $(VENV) $(MINI) $(CHECKOV)

# 2,000 mixed tasks on the local stack with faults injected; fails if any task is lost or run twice,
# or any kind of the mix breaks its promise (scripts/soak.py). SOAK_TASKS=600 make soak: a smaller one.
soak: venv
	$(PY) scripts/soak.py
