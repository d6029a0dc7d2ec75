# Ángel — the two commands a fresh machine needs. See README.md.
SHELL := /bin/bash

.PHONY: run test bench build tools check clean-data

## make run: install what is missing, build the release site, migrate, seed, serve on :3000
run: build
	@.ci/serve.sh

## make test: tools, cargo test (SQLite), the integration suite on PostgreSQL, release build, browser tests
test:
	@.ci/test.sh

## make bench: performance goals of PERFORMANCE.md, as ratios against a baseline in the same run
bench: tools
	@.ci/bench.sh

build:
	@.ci/build.sh

tools:
	@.ci/tools.sh

## make check: fast feedback while editing (server and browser halves)
check:
	@source .ci/env.sh && cargo check --workspace && cargo check -p angel-app --features hydrate --target wasm32-unknown-unknown -Zbuild-std=std,panic_abort
