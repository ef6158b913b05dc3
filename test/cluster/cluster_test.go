package cluster

// `make test-cluster`: the webhook behind a real kube-apiserver, driven by a real kubectl. Each
// scenario asserts what kubectl prints (byte for byte where the README shows it) and what the
// API server stored. The scenarios share one cluster and run in order.

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestCluster(t *testing.T) {
	e := setUp(t)
	began := time.Now()
	for _, s := range []struct {
		name string
		run  func(*testing.T, *env)
	}{
		{"WebhookRBAC", testWebhookRBAC},
		{"UnnamedPortDenied", testUnnamedPortDenied},
		{"WarnRule", testWarnRule},
		{"TrustDomainClusterLocal", testTrustDomainClusterLocal},
		{"OverlappingFederations", testOverlappingFederations},
		{"LocalClusterFromSecret", testLocalClusterFromSecret},
		{"MulticlusterDomain", testMulticlusterDomain},
		{"ServiceEntryDefaults", testServiceEntryDefaults},
		{"AuditOverlay", testAuditOverlay},
		{"DeletingServiceLosesFinalizer", testDeletingServiceLosesFinalizer},
		{"ExistingViolation", testExistingViolation},
		{"CertificateRotation", testCertificateRotation},
		{"WebhookStopped", testWebhookStopped},
	} {
		t.Run(s.name, func(t *testing.T) { s.run(t, e) })
	}
	t.Logf("phase: scenarios in %.1f s", time.Since(began).Seconds())
}

// TestHold brings the cluster up and keeps it for CLUSTER_TEST_HOLD seconds, for a person to try
// things with kubectl: test/cluster/run.sh -run TestHold (with CLUSTER_TEST_HOLD=600).
func TestHold(t *testing.T) {
	seconds, _ := strconv.Atoi(os.Getenv("CLUSTER_TEST_HOLD"))
	if seconds <= 0 {
		t.Skip("set CLUSTER_TEST_HOLD=SECONDS to keep a cluster up that long")
	}
	e := setUp(t)
	t.Logf("cluster up for %d s: export KUBECONFIG=%s (kubectl: %s); webhook log %s",
		seconds, e.admin, filepath.Join(e.bin, "kubectl"), e.webhookProc.log)
	time.Sleep(time.Duration(seconds) * time.Second)
}

// setUp starts etcd, the API server and the webhook, and installs the CRDs and the manifests.
func setUp(t *testing.T) *env {
	e := newEnv(t)
	began := time.Now()
	etcdURL := e.startEtcd(t)
	e.startAPIServer(t, etcdURL)
	e.installCRDs(t)
	t.Logf("phase: etcd, kube-apiserver and CRDs up in %.1f s", time.Since(began).Seconds())

	began = time.Now()
	e.webhookPort, e.metricsPort = freePort(t), freePort(t)
	e.makeWebhookCerts(t)
	base := e.render(t, "manifests")
	// Everything but the webhook registrations, as rendered: the API server validates each.
	out := e.applyObjects(t, "install.yaml", base.objects)
	if n := strings.Count(out, " created\n"); n != len(base.objects) {
		t.Fatalf("applying the rendered manifests: %d objects, %d created:\n%s", len(base.objects), n, out)
	}
	// A public Service with an unnamed port, made before any webhook is registered, with a
	// finalizer, then deleted: it stays, being deleted, until the finalizer is removed.
	e.must(t, "apply", "-f", "old-bar-service.yaml")
	e.must(t, "delete", "-f", "old-bar-service.yaml", "--wait=false")
	// Another, not being deleted, for the existing-violation rules.
	e.must(t, "apply", "-f", "legacy-service.yaml")

	e.writeWebhookKubeconfig(t)
	e.syncConfigMap(t)
	e.startWebhook(t)
	out = e.applyObjects(t, "registrations.yaml", base.registrations)
	for _, want := range []string{
		"validatingwebhookconfiguration.admissionregistration.k8s.io/alliance-webhook created",
		"mutatingwebhookconfiguration.admissionregistration.k8s.io/alliance-webhook created",
	} {
		if !strings.Contains(out, want) {
			t.Fatalf("registering the webhooks: no %q in:\n%s", want, out)
		}
	}
	// The API server picks the registrations up asynchronously.
	eventually(t, waitTimeout, "the API server calls the webhook", func() (bool, string) {
		out, err := e.kubectl("apply", "--dry-run=server", "-f", "bar-service.yaml")
		return err != nil && strings.Contains(out, "services.alliance-webhook.io"), out
	})
	t.Logf("phase: webhook installed from the manifests and called in %.1f s", time.Since(began).Seconds())
	return e
}

