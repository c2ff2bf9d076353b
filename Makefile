# Fieldbook's two everyday commands, plus benchmarks. See README.md.
# Every target installs what it needs, so each works on a fresh machine.

.PHONY: run test test-rust test-interop test-pwa pwa lint bench bench-server bench-pwa chromium

CARGO ?= cargo

## Build the web app and the server, and run Fieldbook (sled database in
## ./data, serving the app from pwa/dist) on http://localhost:8080
run: pwa
	$(CARGO) build --release -p fieldbook-server
	./target/release/fieldbook serve --listen 127.0.0.1:8080 --data-dir ./data --pwa-dir ./pwa/dist

## Build the PWA into pwa/dist
pwa:
	cd pwa && npm ci --no-audit --no-fund && npm run build

## Set up and run every test
test: lint test-rust test-interop test-pwa

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

# The PWA: unit tests (Vitest), then the built app in Debian's Chromium,
# served by the real server (target/debug/fieldbook, built by test-interop).
test-pwa: chromium pwa
	$(CARGO) test --no-run -p fieldbook-server
	cd pwa && npm test && npm run e2e

# Debian's Chromium for the browser tests (Playwright never downloads one).
chromium:
	@command -v chromium >/dev/null || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium fonts-dejavu-core; }

## Benchmarks (see BENCHMARKS.md): the sync server against the reference
## server, side by side in one table; then the PWA's size and start-up time
bench: bench-server bench-pwa

bench-server:
	$(CARGO) build --release -p fieldbook-server -p fieldbook-bench
	cd bench/reference && npm ci --no-audit --no-fund
	./target/release/fieldbook-bench all

bench-pwa: chromium pwa
	$(CARGO) build -p fieldbook-server
	cd pwa && npm run bench
