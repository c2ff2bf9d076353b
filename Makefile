# Fieldbook's two everyday commands, plus benchmarks. See README.md.
# Every target installs what it needs, so each works on a fresh machine.

.PHONY: run test test-rust test-interop lint bench setup-node

CARGO ?= cargo

## Build and run the server (sled database in ./data) on http://localhost:8080
run:
	$(CARGO) build --release -p fieldbook-server
	./target/release/fieldbook serve --listen 127.0.0.1:8080 --data-dir ./data

## Set up and run every test
test: lint test-rust test-interop

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

test-rust:
	$(CARGO) test --workspace

# `test --no-run` builds target/debug/fieldbook with the same features as the
# Rust tests did, so after them nothing is compiled twice.
test-interop:
	$(CARGO) test --no-run -p fieldbook-server
	cd tests/interop && npm ci --no-audit --no-fund && npm test

## Benchmarks: every scenario against Fieldbook and the reference server,
## side by side, printed as one table (see BENCHMARKS.md)
bench:
	$(CARGO) build --release -p fieldbook-server -p fieldbook-bench
	cd bench/reference && npm ci --no-audit --no-fund
	./target/release/fieldbook-bench all
