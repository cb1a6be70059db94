# datazone-operator — developer entry points. `make demo` and `make test` are the two set-up
# commands of the README; CI runs `make test` through .ci/run.

SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

# One cargo target directory per machine, outside the work tree, so every clone (and CI on the
# same machine) reuses the build. An explicit CARGO_TARGET_DIR wins.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/datazone-operator/target
CARGO ?= cargo
BIN := $(CARGO_TARGET_DIR)/debug/datazone-operator

DEMO_PAYLOAD ?= examples/payloads/three-databases.json
DEMO_SECRET ?= arn:aws:secretsmanager:eu-central-1:222222222222:secret:dz-redshift-AbCdEf

.PHONY: help
help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

.PHONY: build
build: ## Build the operator and the emulator (debug)
	$(CARGO) build --workspace --bins

.PHONY: demo
demo: build ## Import the reference payload and print one RedshiftDataProduct per dataset
	@echo "== datazone-operator import-payload $(DEMO_PAYLOAD)" >&2
	@echo "   (the reference architecture's registration payload -> RedshiftDataProduct manifests)" >&2
	$(BIN) import-payload $(DEMO_PAYLOAD) \
	  --connection corp-mesh --connection-kind ClusterDataZoneConnection \
	  --project sales --credentials-secret-arn $(DEMO_SECRET) --namespace team-sales
	@echo "== Not in this version yet: a local API server, the DataZone emulator and the reconciler;" >&2
	@echo "   the demo prints the manifests the operator would publish from." >&2

.PHONY: test
test: fmt-check lint unit ## Everything CI checks: format, lints, unit and integration tests

.PHONY: unit
unit: ## cargo test for the whole workspace
	$(CARGO) test --workspace

.PHONY: fmt
fmt: ## Format the code
	$(CARGO) fmt --all

.PHONY: fmt-check
fmt-check:
	$(CARGO) fmt --all -- --check

.PHONY: lint
lint: ## Clippy with warnings as errors
	$(CARGO) clippy --workspace --all-targets -- -D warnings

.PHONY: crds
crds: ## Regenerate crds/ from the Rust API types
	$(CARGO) run --quiet --bin datazone-operator -- crdgen --out-dir crds
