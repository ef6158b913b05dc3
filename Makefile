# alliance-webhook: the README's two commands are `make run` and `make test`.
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
NAMESPACE ?= alliance-webhook
CERT_DIR ?= certs/out
CONFIG ?= examples/config.yaml
BIN := $(BUILD_DIR)/alliance-webhook

.PHONY: all deps build test run certs clean fmt lint image deploy undeploy bench soak test-asan fuzz \
	test-cluster

all: build

deps:
	@scripts/ensure-packages.sh scripts/build-packages.txt

# The one build command: the Dockerfile runs exactly this.
build: deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DAW_WERROR=ON
	cmake --build $(BUILD_DIR) -j$(JOBS)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j$(JOBS)

# The whole ctest suite built with AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/).
test-asan: deps
	scripts/sanitize.sh

# The webhook behind a real kube-apiserver, driven by kubectl (test/cluster/): builds kube-apiserver,
# kubectl and etcd with Go into build/cluster/ (once; the Go build cache keeps the rest).
test-cluster: build
	@scripts/ensure-packages.sh test/cluster/packages.txt
	test/cluster/run.sh

# libFuzzer targets (clang-14) run for FUZZ_SECONDS each; reproducers land in build-fuzz/artifacts/.
FUZZ_SECONDS ?= 60
fuzz: deps
	fuzz/run.sh $(FUZZ_SECONDS)

certs: deps
	certs/make-certs.sh --out $(CERT_DIR) --namespace $(NAMESPACE)

run: build certs
	$(BIN) serve --config $(CONFIG) --listen 127.0.0.1:8443 \
	  --tls-cert $(CERT_DIR)/tls.crt --tls-key $(CERT_DIR)/tls.key --log-format text

clean:
	rm -rf $(BUILD_DIR) $(CERT_DIR)

fmt:
	clang-format -i $$(git ls-files '*.cpp' '*.h')

# clang-format over every source, clang-tidy (.clang-tidy) over common/, rules/ and webhook/, JOBS at once.
# The build's flags are GCC's, so clang-tidy is told to ignore the warning options it lacks.
lint: build
	@scripts/ensure-packages.sh scripts/build-packages.txt scripts/lint-packages.txt
	clang-format --dry-run --Werror $$(git ls-files '*.cpp' '*.h')
	git ls-files 'common/*.cpp' 'rules/*.cpp' 'webhook/*.cpp' | xargs -P$(JOBS) -n4 clang-tidy -p $(BUILD_DIR) \
	  --quiet --extra-arg=-Wno-unknown-warning-option

# ---- install on a cluster ----
VERSION := $(shell sed -n 's/^project.* VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
IMAGE ?= alliance-webhook:$(VERSION)
OVERLAY ?= manifests
KUSTOMIZE_DIR ?= $(CERT_DIR)/kustomize

# The container image (needs a Docker engine); its builder runs `make build BUILD_TYPE=Release`.
image:
	docker build -t $(IMAGE) .

# Installs in kubectl's current context: certificates (kept while valid) and, in $(KUSTOMIZE_DIR),
# a kustomize overlay of $(OVERLAY) with the TLS Secret and every webhook's caBundle.
# Audit first: make deploy OVERLAY=manifests/overlays/audit; then make deploy.
deploy: deps
	certs/make-certs.sh --out $(CERT_DIR) --namespace $(NAMESPACE) \
	  --kustomize $(KUSTOMIZE_DIR) --kustomize-base $(OVERLAY) --image $(IMAGE)
	kubectl apply -k $(KUSTOMIZE_DIR)
	kubectl -n $(NAMESPACE) rollout status deployment/alliance-webhook --timeout=180s

# The webhook registrations go first, so the API server stops calling the webhook before its pods
# are gone; then everything else (the Namespace takes the Secret and ConfigMap with it).
undeploy:
	kubectl delete validatingwebhookconfiguration,mutatingwebhookconfiguration \
	  -l app.kubernetes.io/name=alliance-webhook --ignore-not-found
	kubectl delete -k $(if $(wildcard $(KUSTOMIZE_DIR)/kustomization.yaml),$(KUSTOMIZE_DIR),$(OVERLAY)) \
	  --ignore-not-found

# ---- benchmarks (issue 7): figures against the targets, about 5 minutes; bench/bench.sh --help
BENCH_DIR ?= build-bench

bench:
	BENCH_DIR=$(BENCH_DIR) bench/bench.sh

# 1,000,000 requests over keep-alive with the payload mix (about 5 minutes here).
soak:
	BENCH_DIR=$(BENCH_DIR) bench/bench.sh --soak