// ---- the README's kubectl outputs

// readmeApplyBlocks returns the README's blocks that show `$ kubectl apply -f bar-service.yaml`,
// what follows the command, keyed "audit" (the audit overlay's answer) or "enforce".
func readmeApplyBlocks(t *testing.T, e *env) map[string]string {
	t.Helper()
	text, err := os.ReadFile(filepath.Join(e.repo, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := map[string]string{}
	for _, m := range regexp.MustCompile("(?s)\n( *)```[a-z]*\n(.*?)\n *```").FindAllStringSubmatch(string(text), -1) {
		indent, body := m[1], m[2]
		var lines []string
		for _, l := range strings.Split(body, "\n") {
			lines = append(lines, strings.TrimPrefix(l, indent))
		}
		if lines[0] != "$ kubectl apply -f bar-service.yaml" {
			continue
		}
		key := "enforce"
		if strings.Contains(body, "[audit]") {
			key = "audit"
		}
		blocks[key] = strings.Join(lines[1:], "\n") + "\n"
	}
	if len(blocks) != 2 {
		t.Fatalf("README.md: expected two blocks showing `$ kubectl apply -f bar-service.yaml` (audit and enforce), found %d", len(blocks))
	}
	return blocks
}

// expectOutput compares what kubectl printed with what was expected, byte for byte.
func expectOutput(t *testing.T, what, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s printed:\n%s\nexpected:\n%s", what, got, want)
	}
}

// errorLine is kubectl's "Error from server" line and what follows (after any warnings).
func errorLine(out string) string {
	if i := strings.Index(out, "Error from server"); i >= 0 {
		return out[i:]
	}
	return out
}

func expectPrefix(t *testing.T, what, got, prefix string) {
	t.Helper()
	if !strings.HasPrefix(got, prefix) {
		t.Errorf("%s printed:\n%s\nexpected it to start with:\n%s", what, got, prefix)
	}
}

// ---- scenarios

// The webhook reads the cluster as the manifests' ServiceAccount (a TokenRequest token): its
// /readyz turned 200 once every source was read, so the RBAC of manifests/base/rbac.yaml is
// enough; what the RBAC does not grant, the API server refuses to the same token.
func testWebhookRBAC(t *testing.T, e *env) {
	for _, resource := range []string{"istiofederations", "istiomulticlusters", "secret"} {
		if got := e.metric(`alliance_webhook_cluster_synced{resource="` + resource + `"}`); got != "1" {
			t.Errorf("alliance_webhook_cluster_synced{resource=%q} = %q, expected 1", resource, got)
		}
	}
	sa := "system:serviceaccount:" + webhookNamespace + ":" + webhookSA
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"auth", "can-i", "list", "istiofederations.deckhouse.io", "-A"}, "yes"},
		{[]string{"auth", "can-i", "watch", "istiomulticlusters.deckhouse.io", "-A"}, "yes"},
		{[]string{"auth", "can-i", "get", "secret/d8-cluster-configuration", "-n", "kube-system"}, "yes"},
		{[]string{"auth", "can-i", "watch", "secret/d8-cluster-configuration", "-n", "kube-system"}, "yes"},
		{[]string{"auth", "can-i", "get", "secret/other", "-n", "kube-system"}, "no"},
		{[]string{"auth", "can-i", "list", "secrets", "-n", "kube-system"}, "no"},
		{[]string{"auth", "can-i", "create", "istiofederations.deckhouse.io", "-A"}, "no"},
		// The background audit reads public Services and holds its Lease in its own namespace.
		{[]string{"auth", "can-i", "list", "services", "--all-namespaces"}, "yes"},
		{[]string{"auth", "can-i", "delete", "services", "--all-namespaces"}, "no"},
		{[]string{"auth", "can-i", "update", "leases/alliance-webhook-audit", "-n", webhookNamespace}, "yes"},
		{[]string{"auth", "can-i", "update", "leases/other", "-n", webhookNamespace}, "no"},
		{[]string{"auth", "can-i", "create", "leases", "-n", "kube-system"}, "no"},
	} {
		out, _ := e.kubectlAs(e.webhookKubecfg, "", c.args...)
		if strings.TrimSpace(out) != c.want {
			t.Errorf("as %s: kubectl %s: %q, expected %q", sa, strings.Join(c.args, " "), strings.TrimSpace(out), c.want)
		}
	}
	// Requests with the webhook's own kubeconfig, as its client would send them.
	out, err := e.kubectlAs(e.webhookKubecfg, "", "get", "secrets", "-n", "kube-system")
	if err == nil {
		t.Fatalf("the webhook's token lists Secrets in kube-system:\n%s", out)
	}
	expectOutput(t, "kubectl get secrets -n kube-system (the webhook's token)", out,
		`Error from server (Forbidden): secrets is forbidden: User "`+sa+`" cannot list resource "secrets" in API group "" in the namespace "kube-system"`+"\n")
	out, err = e.kubectlAs(e.webhookKubecfg, "", "apply", "-f", "federation-b.yaml")
	if err == nil || !strings.Contains(out, `cannot get resource "istiofederations" in API group "deckhouse.io"`) &&
		!strings.Contains(out, `cannot create resource "istiofederations" in API group "deckhouse.io"`) {
		t.Errorf("kubectl apply -f federation-b.yaml (the webhook's token): expected Forbidden, got %v:\n%s", err, out)
	}
	out, _ = e.kubectlAs(e.webhookKubecfg, "", "get", "istiofederations", "-o", "name")
	if strings.Contains(out, "Forbidden") {
		t.Errorf("the webhook's token cannot list IstioFederations:\n%s", out)
	}
}

