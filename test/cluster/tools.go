//go:build tools

// The Kubernetes programs the cluster test builds from this module (see build.sh): importing
// them here keeps their modules in go.mod and go.sum.
package cluster

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
