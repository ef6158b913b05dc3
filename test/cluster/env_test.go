package cluster

// The cluster the scenarios run against: etcd, a kube-apiserver (RBAC, a service-account issuer,
// a static admin token; no kubelet, scheduler or controller-manager), the CRDs of
// crds/, the manifests of manifests/ as `kubectl kustomize` renders them, and the webhook binary
// running locally, registered by those manifests with each clientConfig pointed at it.

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"
)

const (
	testNamespace    = "alliance-test"    // where the scenarios' namespaced objects go
	webhookNamespace = "alliance-webhook" // the manifests' namespace
	webhookSA        = "alliance-webhook" // the manifests' ServiceAccount
)

type env struct {
	t        *testing.T
	repo     string // the repository's root
	bin      string // kube-apiserver, kubectl, etcd (build/cluster)
	webhook  string // the alliance-webhook binary
	tmp      string // every file the test makes
	testdata string // the scenarios' objects; kubectl runs here, so errors name bare file names

	apiServer string // https://127.0.0.1:PORT
	apiCA     string // the CA file that verifies the API server
	admin     string // the admin's kubeconfig

	webhookPort    int    // TLS: what the API server calls
	metricsPort    int    // plain HTTP: /readyz and /metrics
	webhookCerts   string // the folder certs/make-certs.sh filled; the webhook serves from it
	webhookConfig  string // the webhook's --config: the ConfigMap's config.yaml, as a kubelet mounts it
	webhookKubecfg string // the webhook's --kubeconfig: its ServiceAccount's token

	etcdProc, apiProc, webhookProc *proc
}

func newEnv(t *testing.T) *env {
	here, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, repo: filepath.Clean(filepath.Join(here, "..", "..")), testdata: filepath.Join(here, "testdata")}
	e.bin = envOr("CLUSTER_BIN", filepath.Join(e.repo, "build", "cluster"))
	e.webhook = envOr("ALLIANCE_WEBHOOK", filepath.Join(e.repo, "build", "alliance-webhook"))
	for _, p := range []string{filepath.Join(e.bin, "kube-apiserver"), filepath.Join(e.bin, "kubectl"), filepath.Join(e.bin, "etcd"), e.webhook} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s: %v (make test-cluster builds it)", p, err)
		}
	}
	e.tmp = t.TempDir()
	t.Cleanup(e.stopAll)
	return e
}

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

// stopAll stops everything started, the webhook first; when the test failed it prints the
// end of each log.
func (e *env) stopAll() {
	for _, p := range []*proc{e.webhookProc, e.apiProc, e.etcdProc} {
		if p != nil {
			p.stop(15 * time.Second)
		}
	}
	if e.t.Failed() {
		for _, p := range []*proc{e.webhookProc, e.apiProc, e.etcdProc} {
			if p != nil {
				e.t.Logf("---- %s log (%s), last lines:\n%s", p.name, p.log, tailFile(p.log, 60))
			}
		}
	}
}

// ---- kubectl, as the admin (or with another kubeconfig), in testdata/

func (e *env) kubectlAs(kubeconfig, stdin string, args ...string) (string, error) {
	// --cache-dir: kubectl's discovery cache goes with the rest, not to ~/.kube.
	return run(e.testdata, []string{"KUBECONFIG=" + kubeconfig}, stdin,
		append([]string{filepath.Join(e.bin, "kubectl"), "--request-timeout=30s", "--cache-dir=" + filepath.Join(e.tmp, "kube-cache")}, args...)...)
}

func (e *env) kubectl(args ...string) (string, error) { return e.kubectlAs(e.admin, "", args...) }

