#!/usr/bin/env bash
# Builds what the cluster test runs, into OUT (default build/cluster/ of the repository):
#   kube-apiserver, kubectl  from k8s.io/kubernetes at the release pinned in go.mod (this folder)
#   etcd                     from go.etcd.io/etcd/server/v3/embed (etcd/, a module of its own)
# Only the Go module proxy is needed: go.sum is complete, and -mod=readonly refuses to change it.
# A stamp (the hash of both go.mod and go.sum files, the sources and the Go version) skips the
# build when the binaries are up to date; otherwise the Go build cache makes a rebuild cheap.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
out=${1:-$repo/build/cluster}

# Go is provided at /usr/local/go on every machine of this project.
export PATH="$PATH:/usr/local/go/bin"
command -v go >/dev/null || {
  echo "test-cluster: Go not found (expected /usr/local/go/bin/go, or go on PATH); install Go 1.23 or later" >&2
  exit 1
}
export GOFLAGS=-mod=readonly CGO_ENABLED=0
export GOMAXPROCS=${GOMAXPROCS:-2}

stamp_of() {
  (cd "$here" && cat go.mod go.sum tools.go build.sh etcd/go.mod etcd/go.sum etcd/main.go && go version) | sha256sum | cut -d' ' -f1
}
stamp=$(stamp_of)
bins=(kube-apiserver kubectl etcd)
up_to_date=1
for b in "${bins[@]}"; do [ -x "$out/$b" ] || up_to_date=0; done
if [ "$up_to_date" = 1 ] && [ "$(cat "$out/.stamp" 2>/dev/null)" = "$stamp" ]; then
  echo "test-cluster: $out is up to date (kube-apiserver, kubectl, etcd)"
  exit 0
fi
mkdir -p "$out"
rm -f "$out/.stamp"

timed() {  # label command...
  local start=$SECONDS
  "${@:2}"
  echo "test-cluster: $1 took $((SECONDS - start)) s"
}

cd "$here"
timed "module download" sh -c 'go mod download && (cd etcd && go mod download)'

# The version kubectl and the API server report (kubectl version, /version): the pinned release.
k8s_version=$(go list -m -f '{{.Version}}' k8s.io/kubernetes)
minor=$(echo "$k8s_version" | cut -d. -f2)
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitTreeState=clean"
done
timed "build kube-apiserver $k8s_version" go build -ldflags "$ldflags" -o "$out/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
timed "build kubectl $k8s_version" go build -ldflags "$ldflags" -o "$out/kubectl" k8s.io/kubernetes/cmd/kubectl
etcd_version=$(cd etcd && go list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)
timed "build etcd $etcd_version" sh -c "cd etcd && go build -ldflags '-s -w' -o '$out/etcd' ."
echo "$stamp" >"$out/.stamp"