// A public Service with an unnamed port: refused with the README's exact message, by a server
// dry run exactly as by the real apply, and not stored.
func testUnnamedPortDenied(t *testing.T, e *env) {
	want := readmeApplyBlocks(t, e)["enforce"]
	dry := e.mustFail(t, "apply", "--dry-run=server", "-f", "bar-service.yaml")
	expectOutput(t, "kubectl apply --dry-run=server -f bar-service.yaml", dry, want)
	out := e.mustFail(t, "apply", "-f", "bar-service.yaml")
	expectOutput(t, "kubectl apply -f bar-service.yaml (README, Install on a cluster, step 4)", out, want)
	e.notFound(t, "service", "bar", true)
	// With a second, named port the API server refuses the Service itself: Kubernetes requires a
	// name on every port of a Service with two or more, so the rule only ever meets one port.
	out = e.mustFail(t, "apply", "-f", "bar-two-ports.yaml")
	expectOutput(t, "kubectl apply -f bar-two-ports.yaml", out, "The Service \"bar\" is invalid: spec.ports[1].name: Required value\n")
}

// A warn rule admits the object, and kubectl prints the warning (the README quotes its start).
func testWarnRule(t *testing.T, e *env) {
	warning := `Warning: service-port-protocol: spec.ports[0].name: "web" has no Istio protocol prefix, so Istio treats it as TCP: rename it http-web or tcp-web, or set appProtocol` + "\n"
	readme, err := os.ReadFile(filepath.Join(e.repo, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("`(Warning: service-port-protocol: [^`]*), \\.\\.\\.`").FindStringSubmatch(string(readme))
	if m == nil || !strings.HasPrefix(warning, m[1]) {
		t.Errorf("README.md: the warn rule's example %q is not how this warning starts: %q", m, warning)
	}
	dry := e.must(t, "apply", "--dry-run=server", "-f", "web-service.yaml")
	expectOutput(t, "kubectl apply --dry-run=server -f web-service.yaml", dry, warning+"service/web created (server dry run)\n")
	e.notFound(t, "service", "web", true)
	out := e.must(t, "apply", "-f", "web-service.yaml")
	expectOutput(t, "kubectl apply -f web-service.yaml", out, warning+"service/web created\n")
	e.must(t, "get", "service", "web")
}

func testTrustDomainClusterLocal(t *testing.T, e *env) {
	out := errorLine(e.mustFail(t, "apply", "-f", "federation-cluster-local.yaml"))
	expectPrefix(t, "kubectl apply -f federation-cluster-local.yaml", out,
		`Error from server (Forbidden): error when creating "federation-cluster-local.yaml": admission webhook "istiofederations.alliance-webhook.io" denied the request: federation-trust-domain: spec.trustDomain: `)
	if !strings.Contains(out, "cluster.local") {
		t.Errorf("the denial does not name cluster.local:\n%s", out)
	}
	e.notFound(t, "istiofederation", "cluster-local", false)
}

// The second of two federations with overlapping pod subnets is refused: the webhook knows the
// first only through its own watch of the API server (an admission never changes what it knows).
func testOverlappingFederations(t *testing.T, e *env) {
	out := e.must(t, "apply", "-f", "federation-b.yaml")
	expectOutput(t, "kubectl apply -f federation-b.yaml", out, "istiofederation.deckhouse.io/cluster-b created\n")
	e.waitMetric(t, `alliance_webhook_cluster_members{kind="IstioFederation"}`, "1")
	dry := e.mustFail(t, "apply", "--dry-run=server", "-f", "federation-c.yaml")
	out = e.mustFail(t, "apply", "-f", "federation-c.yaml")
	expectOutput(t, "kubectl apply --dry-run=server -f federation-c.yaml (against the real apply)", dry, out)
	expectPrefix(t, "kubectl apply -f federation-c.yaml", errorLine(out),
		`Error from server (Forbidden): error when creating "federation-c.yaml": admission webhook "istiofederations.alliance-webhook.io" denied the request: subnet-overlap: `)
	for _, s := range []string{"10.112.128.0/17", "10.112.0.0/16", "cluster-b"} {
		if !strings.Contains(out, s) {
			t.Errorf("the denial does not name %s:\n%s", s, out)
		}
	}
	e.notFound(t, "istiofederation", "cluster-c", false)
}

// The local cluster comes from Secret kube-system/d8-cluster-configuration, created while the
// webhook runs: a federation with the local domain and a subnet inside the local pod subnet is
// admitted before, refused after.
func testLocalClusterFromSecret(t *testing.T, e *env) {
	out := e.must(t, "apply", "--dry-run=server", "-f", "federation-a-again.yaml")
	expectOutput(t, "kubectl apply --dry-run=server -f federation-a-again.yaml (no local cluster yet)", out,
		"istiofederation.deckhouse.io/cluster-a-again created (server dry run)\n")
	out = e.must(t, "create", "secret", "generic", "d8-cluster-configuration", "-n", "kube-system",
		"--from-file=cluster-configuration.yaml=cluster-configuration.yaml")
	expectOutput(t, "kubectl create secret", out, "secret/d8-cluster-configuration created\n")
	eventually(t, waitTimeout, "the webhook reads the local cluster from the Secret", func() (bool, string) {
		out, err := e.kubectl("apply", "--dry-run=server", "-f", "federation-a-again.yaml")
		return err != nil, out
	})
	out = errorLine(e.mustFail(t, "apply", "-f", "federation-a-again.yaml"))
	expectPrefix(t, "kubectl apply -f federation-a-again.yaml", out,
		`Error from server (Forbidden): error when creating "federation-a-again.yaml": admission webhook "istiofederations.alliance-webhook.io" denied the request: `)
	for _, s := range []string{"federation-trust-domain: spec.trustDomain: ", "cluster-a.local", "subnet-overlap: ", "10.111.0.0/16"} {
		if !strings.Contains(out, s) {
			t.Errorf("the denial does not name %q:\n%s", s, out)
		}
	}
	e.notFound(t, "istiofederation", "cluster-a-again", false)
}

// IstioMulticluster members share the local cluster domain (from the Secret): another is refused;
// the API server's CRD default (enableIngressGateway: true) is stored with the admitted one.
func testMulticlusterDomain(t *testing.T, e *env) {
	out := errorLine(e.mustFail(t, "apply", "-f", "multicluster-x.yaml"))
	expectPrefix(t, "kubectl apply -f multicluster-x.yaml", out,
		`Error from server (Forbidden): error when creating "multicluster-x.yaml": admission webhook "istiomulticlusters.alliance-webhook.io" denied the request: multicluster-cluster-domain: `)
	for _, s := range []string{"cluster-x.local", "cluster-a.local"} {
		if !strings.Contains(out, s) {
			t.Errorf("the denial does not name %s:\n%s", s, out)
		}
	}
	e.notFound(t, "istiomulticluster", "cluster-x", false)
	out = e.must(t, "apply", "-f", "multicluster-y.yaml")
	expectOutput(t, "kubectl apply -f multicluster-y.yaml", out, "istiomulticluster.deckhouse.io/cluster-y created\n")
	expectJSON(t, e.getJSON(t, "istiomulticluster", "cluster-y"), "spec.enableIngressGateway", true)
	e.waitMetric(t, `alliance_webhook_cluster_members{kind="IstioMulticluster"}`, "1")
}

// A ServiceEntry is stored with the defaults the mutating webhook filled in (before the CRD's
// schema and CEL rules checked it), and sending the stored object again changes nothing.
func testServiceEntryDefaults(t *testing.T, e *env) {
	out := e.must(t, "apply", "-f", "serviceentry-external.yaml")
	expectOutput(t, "kubectl apply -f serviceentry-external.yaml", out, "serviceentry.networking.istio.io/external-api created\n")
	stored := e.getJSON(t, "serviceentry", "external-api")
	expectJSON(t, stored, "spec", map[string]any{
		"hosts":      []any{"api.example.com"},
		"ports":      []any{map[string]any{"number": 443.0, "protocol": "HTTPS", "name": "https-443"}},
		"resolution": "NONE",
		"location":   "MESH_EXTERNAL",
	})
	expectAnnotation(t, stored, "alliance-webhook.io/defaulted", "spec.ports[0].name,spec.resolution,spec.location")

	// v1beta1, a host of member cluster-b (known from the watch), endpoints that Istio's CEL rule
	// refuses under the implicit resolution NONE.
	out = e.must(t, "apply", "-f", "serviceentry-member.yaml")
	expectOutput(t, "kubectl apply -f serviceentry-member.yaml", out, "serviceentry.networking.istio.io/backend created\n")
	member := e.getJSON(t, "serviceentry", "backend")
	expectJSON(t, member, "spec", map[string]any{
		"hosts":      []any{"backend.prod.svc.cluster-b.local"},
		"ports":      []any{map[string]any{"number": 8080.0, "name": "http-api", "protocol": "HTTP"}},
		"endpoints":  []any{map[string]any{"address": "10.112.3.4"}},
		"resolution": "STATIC",
		"location":   "MESH_INTERNAL",
	})
	expectAnnotation(t, member, "alliance-webhook.io/defaulted", "spec.ports[0].protocol,spec.resolution,spec.location")

	// Applying the same file again: a JSON merge patch replaces spec.ports by the file's list (a
	// custom resource has no strategic merge), so kubectl says "configured"; the webhook fills the
	// port name in again and the API server finds nothing changed: no new resourceVersion.
	out = e.must(t, "apply", "-f", "serviceentry-external.yaml")
	expectOutput(t, "kubectl apply -f serviceentry-external.yaml (again)", out, "serviceentry.networking.istio.io/external-api configured\n")
	expectUnchanged(t, e, stored, "kubectl apply -f serviceentry-external.yaml (again)")

	// The stored object itself, sent back as it is (a PUT, an UPDATE through both webhooks, under
	// the field manager that owns it): the mutating webhook sees it and changes nothing.
	file := filepath.Join(e.tmp, "external-api.stored.json")
	b, _ := json.Marshal(stored)
	writeFile(t, file, string(b), 0o600)
	calls := strings.Count(readFileString(t, e.webhookProc.log), "endpoint=mutate kind=ServiceEntry name=external-api namespace="+testNamespace+" operation=UPDATE")
	e.must(t, "replace", "--raw", "/apis/networking.istio.io/v1/namespaces/"+testNamespace+"/serviceentries/external-api?fieldManager=kubectl-client-side-apply", "-f", file)
	if again := strings.Count(readFileString(t, e.webhookProc.log), "endpoint=mutate kind=ServiceEntry name=external-api namespace="+testNamespace+" operation=UPDATE"); again != calls+1 {
		t.Errorf("the PUT of the stored ServiceEntry: %d mutating UPDATE calls logged, expected %d", again, calls+1)
	}
	expectUnchanged(t, e, stored, "PUT of the stored object")

	// Server-side apply checks the list's key (name) before any webhook runs: the port-name
	// default cannot help there (Istio's CRD keys spec.ports by name).
	out = e.mustFail(t, "apply", "--server-side", "-f", "serviceentry-external.yaml")
	expectPrefix(t, "kubectl apply --server-side -f serviceentry-external.yaml", out,
		`Error from server: failed to create typed patch object (`+testNamespace+`/external-api; networking.istio.io/v1, Kind=ServiceEntry): .spec.ports: element 0: associative list with keys has an element that omits key field "name"`)
}

// expectUnchanged asserts that the stored ServiceEntry external-api is still `before`.
func expectUnchanged(t *testing.T, e *env, before map[string]any, what string) {
	t.Helper()
	after := e.getJSON(t, "serviceentry", "external-api")
	for _, field := range []string{"metadata.resourceVersion", "metadata.generation", "spec", "metadata.annotations"} {
		if a, b := lookup(before, field), lookup(after, field); !reflect.DeepEqual(a, b) {
			t.Errorf("%s changed %s: %v -> %v", what, field, a, b)
		}
	}
}

func readFileString(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func expectJSON(t *testing.T, obj map[string]any, field string, want any) {
	t.Helper()
	if got := lookup(obj, field); !reflect.DeepEqual(got, want) {
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		t.Errorf("stored %s:\n%s\nexpected:\n%s", field, g, w)
	}
}

func expectAnnotation(t *testing.T, obj map[string]any, key, want string) {
	t.Helper()
	if got := lookup(obj, "metadata.annotations["+key+"]"); got != want {
		t.Errorf("stored annotation %s = %v, expected %q", key, got, want)
	}
}

// lookup follows a path of dotted keys, with [key] for a key that holds dots.
func lookup(obj map[string]any, path string) any {
	var cur any = obj
	for _, part := range regexp.MustCompile(`\[[^\]]*\]|[^.\[]+`).FindAllString(path, -1) {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[strings.Trim(part, "[]")]
	}
	return cur
}

// The audit overlay: its ConfigMap applied as rendered and mounted (copied to the webhook's
// --config, as the kubelet would), the bad Service is admitted with the README's warning, by a
// server dry run (storing nothing) and then for real; then back to the default overlay.
// resourceVersions of every object the manifests install, by kind/name.
func (e *env) resourceVersions(t *testing.T) map[string]string {
	t.Helper()
	out := e.must(t, "get", "-f", filepath.Join(e.tmp, "install.yaml"), "-f", filepath.Join(e.tmp, "registrations.yaml"),
		"-o", `jsonpath={range .items[*]}{.kind}/{.metadata.name} {.metadata.resourceVersion}{"\n"}{end}`)
	rvs := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if f := strings.Fields(line); len(f) == 2 {
			rvs[f[0]] = f[1]
		}
	}
	if len(rvs) < 10 {
		t.Fatalf("kubectl get of the installed manifests: %s", out)
	}
	return rvs
}

func testAuditOverlay(t *testing.T, e *env) {
	want := readmeApplyBlocks(t, e)["audit"]
	audit := e.render(t, "manifests/overlays/audit")
	before := e.resourceVersions(t)
	out := e.applyObjects(t, "audit.yaml", append(audit.objects, audit.registrations...))
	if !strings.Contains(out, "configmap/alliance-webhook-config configured\n") {
		t.Fatalf("applying the audit overlay: the ConfigMap is not configured:\n%s", out)
	}
	// kubectl says "configured" for the PodDisruptionBudget too (its patch is a no-op): what
	// counts is what the API server stored.
	after := e.resourceVersions(t)
	for obj, rv := range before {
		if changed := after[obj] != rv; changed != (obj == "ConfigMap/alliance-webhook-config") {
			t.Errorf("applying the audit overlay: %s resourceVersion %s -> %s", obj, rv, after[obj])
		}
	}
	e.syncConfigMap(t)
	e.waitMetric(t, `alliance_webhook_mode{mode="audit"}`, "1")

	dry := e.must(t, "apply", "--dry-run=server", "-f", "bar-service.yaml")
	expectOutput(t, "kubectl apply --dry-run=server -f bar-service.yaml (audit)", dry,
		strings.Replace(want, "service/bar created\n", "service/bar created (server dry run)\n", 1))
	e.notFound(t, "service", "bar", true)
	out = e.must(t, "apply", "-f", "bar-service.yaml")
	expectOutput(t, "kubectl apply -f bar-service.yaml (README, Install on a cluster, step 3)", out, want)
	e.must(t, "get", "service", "bar")

	all := append(e.render(t, "manifests").objects, e.render(t, "manifests").registrations...)
	out = e.applyObjects(t, "enforce.yaml", all)
	if !strings.Contains(out, "configmap/alliance-webhook-config configured\n") {
		t.Fatalf("applying the default overlay again: the ConfigMap is not configured:\n%s", out)
	}
	e.syncConfigMap(t)
	e.waitMetric(t, `alliance_webhook_mode{mode="enforce"}`, "1")
	out = e.must(t, "delete", "-f", "bar-service.yaml")
	expectOutput(t, "kubectl delete -f bar-service.yaml", out, "service \"bar\" deleted\n")
}

// A public Service with an unnamed port, made before the webhook was registered and now being
// deleted: its finalizer's controller removes the finalizer (an UPDATE of a deleting object,
// allowed by SPEC 4.1), and the API server then removes the Service.
func testDeletingServiceLosesFinalizer(t *testing.T, e *env) {
	obj := e.getJSON(t, "service", "old-bar")
	if lookup(obj, "metadata.deletionTimestamp") == nil {
		t.Fatalf("service old-bar is not being deleted: %v", obj["metadata"])
	}
	out, err := e.kubectl("patch", "service", "old-bar", "--type=json", "-p", `[{"op":"remove","path":"/metadata/finalizers"}]`)
	if err != nil {
		t.Fatalf("kubectl patch service old-bar (remove the finalizer of a deleting Service): %v\n%s", err, out)
	}
	expectOutput(t, "kubectl patch service old-bar", out, "service/old-bar patched\n")
	eventually(t, waitTimeout, "service old-bar gone", func() (bool, string) {
		out, err := e.kubectl("get", "service", "old-bar")
		return err != nil && strings.Contains(out, "(NotFound)"), out
	})
}

// A Service made before the webhook, with an unnamed port: labelling it is allowed with the
// violation it already had as an "[existing]" warning; giving the port another number introduces
// a violation and is denied; a second unnamed port never reaches the webhook.
func testExistingViolation(t *testing.T, e *env) {
	const finding = "service-port-names: spec.ports[0]: port %d/TCP has no name, and public federation services need a name on every port (add for example name: tcp-%d)"
	out := e.must(t, "label", "service", "legacy", "team=payments")
	expectOutput(t, "kubectl label service legacy team=payments", out,
		"Warning: [existing] "+fmt.Sprintf(finding, 9090, 9090)+"\nservice/legacy labeled\n")
	out = e.mustFail(t, "patch", "service", "legacy", "--type=json", "-p", `[{"op":"replace","path":"/spec/ports/0/port","value":9091}]`)
	expectOutput(t, "kubectl patch service legacy (port 9091)", out,
		`Error from server (Forbidden): admission webhook "services.alliance-webhook.io" denied the request: `+fmt.Sprintf(finding, 9091, 9091)+"\n")
	out = e.mustFail(t, "apply", "-f", "legacy-two-ports.yaml")
	expectPrefix(t, "kubectl apply -f legacy-two-ports.yaml", out, `The Service "legacy" is invalid: `)
	if strings.Contains(out, "alliance-webhook") {
		t.Errorf("a second unnamed port reached the webhook:\n%s", out)
	}
	if got := lookup(e.getJSON(t, "service", "legacy"), "spec.ports"); len(got.([]any)) != 1 {
		t.Errorf("service legacy: ports %v", got)
	}
}

// The certificate is rotated on disk (a new one from the same CA, by certs/make-certs.sh, moved
// into place key first, as make-certs.sh itself does) while kubectl applies go on: not one fails,
// and new handshakes get the new certificate, which the API server verifies with the caBundle.
func testCertificateRotation(t *testing.T, e *env) {
	var (
		mu       sync.Mutex
		applies  int
		failures []string
		stop     = make(chan struct{})
		done     = make(chan struct{})
	)
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			obj := fmt.Sprintf(`apiVersion: v1
kind: Service
metadata:
  name: rotate
  labels:
    federation.istio.deckhouse.io/public-service: ""
  annotations:
    cluster-test.alliance-webhook.io/round: "%d"
spec:
  ports:
    - name: http
      port: 80
`, i)
			out, err := e.kubectlAs(e.admin, obj, "apply", "-f", "-")
			mu.Lock()
			applies++
			if err != nil {
				failures = append(failures, out)
			}
			mu.Unlock()
		}
	}()
	var once sync.Once
	stopApplies := func() { once.Do(func() { close(stop) }); <-done }
	defer stopApplies() // also when a check below fails
	count := func() int { mu.Lock(); defer mu.Unlock(); return applies }
	waitApplies := func(n int) {
		target := count() + n
		eventually(t, waitTimeout, fmt.Sprintf("%d more applies", n), func() (bool, string) { return count() >= target, fmt.Sprint(count()) })
	}

	waitApplies(5)
	oldSerial := servedSerial(t, e)
	reloads := e.metric(`alliance_webhook_reloads_total{what="certificate",result="success"}`)
	newSerial := rotateCertificate(t, e)
	if newSerial == oldSerial {
		t.Fatalf("the rotated certificate has the old serial %s", oldSerial)
	}
	eventually(t, waitTimeout, "the webhook reloads its certificate", func() (bool, string) {
		got := e.metric(`alliance_webhook_reloads_total{what="certificate",result="success"}`)
		return got != reloads && got != "", got
	})
	if got := servedSerial(t, e); got != newSerial {
		t.Errorf("a new handshake gets serial %s, expected the rotated %s", got, newSerial)
	}
	waitApplies(5)
	stopApplies()
	// The API server's connections from before the rotation close after 10 s idle; the next
	// applies handshake anew and meet the new certificate.
	time.Sleep(11 * time.Second)
	for i := 0; i < 3; i++ {
		out := e.must(t, "apply", "-f", "late-service.yaml", "--dry-run=server")
		expectOutput(t, "kubectl apply --dry-run=server -f late-service.yaml (after the rotation)", out, "service/late created (server dry run)\n")
	}
	mu.Lock()
	defer mu.Unlock()
	t.Logf("%d applies through the rotation, %d failed", applies, len(failures))
	if len(failures) > 0 {
		t.Errorf("%d of %d kubectl applies failed during the rotation; first:\n%s", len(failures), applies, failures[0])
	}
}

