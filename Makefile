# datazone-operator — developer entry points. `make demo` and `make test` are the two set-up
# commands of the README; CI runs `make test` through .ci/run.

SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

# One cargo target directory per machine, outside the work tree, so every clone (and CI on the
# same machine) reuses the build. An explicit CARGO_TARGET_DIR wins.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/datazone-operator/target
CARGO ?= cargo
# Another checkout built into the shared target directory last: rebuild our crates (see the script).
$(shell scripts/target-guard >&2)
BIN := $(CARGO_TARGET_DIR)/debug/datazone-operator

# `make demo KUBECONFIG=/path` runs the demo against that cluster instead of a local one; a
# KUBECONFIG merely inherited from the environment is ignored, so a plain `make demo` never
# touches a cluster you did not name.
ifeq ($(origin KUBECONFIG),command line)
export DEMO_KUBECONFIG := $(KUBECONFIG)
endif

.PHONY: help
help: ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

.PHONY: build
build: ## Build the operator and the emulator (debug)
	$(CARGO) build --locked --workspace --bins

.PHONY: demo
demo: build ## Import the reference payload, start a local API server, apply, run the operator
	scripts/demo up

.PHONY: demo-mesh
demo-mesh: build ## `make demo`, then the consumer's side: a policy approves, a DataZoneSubscription is granted
	DEMO_MESH=1 scripts/demo up

.PHONY: demo-down
demo-down: ## Stop what `make demo` started
	scripts/demo down

.PHONY: test
test: fmt-check lint unit emulator-smoke chart alerts image-lint gitops docs e2e e2e-node ## Everything CI checks: format, lints, unit, integration and end-to-end tests, the docs build

.PHONY: unit
unit: ## cargo test for the whole workspace
	$(CARGO) test --locked --workspace

.PHONY: e2e
e2e: ## End-to-end tests against a real kube-apiserver + etcd (built once from Go modules)
	scripts/e2e

.PHONY: e2e-node
e2e-node: ## The chart's pod on a real node (kubelet, containerd, the image built here); needs root
	scripts/e2e-node

.PHONY: testbin
testbin: ## Build (or reuse) kube-apiserver, etcd, kubectl and helm
	scripts/k8s-testbin

.PHONY: chart
chart: ## Helm chart: lint, render (default and every option set), schema rejects bad values
	scripts/chart-check

.PHONY: alerts
alerts: ## The chart's alerts: promtool check rules and test rules (a firing and a silent case each)
	scripts/alerts-check

.PHONY: image-local
image-local: ## The operator image and a pause image built here (buildah, FROM scratch), as OCI archives in target/images
	scripts/image-local

.PHONY: image-lint
image-lint: ## Dockerfile best practices (hadolint; no container engine needed)
	scripts/image-lint

.PHONY: gitops
gitops: ## The Argo CD health check (Lua) against the statuses the operator writes
	scripts/gitops-check

.PHONY: emulator-smoke
emulator-smoke: ## The emulator binary driven by boto3 (a second SDK: wire compatibility)
	scripts/emulator-smoke

.PHONY: soak
soak: ## The full chaos soak: 100 data products, 2 replicas, 30 % faults, 50 leader kills (prints counts; not in make test)
	scripts/soak

.PHONY: test-matrix
test-matrix: ## The chart checks, end-to-end and node suites against every supported Kubernetes x Helm pair (scripts/versions.env)
	scripts/test-matrix

.PHONY: bench
bench: ## The operator at 200, 1,000 and 10,000 data products: time, AWS calls, steady state, memory, CPU (release; prints a table)
	scripts/bench

.PHONY: bench-plants
bench-plants: ## Five operators (plants) against one domain's per-API quotas: equal and unequal fleets, an outage, the environment quota (release; prints a table)
	BENCH_PLANTS=$${BENCH_PLANTS:-1000,1000,1000,1000,1000} scripts/bench

.PHONY: bench-emulator
bench-emulator: ## Emulator throughput (8 SDK clients) and memory at 10,000 data sources (release build)
	$(CARGO) bench --locked -p datazone-emulator --bench throughput

.PHONY: fmt
fmt: ## Format the code
	$(CARGO) fmt --all

.PHONY: fmt-check
fmt-check:
	$(CARGO) fmt --all -- --check

.PHONY: lint
lint: ## Clippy with warnings as errors
	$(CARGO) clippy --locked --workspace --all-targets -- -D warnings

.PHONY: crds
crds: ## Regenerate crds/, the chart's CRD templates and docs/reference/api.md from the Rust API types
	$(CARGO) run --locked --quiet --bin datazone-operator -- crdgen --out-dir crds --chart-dir charts/datazone-operator/templates/crds --api-reference docs/reference/api.md

.PHONY: docs
docs: ## Build docs/ as a book with mdBook into target/book (mdBook built once from crates.io, then offline)
	mdbook=$$(tools/mdbook-bin | tail -n 1); "$$mdbook" build docs --dest-dir "$(CURDIR)/target/book"

.PHONY: ci-cold
ci-cold: ## CI's .ci/run on a fresh clone of HEAD with every cache under an empty HOME (40-60 min; prints the time)
	scripts/ci-cold