// must runs kubectl and fails the test when it fails.
func (e *env) must(t *testing.T, args ...string) string {
	t.Helper()
	out, err := e.kubectl(args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// mustFail runs kubectl and fails the test when it succeeds.
func (e *env) mustFail(t *testing.T, args ...string) string {
	t.Helper()
	out, err := e.kubectl(args...)
	if err == nil {
		t.Fatalf("kubectl %s succeeded, expected a failure:\n%s", strings.Join(args, " "), out)
	}
	return out
}

// notFound asserts that an object is not stored.
func (e *env) notFound(t *testing.T, resource, name string, namespaced bool) {
	t.Helper()
	args := []string{"get", resource, name}
	if !namespaced {
		args = append(args, "--namespace=")
	}
	out := e.mustFail(t, args...)
	if !strings.Contains(out, "(NotFound)") {
		t.Fatalf("kubectl get %s %s: expected NotFound, got:\n%s", resource, name, out)
	}
}

func (e *env) getJSON(t *testing.T, args ...string) map[string]any {
	t.Helper()
	out := e.must(t, append([]string{"get", "-o", "json"}, args...)...)
	var obj map[string]any
	if err := json.Unmarshal([]byte(out), &obj); err != nil {
		t.Fatalf("kubectl get %v: %v\n%s", args, err, out)
	}
	return obj
}

// ---- start-up

func (e *env) startEtcd(t *testing.T) string {
	client, peer := freePort(t), freePort(t)
	e.etcdProc = startProc(t, "etcd", filepath.Join(e.tmp, "etcd.log"), filepath.Join(e.bin, "etcd"),
		"--data-dir", filepath.Join(e.tmp, "etcd"), "--client-port", fmt.Sprint(client), "--peer-port", fmt.Sprint(peer))
	url := fmt.Sprintf("http://127.0.0.1:%d", client)
	eventually(t, waitTimeout, "etcd healthy", func() (bool, string) {
		if e.etcdProc.exited() {
			t.Fatalf("etcd exited: %v\n%s", e.etcdProc.err, tailFile(e.etcdProc.log, 40))
		}
		code, body, err := httpGet(url + "/health")
		return code == 200 && strings.Contains(body, `"health":"true"`), fmt.Sprint(code, body, err)
	})
	return url
}

func (e *env) startAPIServer(t *testing.T, etcdURL string) {
	pki := filepath.Join(e.tmp, "pki")
	apiServerCerts(t, pki)
	token := randomToken(t)
	writeFile(t, filepath.Join(pki, "tokens.csv"), token+",cluster-admin,cluster-admin-uid,system:masters\n", 0o600)
	port := freePort(t)
	e.apiServer = fmt.Sprintf("https://127.0.0.1:%d", port)
	e.apiCA = filepath.Join(pki, "ca.crt")
	e.admin = filepath.Join(e.tmp, "admin.kubeconfig")
	writeFile(t, e.admin, kubeconfig(e.apiServer, e.apiCA, "cluster-admin", token, testNamespace), 0o600)

	e.apiProc = startProc(t, "kube-apiserver", filepath.Join(e.tmp, "kube-apiserver.log"),
		filepath.Join(e.bin, "kube-apiserver"),
		"--etcd-servers="+etcdURL,
		"--bind-address=127.0.0.1",
		"--advertise-address=127.0.0.1",
		fmt.Sprintf("--secure-port=%d", port),
		"--cert-dir="+filepath.Join(e.tmp, "apiserver-certs"),
		"--tls-cert-file="+filepath.Join(pki, "apiserver.crt"),
		"--tls-private-key-file="+filepath.Join(pki, "apiserver.key"),
		"--authorization-mode=RBAC",
		"--token-auth-file="+filepath.Join(pki, "tokens.csv"),
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+filepath.Join(pki, "sa.pub"),
		"--service-account-signing-key-file="+filepath.Join(pki, "sa.key"),
		"--service-cluster-ip-range=10.96.0.0/16",
		"--allow-privileged=false",
		"--v=1",
	)
	eventually(t, 90*time.Second, "kube-apiserver ready", func() (bool, string) {
		if e.apiProc.exited() {
			t.Fatalf("kube-apiserver exited: %v\n%s", e.apiProc.err, tailFile(e.apiProc.log, 40))
		}
		out, err := e.kubectl("get", "--raw=/readyz")
		return err == nil && strings.TrimSpace(out) == "ok", out
	})
	// The API server makes kube-system and default itself, after /readyz at times.
	eventually(t, waitTimeout, "namespace kube-system", func() (bool, string) {
		out, err := e.kubectl("get", "namespace", "kube-system", "-o", "name")
		return err == nil, out
	})
	e.must(t, "create", "namespace", testNamespace)
}

func randomToken(t *testing.T) string {
	b := make([]byte, 24)
	if _, err := readRandom(b); err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func (e *env) installCRDs(t *testing.T) {
	out := e.must(t, "apply", "-f", filepath.Join(e.repo, "test", "cluster", "crds"))
	for _, crd := range []string{"istiofederations.deckhouse.io", "istiomulticlusters.deckhouse.io", "serviceentries.networking.istio.io"} {
		if !strings.Contains(out, "customresourcedefinition.apiextensions.k8s.io/"+crd+" created") {
			t.Fatalf("CRD %s not created:\n%s", crd, out)
		}
	}
	e.must(t, "wait", "--for=condition=Established", "crd", "--all", "--timeout=60s")
}

// ---- the manifests

// rendered is what `kubectl kustomize DIR` makes of a kustomization, split into the webhook
// registrations and everything else, with each webhook's clientConfig changed to this test's
// local process: url https://127.0.0.1:PORT/PATH (the path the manifests' service reference
// names) and caBundle the test CA. Nothing else is changed.
type rendered struct {
	objects       []map[string]any
	registrations []map[string]any
}

func (e *env) render(t *testing.T, kustomization string) rendered {
	t.Helper()
	out := e.must(t, "kustomize", filepath.Join(e.repo, kustomization))
	caPEM, err := os.ReadFile(filepath.Join(e.webhookCerts, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	var r rendered
	for _, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(out, -1) {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		var obj map[string]any
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			t.Fatalf("kubectl kustomize %s: %v\n%s", kustomization, err, doc)
		}
		kind, _ := obj["kind"].(string)
		if kind != "ValidatingWebhookConfiguration" && kind != "MutatingWebhookConfiguration" {
			r.objects = append(r.objects, obj)
			continue
		}
		webhooks, _ := obj["webhooks"].([]any)
		for _, w := range webhooks {
			hook := w.(map[string]any)
			cc, _ := hook["clientConfig"].(map[string]any)
			svc, _ := cc["service"].(map[string]any)
			path, _ := svc["path"].(string)
			if path == "" {
				t.Fatalf("%s webhook %v: no clientConfig.service.path in the manifests", kind, hook["name"])
			}
			hook["clientConfig"] = map[string]any{
				"url":      fmt.Sprintf("https://127.0.0.1:%d%s", e.webhookPort, path),
				"caBundle": base64.StdEncoding.EncodeToString(caPEM),
			}
		}
		r.registrations = append(r.registrations, obj)
	}
	if len(r.registrations) != 2 {
		t.Fatalf("kubectl kustomize %s: expected a validating and a mutating webhook configuration, got %d", kustomization, len(r.registrations))
	}
	return r
}

// applyObjects writes objects to a file and applies it (so the API server validates each).
func (e *env) applyObjects(t *testing.T, name string, objects []map[string]any) string {
	t.Helper()
	var docs []string
	for _, o := range objects {
		b, err := yaml.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, string(b))
	}
	file := filepath.Join(e.tmp, name)
	writeFile(t, file, strings.Join(docs, "---\n"), 0o600)
	return e.must(t, "apply", "-f", file)
}

// ---- the webhook

func (e *env) makeWebhookCerts(t *testing.T) {
	e.webhookCerts = filepath.Join(e.tmp, "webhook-certs")
	out, err := run(e.repo, nil, "", filepath.Join(e.repo, "certs", "make-certs.sh"),
		"--out", e.webhookCerts, "--namespace", webhookNamespace)
	if err != nil {
		t.Fatalf("certs/make-certs.sh: %v\n%s", err, out)
	}
}

// webhookKubeconfig asks the TokenRequest API for a token of the manifests' ServiceAccount and
// writes the webhook's kubeconfig with it: the webhook reads the cluster as it would in a pod.
func (e *env) writeWebhookKubeconfig(t *testing.T) {
	token := strings.TrimSpace(e.must(t, "create", "token", webhookSA, "-n", webhookNamespace, "--duration=1h"))
	if strings.Count(token, ".") != 2 {
		t.Fatalf("kubectl create token: not a JWT: %q", token)
	}
	e.webhookKubecfg = filepath.Join(e.tmp, "webhook", "kubeconfig")
	writeFile(t, e.webhookKubecfg, kubeconfig(e.apiServer, e.apiCA, "system:serviceaccount:"+webhookNamespace+":"+webhookSA, token, webhookNamespace), 0o600)
}

// syncConfigMap copies the stored ConfigMap's config.yaml to the webhook's --config, as the
// kubelet updates a mounted ConfigMap (an atomic swap).
func (e *env) syncConfigMap(t *testing.T) {
	t.Helper()
	out := e.must(t, "get", "configmap", "alliance-webhook-config", "-n", webhookNamespace, "-o", `jsonpath={.data.config\.yaml}`)
	if !strings.Contains(out, "mode:") {
		t.Fatalf("ConfigMap alliance-webhook-config: no config.yaml:\n%s", out)
	}
	if e.webhookConfig == "" {
		e.webhookConfig = filepath.Join(e.tmp, "webhook", "config.yaml")
	}
	writeAtomically(t, e.webhookConfig, out)
}

func (e *env) startWebhook(t *testing.T) {
	t.Helper()
	e.webhookProc = startProc(t, "alliance-webhook", filepath.Join(e.tmp, fmt.Sprintf("alliance-webhook.%d.log", time.Now().UnixNano())),
		e.webhook, "serve",
		"--config", e.webhookConfig,
		"--listen", fmt.Sprintf("127.0.0.1:%d", e.webhookPort),
		"--tls-cert", filepath.Join(e.webhookCerts, "tls.crt"),
		"--tls-key", filepath.Join(e.webhookCerts, "tls.key"),
		"--metrics-listen", fmt.Sprintf("127.0.0.1:%d", e.metricsPort),
		"--kubeconfig", e.webhookKubecfg,
		"--log-format", "text")
	eventually(t, waitTimeout, "webhook /readyz (cluster state synced through its ServiceAccount)", func() (bool, string) {
		if e.webhookProc.exited() {
			t.Fatalf("alliance-webhook exited: %v\n%s", e.webhookProc.err, tailFile(e.webhookProc.log, 40))
		}
		code, body, err := httpGet(fmt.Sprintf("http://127.0.0.1:%d/readyz", e.metricsPort))
		return code == 200, fmt.Sprint(code, " ", body, err)
	})
}

// metric returns the value of one sample of the webhook's /metrics ("" when absent).
func (e *env) metric(sample string) string {
	_, body, err := httpGet(fmt.Sprintf("http://127.0.0.1:%d/metrics", e.metricsPort))
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, sample+" ") {
			return strings.TrimPrefix(line, sample+" ")
		}
	}
	return ""
}

func (e *env) waitMetric(t *testing.T, sample, value string) {
	t.Helper()
	eventually(t, waitTimeout, "webhook metric "+sample+" = "+value, func() (bool, string) {
		got := e.metric(sample)
		return got == value, got
	})
}
