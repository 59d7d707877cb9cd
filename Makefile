# bifrost-plugin-sdk: build the example plugin and run every test.
CARGO  ?= cargo
TARGET := wasm32-unknown-unknown
WASM   := target/$(TARGET)/release/hello_world.wasm
OUT    := build/hello-world.wasm

.PHONY: setup build build-optimized test lint clean

## setup: install the wasm target and the lint tools (idempotent)
setup:
	rustup target add $(TARGET)
	rustup component add clippy rustfmt

## build: the hello-world plugin, at build/hello-world.wasm
build:
	$(CARGO) build --release --target $(TARGET) -p hello-world
	@mkdir -p build
	cp $(WASM) $(OUT)
	@echo "$(OUT): $$(wc -c < $(OUT)) bytes"

## build-optimized: build, then shrink with wasm-opt -Oz when it is installed
build-optimized: build
	@if command -v wasm-opt >/dev/null 2>&1; then \
		wasm-opt -Oz --enable-bulk-memory --enable-sign-ext --enable-mutable-globals \
			--enable-nontrapping-float-to-int --enable-multivalue --enable-reference-types \
			$(OUT) -o $(OUT) && echo "$(OUT) after wasm-opt -Oz: $$(wc -c < $(OUT)) bytes"; \
	else \
		echo "wasm-opt is not installed (apt-get install binaryen): $(OUT) is not further optimised"; \
	fi

## test: build the plugin, run every test (unit, doc, real-runtime conformance), then lint
test: build
	$(CARGO) test --workspace
	$(MAKE) lint

## lint: clippy (native and wasm32) with warnings as errors, and rustfmt
lint:
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	$(CARGO) clippy --target $(TARGET) -p bifrost-plugin-sdk -p hello-world -- -D warnings
	$(CARGO) fmt --all --check

clean:
	$(CARGO) clean
	rm -rf build