// servedSerial makes a TLS handshake with the webhook, verifying it with the CA of make-certs.sh.
func servedSerial(t *testing.T, e *env) string {
	t.Helper()
	caPEM, err := os.ReadFile(filepath.Join(e.webhookCerts, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	conn, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", e.webhookPort), &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatalf("TLS handshake with the webhook: %v", err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.String()
}

func rotateCertificate(t *testing.T, e *env) string {
	t.Helper()
	next := filepath.Join(e.tmp, "webhook-certs-next")
	for _, f := range []string{"ca.crt", "ca.key"} {
		b, err := os.ReadFile(filepath.Join(e.webhookCerts, f))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(next, f), string(b), 0o600)
	}
	out, err := run(e.repo, nil, "", filepath.Join(e.repo, "certs", "make-certs.sh"), "--out", next, "--namespace", webhookNamespace)
	if err != nil {
		t.Fatalf("certs/make-certs.sh: %v\n%s", err, out)
	}
	if strings.Contains(out, "made a new CA") {
		t.Fatalf("certs/make-certs.sh made a new CA instead of using the one in %s:\n%s", next, out)
	}
	for _, f := range []string{"tls.key", "tls.crt"} {
		if err := os.Rename(filepath.Join(next, f), filepath.Join(e.webhookCerts, f)); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(filepath.Join(e.webhookCerts, "tls.crt"))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert.SerialNumber.String()
}

// With the webhook stopped, the API server applies each webhook's failurePolicy: the Services
// webhook fails closed (Fail), the ServiceEntry webhooks open (Ignore). Started again, it is
// called again.
func testWebhookStopped(t *testing.T, e *env) {
	e.webhookProc.stop(30 * time.Second)
	out := e.mustFail(t, "apply", "-f", "late-service.yaml")
	url := fmt.Sprintf("https://127.0.0.1:%d/validate?timeout=5s", e.webhookPort)
	expectOutput(t, "kubectl apply -f late-service.yaml (webhook stopped)", out,
		`Error from server (InternalError): error when creating "late-service.yaml": Internal error occurred: failed calling webhook "services.alliance-webhook.io": failed to call webhook: Post "`+url+`": dial tcp 127.0.0.1:`+fmt.Sprint(e.webhookPort)+": connect: connection refused\n")
	e.notFound(t, "service", "late", true)

	out, err := e.kubectl("apply", "-f", "serviceentry-complete.yaml")
	if err != nil {
		t.Errorf("kubectl apply -f serviceentry-complete.yaml with the webhook stopped (failurePolicy Ignore expected): %v\n%s", err, out)
	} else {
		expectOutput(t, "kubectl apply -f serviceentry-complete.yaml (webhook stopped)", out, "serviceentry.networking.istio.io/complete created\n")
		if got := lookup(e.getJSON(t, "serviceentry", "complete"), "metadata.annotations[alliance-webhook.io/defaulted]"); got != nil {
			t.Errorf("serviceentry complete: defaulted %v without a webhook", got)
		}
	}

	e.startWebhook(t)
	eventually(t, waitTimeout, "the API server calls the restarted webhook", func() (bool, string) {
		out, err := e.kubectl("apply", "-f", "late-service.yaml")
		return err == nil, out
	})
	e.must(t, "get", "service", "late")
}
