# bifrost-plugin-sdk: build the example plugin and run every test.
CARGO  ?= cargo
TARGET := wasm32-unknown-unknown
WASM   := target/$(TARGET)/release/hello_world.wasm
# The WASI preview 1 target: plugins that log, read the clock, draw random bytes.
WASI_TARGET := wasm32-wasip1
# ABI=seed (default: build/hello-world.wasm) or ABI=single-input
# (build/hello-world-single-input.wasm); `make build` without ABI builds both.
ABI    ?=

# The example plugins (wasm32-unknown-unknown): every crate under examples/
# but those listed in WASI_EXAMPLES, which are built for wasm32-wasip1 (they
# log or read the clock).
WASI_EXAMPLES ?= rate-limiter request-logger
EXAMPLES := $(filter-out $(WASI_EXAMPLES),$(patsubst examples/%/Cargo.toml,%,$(wildcard examples/*/Cargo.toml)))
comma := ,
empty :=
space := $(empty) $(empty)
WASM_OPT_FLAGS := -Oz --enable-bulk-memory --enable-sign-ext --enable-mutable-globals \
	--enable-nontrapping-float-to-int --enable-multivalue --enable-reference-types

.PHONY: venv test-python setup build build-test-plugins build-optimized examples scenarios package test test-new fuzz bench docs lint clean serve

# mdBook builds the guide (make docs). Debian has no package of it, so setup
# builds it from crates.io, pinned, without its `serve`/`watch` features
# (a web server and a file watcher the build does not need).
MDBOOK_VERSION := 0.5.4
MDBOOK ?= mdbook

## setup: install the wasm targets, the lint tools and mdBook (idempotent)
setup:
	rustup target add $(TARGET) $(WASI_TARGET)
	rustup component add clippy rustfmt
	@if $(MDBOOK) --version 2>/dev/null | grep -q "v$(MDBOOK_VERSION)$$"; then \
		echo "mdbook $(MDBOOK_VERSION) is installed"; \
	else \
		$(CARGO) install mdbook --locked --version $(MDBOOK_VERSION) --no-default-features --features search; \
	fi
	$(MAKE) venv

## venv: a project-local Python environment, .venv/, with the official OpenAI
## client for the serve tests (a fresh Debian lacks python3-venv: installed
## with apt-get when run as root)
VENV := .venv
PYTHON_REQUIREMENTS := cli/tests/python/requirements.txt
venv:
	@if ! $(VENV)/bin/python -c 'import openai' 2>/dev/null; then \
		rm -rf $(VENV); \
		if ! python3 -m venv $(VENV) 2>/dev/null; then \
			rm -rf $(VENV); \
			if [ "$$(id -u)" = 0 ]; then \
				apt-get update -q && apt-get install -y -q python3 python3-venv; \
			else \
				echo "python3 -m venv failed: install python3-venv (sudo apt-get install python3-venv)"; exit 1; \
			fi; \
			python3 -m venv $(VENV); \
		fi; \
	fi
	$(VENV)/bin/pip install -q -r $(PYTHON_REQUIREMENTS)

## build: the hello-world plugin, build/hello-world.wasm (seed ABI),
## build/hello-world-single-input.wasm and build/hello-world-wasi.wasm (seed
## ABI for wasm32-wasip1: logs what it sees); ABI=seed or ABI=single-input
## builds one ABI
build:
ifneq ($(ABI),single-input)
	$(CARGO) build --release --target $(TARGET) -p hello-world
	@mkdir -p build
	cp $(WASM) build/hello-world.wasm
	@echo "build/hello-world.wasm: $$(wc -c < build/hello-world.wasm) bytes"
	$(CARGO) build --release --target $(WASI_TARGET) -p hello-world
	cp target/$(WASI_TARGET)/release/hello_world.wasm build/hello-world-wasi.wasm
	@echo "build/hello-world-wasi.wasm: $$(wc -c < build/hello-world-wasi.wasm) bytes"
endif
ifneq ($(ABI),seed)
	$(CARGO) build --release --target $(TARGET) -p hello-world --features single-input-abi
	@mkdir -p build
	cp $(WASM) build/hello-world-single-input.wasm
	@echo "build/hello-world-single-input.wasm: $$(wc -c < build/hello-world-single-input.wasm) bytes"
endif

## build-test-plugins: plugins that exist only for tests, under build/test/
build-test-plugins:
	$(CARGO) build --release --target $(TARGET) -p panicking-plugin
	@mkdir -p build/test
	cp target/$(TARGET)/release/panicking_plugin.wasm build/test/panicking.wasm
	$(CARGO) build --release --target $(WASI_TARGET) -p panicking-plugin
	cp target/$(WASI_TARGET)/release/panicking_plugin.wasm build/test/panicking-wasi.wasm
	$(CARGO) build --release --target $(TARGET) -p bench-guest
	cp target/$(TARGET)/release/bench_guest.wasm build/test/bench-guest.wasm
	# (its single-input build defines no HTTP hook: the fuzzer calls those
	# exports, which pass their input on unread)
	$(CARGO) build --release --target $(TARGET) -p bench-guest --features single-input-abi
	cp target/$(TARGET)/release/bench_guest.wasm build/test/bench-guest-single-input.wasm
	# a plugin that marks what it sees, for the tests of chains (serve)
	$(CARGO) build --release --target $(TARGET) -p chain-probe
	cp target/$(TARGET)/release/chain_probe.wasm build/test/chain-probe.wasm
	$(CARGO) build --release --target $(TARGET) -p chain-probe --features single-input-abi
	cp target/$(TARGET)/release/chain_probe.wasm build/test/chain-probe-single-input.wasm
	# hello-world with each opt-in allocator, for the memory tests and the bench
	$(CARGO) build --release --target $(TARGET) -p hello-world --features dlmalloc
	cp $(WASM) build/test/hello-world-dlmalloc.wasm
	$(CARGO) build --release --target $(TARGET) -p hello-world --features wee_alloc
	cp $(WASM) build/test/hello-world-wee-alloc.wasm
	# Debug builds (debug assertions on) for the soundness probes: undefined
	# behaviour a release build survives by luck trips their checks.
	$(CARGO) build --target $(TARGET) -p hello-world
	cp target/$(TARGET)/debug/hello_world.wasm build/test/hello-world-debug.wasm
	$(CARGO) build --target $(TARGET) -p hello-world --features single-input-abi
	cp target/$(TARGET)/debug/hello_world.wasm build/test/hello-world-debug-single-input.wasm

## bench: in one run, ours against the public example's approach (both ABIs,
## wasmi and wasmtime, 1/20/200 KB), the stream chunk hook, peak memory of a
## pass-through at 1/16/64 MB, sizes, the allocators (memory after BENCH_CALLS
## calls); writes build/bench.json and regenerates the tables of the guide's
## performance chapter (docs/src/performance.md) from it
BENCH_CALLS ?= 100000
bench: build build-test-plugins examples
	$(CARGO) build --release --target $(TARGET) -p public-example-guest
	cp target/$(TARGET)/release/public_example_guest.wasm build/test/public-example.wasm
	$(CARGO) build --release --target $(TARGET) -p public-example-guest --features single-input-abi
	cp target/$(TARGET)/release/public_example_guest.wasm build/test/public-example-single-input.wasm
	$(CARGO) build --release --target $(TARGET) -p hello-world --features unchecked-echo
	cp $(WASM) build/test/hello-world-unchecked-echo.wasm
	$(CARGO) build --profile bench-host -p bifrost-plugin-cli --features jit
	$(CARGO) run --profile bench-host -p bifrost-plugin-bench --features jit -- --calls $(BENCH_CALLS) \
		--serve-binary target/bench-host/bifrost-plugin
	$(CARGO) run --profile bench-host -p bifrost-plugin-bench --features jit -- --tables docs/src/performance.md

## build-optimized: build, then shrink with wasm-opt -Oz when it is installed
build-optimized: build
	@for out in build/hello-world*.wasm; do \
		if command -v wasm-opt >/dev/null 2>&1; then \
			wasm-opt $(WASM_OPT_FLAGS) $$out -o $$out && echo "$$out after wasm-opt -Oz: $$(wc -c < $$out) bytes"; \
		else \
			echo "wasm-opt is not installed (apt-get install binaryen): $$out is not further optimised"; \
		fi; \
	done

## examples: every example for both ABIs, build/examples/<name>.wasm (seed)
## and build/examples/<name>-single-input.wasm, one cargo run per ABI and
## target (WASI_EXAMPLES are built for wasm32-wasip1, and for
## wasm32-unknown-unknown as build/examples/<name>-wasm32-unknown-unknown.wasm,
## the base of their size ratio); then a
## size table (and sizes after wasm-opt -Oz, under build/examples/wasm-opt/,
## when binaryen is installed and OZ is not 0). One cargo run builds the SDK
## once, with the union of the SDK features the examples ask for: so that each
## .wasm is the one `cargo build -p <name>` (and its host test) builds, every
## example enables the same SDK features.
OZ ?= 1
examples:
	$(CARGO) build --release --target $(TARGET) $(addprefix -p ,$(EXAMPLES) $(WASI_EXAMPLES))
	@mkdir -p build/examples
	@for name in $(EXAMPLES); do \
		cp target/$(TARGET)/release/$$(echo $$name | tr - _).wasm build/examples/$$name.wasm; \
	done
	@# the WASI examples' wasm32-unknown-unknown builds too: the size goal of a
	@# wasip1 build is a ratio to it (bench/tests/goals.rs)
	@for name in $(WASI_EXAMPLES); do \
		cp target/$(TARGET)/release/$$(echo $$name | tr - _).wasm build/examples/$$name-$(TARGET).wasm; \
	done
	$(CARGO) build --release --target $(TARGET) $(addprefix -p ,$(EXAMPLES)) \
		--features $(subst $(space),$(comma),$(addsuffix /single-input-abi,$(EXAMPLES)))
	@for name in $(EXAMPLES); do \
		cp target/$(TARGET)/release/$$(echo $$name | tr - _).wasm build/examples/$$name-single-input.wasm; \
	done
	$(CARGO) build --release --target $(WASI_TARGET) $(addprefix -p ,$(WASI_EXAMPLES))
	@for name in $(WASI_EXAMPLES); do \
		cp target/$(WASI_TARGET)/release/$$(echo $$name | tr - _).wasm build/examples/$$name.wasm; \
	done
	$(CARGO) build --release --target $(WASI_TARGET) $(addprefix -p ,$(WASI_EXAMPLES)) \
		--features $(subst $(space),$(comma),$(addsuffix /single-input-abi,$(WASI_EXAMPLES)))
	@for name in $(WASI_EXAMPLES); do \
		cp target/$(WASI_TARGET)/release/$$(echo $$name | tr - _).wasm build/examples/$$name-single-input.wasm; \
	done
	@opt=$$([ "$(OZ)" = 0 ] || command -v wasm-opt); mkdir -p build/examples/wasm-opt; \
	if [ "$(OZ)" = 0 ]; then echo "OZ=0: no -Oz column"; \
	elif [ -z "$$opt" ]; then echo "wasm-opt is not installed (apt-get install binaryen): no -Oz column"; fi; \
	printf '%-32s %12s %20s' example "seed (B)" "single-input (B)"; \
	if [ -n "$$opt" ]; then printf ' %14s %22s' "seed -Oz (B)" "single-input -Oz (B)"; fi; echo; \
	for name in $(EXAMPLES) $(WASI_EXAMPLES); do \
		label=$$name; case " $(WASI_EXAMPLES) " in *" $$name "*) label="$$name (wasm32-wasip1)";; esac; \
		printf '%-32s %12s %20s' "$$label" $$(wc -c < build/examples/$$name.wasm) \
			$$(wc -c < build/examples/$$name-single-input.wasm); \
		if [ -n "$$opt" ]; then \
			for abi in "" -single-input; do \
				wasm-opt $(WASM_OPT_FLAGS) build/examples/$$name$$abi.wasm \
					-o build/examples/wasm-opt/$$name$$abi.wasm || exit 1; \
			done; \
			printf ' %14s %22s' $$(wc -c < build/examples/wasm-opt/$$name.wasm) \
				$$(wc -c < build/examples/wasm-opt/$$name-single-input.wasm); \
		fi; \
		echo; \
	done
	@for name in $(WASI_EXAMPLES); do \
		w=$$(wc -c < build/examples/$$name.wasm); u=$$(wc -c < build/examples/$$name-$(TARGET).wasm); \
		echo "$$name: $(WASI_TARGET) $$w B = $$(awk "BEGIN{printf \"%.3f\", $$w/$$u}")x its $(TARGET) build ($$u B)"; \
	done

## test: build the plugin, run every test (unit, doc, the guide's samples,
## real-runtime conformance), build the guide, then lint
## (the examples are built once, without wasm-opt: sizes are not tested)
test: OZ := 0
test: build build-test-plugins examples
	$(CARGO) test --workspace
	$(MAKE) test-python
	# The workspace run unifies the examples' sdk feature compact-reader;
	# the SDK's own tests run once more with its default (serde_json) reader.
	$(CARGO) test -p bifrost-plugin-sdk --lib --tests
	$(RUN_SCENARIOS)
	$(MAKE) package
	$(MAKE) fuzz FUZZ_SECONDS=30 FUZZ_SWEEP=0 FUZZ_PROFILE=dev
	$(MAKE) docs
	$(MAKE) lint

## docs: the guide (docs/src/, mdBook) into build/docs/ (open
## build/docs/index.html); its Rust samples are doc-tests of docs/lib.rs,
## which `cargo test --workspace` runs
docs:
	@command -v $(MDBOOK) >/dev/null || { echo "mdbook is not installed: run make setup"; exit 1; }
	$(MDBOOK) build docs

## test-python: `serve` driven by the official OpenAI Python client (.venv from
## make setup; the binary and the plugins built by make test)
test-python:
	@test -x $(VENV)/bin/python || { echo "no $(VENV): run make setup (or make venv)"; exit 1; }
	$(CARGO) build -q -p bifrost-plugin-cli
	BIFROST_PLUGIN=target/debug/bifrost-plugin $(VENV)/bin/python -m unittest discover -s cli/tests/python -v

## fuzz: feed mutated and arbitrary bytes to every export of both builds
## (FUZZ_SECONDS, default 600, or FUZZ_ITERATIONS; FUZZ_SEED to replay a
## run), built with the optimised `fuzz` profile; then the full fuel sweep
## (every budget of every export of four builds, host/tests/sweep.rs: hours
## on 2 cores; FUZZ_SWEEP=0 skips it, as `make test` does, which runs its
## sample)
## (`make test` runs 30 s of it with the dev profile it has built already: a
## clean clone would otherwise compile every dependency once more)
FUZZ_SECONDS ?= 600
FUZZ_SWEEP ?= 1
FUZZ_PROFILE ?= fuzz
fuzz: build build-test-plugins
	$(CARGO) run --profile $(FUZZ_PROFILE) -p bifrost-plugin-fuzz -- \
		$(if $(FUZZ_ITERATIONS),--iterations $(FUZZ_ITERATIONS),--seconds $(FUZZ_SECONDS)) \
		$(if $(FUZZ_SEED),--seed $(FUZZ_SEED))
ifneq ($(FUZZ_SWEEP),0)
	$(CARGO) test --profile fuzz -p bifrost-plugin-host --test sweep -- --ignored --nocapture
endif

## scenarios: every example's scenario files (examples/*/scenarios/*.json),
## multi-call sequences on one instance, through `bifrost-plugin test`
RUN_SCENARIOS = $(CARGO) run -q -p bifrost-plugin-cli -- test $(wildcard examples/*/scenarios/*.json)
scenarios: build examples
	$(RUN_SCENARIOS)

## package: `cargo package` of the crates meant for crates.io (sdk, macros,
## host, CLI), each verified by building it from its .crate, offline (the
## intra-workspace dependencies come from the packages themselves)
PUBLISHED := bifrost-plugin-sdk bifrost-plugin-sdk-macros bifrost-plugin-host bifrost-plugin-cli
## Cargo unpacks those packages from a temporary registry under
## $CARGO_HOME/registry/src/, once per name and version, keyed by the
## checkout's path: a copy left by an earlier run in the same folder would be
## verified in place of today's sources, so our own crates' copies go first
## (they are not on crates.io: nothing else reads them).
CARGO_HOME_DIR := $(or $(CARGO_HOME),$(HOME)/.cargo)
## Cargo takes a registry crate's name and version for its whole fingerprint,
## so what it compiled from an earlier copy would be linked in place of
## today's: those compiled copies (found by their dep-info) go too.
package:
	rm -rf $(CARGO_HOME_DIR)/registry/src/*/bifrost-plugin-*
	@for info in $$(grep -l 'registry/src/[^/ ]*/bifrost-plugin-' target/debug/deps/*.d 2>/dev/null); do \
		rm -rf "target/debug/.fingerprint/$$(basename $$info .d | tr _ -)"; \
	done
	$(CARGO) package --offline --allow-dirty $(addprefix -p ,$(PUBLISHED))

## test-new: `bifrost-plugin new` for each hook set, and --wasi (make test
## runs two generated crates: every hook, and a --wasi one): each crate's
## cargo test, build, scenario
test-new:
	$(CARGO) test -p bifrost-plugin-cli --test new_plugin -- --include-ignored

## lint: clippy (native and wasm32) and the API docs of the published crates
## with warnings as errors (broken links, missing docs), and rustfmt
lint:
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --no-deps $(addprefix -p ,$(PUBLISHED))
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	@# serve's wasmtime runtime (feature jit, which only make bench builds):
	@# checked here so it cannot rot (about 40 s more on 2 cores)
	$(CARGO) clippy -p bifrost-plugin-cli --features jit --all-targets -- -D warnings
	$(CARGO) clippy --target $(TARGET) -p bifrost-plugin-sdk $(addprefix -p ,$(EXAMPLES)) -p panicking-plugin -p chain-probe -- -D warnings
	$(CARGO) clippy --target $(TARGET) -p bifrost-plugin-sdk $(addprefix -p ,$(EXAMPLES)) \
		--features $(subst $(space),$(comma),$(addsuffix /single-input-abi,$(EXAMPLES))) -- -D warnings
	$(CARGO) clippy --target $(WASI_TARGET) -p bifrost-plugin-sdk -p hello-world -p panicking-plugin $(addprefix -p ,$(WASI_EXAMPLES)) -- -D warnings
	$(CARGO) clippy --target $(WASI_TARGET) -p bifrost-plugin-sdk -p hello-world $(addprefix -p ,$(WASI_EXAMPLES)) \
		--features $(subst $(space),$(comma),$(addsuffix /single-input-abi,hello-world $(WASI_EXAMPLES))) -- -D warnings
	$(CARGO) fmt --all --check

## serve: the gallery's plugins (examples/serve/config.json) behind an
## OpenAI-compatible endpoint on SERVE_LISTEN, with the mock provider (for
## development and testing, not production)
SERVE_LISTEN ?= 127.0.0.1:8080
serve: examples
	$(CARGO) run -q -p bifrost-plugin-cli -- serve --config examples/serve/config.json --listen $(SERVE_LISTEN)

clean:
	$(CARGO) clean
	rm -rf build
