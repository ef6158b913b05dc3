# alliance-webhook: the README's two commands are `make run` and `make test`.
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
NAMESPACE ?= alliance-webhook
CERT_DIR ?= certs/out
CONFIG ?= examples/config.yaml
BIN := $(BUILD_DIR)/alliance-webhook

.PHONY: all deps build test run certs clean fmt lint

all: build

deps:
	@scripts/ensure-packages.sh scripts/build-packages.txt

# The one build command: the Dockerfile runs exactly this.
build: deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DAW_WERROR=ON
	cmake --build $(BUILD_DIR) -j$(JOBS)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j$(JOBS)

certs: deps
	certs/make-certs.sh --out $(CERT_DIR) --namespace $(NAMESPACE)

run: build certs
	$(BIN) serve --config $(CONFIG) --listen 127.0.0.1:8443 \
	  --tls-cert $(CERT_DIR)/tls.crt --tls-key $(CERT_DIR)/tls.key --log-format text

clean:
	rm -rf $(BUILD_DIR) $(CERT_DIR)

fmt:
	clang-format -i $$(git ls-files '*.cpp' '*.h')

lint: build
	clang-format --dry-run --Werror $$(git ls-files '*.cpp' '*.h')
	clang-tidy -p $(BUILD_DIR) --quiet $$(git ls-files 'rules/*.cpp' 'webhook/*.cpp')
