#!/usr/bin/env bash
# make test-cluster: builds kube-apiserver, kubectl and etcd (build.sh; skipped when up to date),
# then runs the scenarios of cluster_test.go against the webhook binary of `make build`.
# Every file the run makes goes to a temporary folder that is removed afterwards; every process
# it starts is stopped, also when a scenario fails.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
export PATH="$PATH:/usr/local/go/bin"

start=$SECONDS
"$here/build.sh" "$repo/build/cluster"
echo "test-cluster: binaries ready in $((SECONDS - start)) s"

cd "$here"
export GOFLAGS=-mod=readonly CLUSTER_BIN="$repo/build/cluster" ALLIANCE_WEBHOOK="$repo/build/alliance-webhook"
# Every file of the run (and of go test itself) goes to one temporary folder, removed on exit even
# when go test is interrupted or times out; the processes it started die with it (Pdeathsig).
tmp=$(mktemp -d "${TMPDIR:-/tmp}/alliance-test-cluster.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# go test prints the time the scenarios took on its closing "ok" line.
TMPDIR=$tmp go test -count=1 -v -timeout 15m "$@" .
