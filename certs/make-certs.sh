#!/usr/bin/env bash
# Makes the certificates alliance-webhook serves with, for development (`make run`) and for a
# cluster (`make deploy`): a private CA, a server certificate for the webhook Service's DNS names
# (and localhost), and a client certificate for testing mutual TLS. Optionally writes a kustomize
# overlay that installs the manifests with the TLS Secret and the CA bundle injected into every
# webhook of both webhook configurations.
#
# Idempotent: an output folder that already holds a valid, unexpired set for the same names is
# left untouched (so the CA bundle stays stable across runs); --force makes everything anew.
# Only openssl (3.x) and coreutils are needed.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: certs/make-certs.sh --out DIR --namespace NS [--service NAME] [--days N] [--force]
                           [--kustomize DIR2 [--kustomize-base DIR3] [--image IMAGE]]

  --out DIR            where ca.crt, ca.key, tls.crt, tls.key, client.crt, client.key go
  --namespace NS       namespace of the webhook Service (for the certificate's DNS names)
  --service NAME       name of the webhook Service (default: alliance-webhook)
  --days N             validity of the server and client certificates in days (default: 365);
                       the CA is valid for max(2N, 3650) days
  --force              make a new CA and new certificates even if the current ones are valid
  --kustomize DIR2     also write a kustomize overlay in DIR2 (kustomization.yaml, the TLS
                       Secret and the CA bundle) to install with `kubectl apply -k DIR2`
  --kustomize-base D   the kustomization the overlay builds on (default: manifests/ of this
                       repository; e.g. manifests/overlays/audit)
  --image IMAGE        the overlay runs this image (registry/name:tag or name@sha256:...)
                       instead of the manifests' alliance-webhook:<version>

Files are written with umask 077; keys are mode 0600. Keep DIR and DIR2 out of version control.
EOF
}

die() {
  echo "make-certs: $*" >&2
  exit 1
}
note() { echo "make-certs: $*" >&2; }

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$script_dir/.." && pwd)

out="" namespace="" service="alliance-webhook" days=365 force=0 kdir="" kbase="$repo_root/manifests"
image=""
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=${2:?--out needs a folder}; shift 2 ;;
    --namespace) namespace=${2:?--namespace needs a name}; shift 2 ;;
    --service) service=${2:?--service needs a name}; shift 2 ;;
    --days) days=${2:?--days needs a number}; shift 2 ;;
    --force) force=1; shift ;;
    --kustomize) kdir=${2:?--kustomize needs a folder}; shift 2 ;;
    --kustomize-base) kbase=${2:?--kustomize-base needs a folder}; shift 2 ;;
    --image) image=${2:?--image needs an image reference}; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument '$1'" ;;
  esac
done
[ -n "$out" ] || { usage >&2; die "--out is required"; }
[ -n "$namespace" ] || { usage >&2; die "--namespace is required"; }
[[ "$days" =~ ^[1-9][0-9]*$ ]] || die "--days $days: expected a positive whole number of days"
dns_label='^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'
[[ "$namespace" =~ $dns_label ]] || die "--namespace $namespace: not a valid namespace name"
[[ "$service" =~ $dns_label ]] || die "--service $service: not a valid service name"
command -v openssl >/dev/null || die "openssl not found; run: apt-get install -y openssl"

ca_days=$((2 * days > 3650 ? 2 * days : 3650))
# A certificate is renewed when it expires within this many seconds: a week, or half its life
# when that is shorter (so a --days 1 set made now is not renewed on the next run).
renew_before=$((days * 86400 / 2 < 7 * 86400 ? days * 86400 / 2 : 7 * 86400))

dns_names=(localhost "$service.$namespace.svc" "$service.$namespace.svc.cluster.local" "$service"
  "$service.$namespace")
ip_names=(127.0.0.1)
san_list() {
  local s="" n
  for n in "${dns_names[@]}"; do s+="${s:+,}DNS:$n"; done
  for n in "${ip_names[@]}"; do s+="${s:+,}IP:$n"; done
  echo "$s"
}
# The SANs of a certificate as a sorted, one-per-line list ("DNS:x", "IP:y").
cert_sans() {
  openssl x509 -noout -ext subjectAltName -in "$1" 2>/dev/null | tail -n +2 | tr ',' '\n' |
    sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' -e 's/^IP Address:/IP:/' | grep -v '^$' | sort
}
wanted_sans() { san_list | tr ',' '\n' | sort; }

same_public_key() {  # cert key
  [ "$(openssl x509 -noout -pubkey -in "$1" 2>/dev/null)" = \
    "$(openssl pkey -pubout -in "$2" 2>/dev/null)" ] && [ -n "$(openssl pkey -pubout -in "$2" 2>/dev/null)" ]
}

# True when DIR's CA is usable: a CA certificate with its key, valid for SECONDS more.
ca_valid() {  # dir seconds
  local d=$1 seconds=$2
  [ -s "$d/ca.crt" ] && [ -s "$d/ca.key" ] || return 1
  same_public_key "$d/ca.crt" "$d/ca.key" || return 1
  openssl x509 -noout -ext basicConstraints -in "$d/ca.crt" 2>/dev/null | grep -q 'CA:TRUE' || return 1
  openssl x509 -noout -checkend "$seconds" -in "$d/ca.crt" >/dev/null 2>&1
}
leaf_valid() {  # dir name purpose
  local d=$1 name=$2 purpose=$3
  [ -s "$d/$name.crt" ] && [ -s "$d/$name.key" ] || return 1
  same_public_key "$d/$name.crt" "$d/$name.key" || return 1
  openssl verify -CAfile "$d/ca.crt" -purpose "$purpose" "$d/$name.crt" >/dev/null 2>&1 || return 1
  openssl x509 -noout -checkend "$renew_before" -in "$d/$name.crt" >/dev/null 2>&1
}
server_valid() {
  leaf_valid "$1" tls sslserver || return 1
  [ "$(cert_sans "$1/tls.crt")" = "$(wanted_sans)" ]
}

new_key() {  # file: an EC P-256 key (PKCS#8 PEM), mode 0600
  (umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null) ||
    die "openssl could not make a key in $1"
  chmod 0600 "$1"
}
serial() { echo "0x$(openssl rand -hex 16)"; }

# A minimal openssl configuration, so the system's openssl.cnf adds nothing of its own.
write_openssl_config() {
  cat >"$1" <<EOF
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca_ext]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = $(san_list)
[client_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
}

make_ca() {  # dir
  new_key "$1/ca.key"
  openssl req -x509 -new -config "$1/openssl.cnf" -key "$1/ca.key" -subj "/CN=alliance-webhook-ca" \
    -extensions ca_ext -days "$ca_days" -set_serial "$(serial)" -sha256 -out "$1/ca.crt" 2>"$1/err" ||
    die "openssl could not make the CA: $(cat "$1/err")"
}
make_leaf() {  # dir name cn extensions ca-dir
  local d=$1 name=$2 cn=$3 ext=$4 cadir=$5
  new_key "$d/$name.key"
  openssl req -new -config "$d/openssl.cnf" -key "$d/$name.key" -subj "/CN=$cn" -out "$d/$name.csr" \
    2>"$d/err" || die "openssl could not make the $name request: $(cat "$d/err")"
  openssl x509 -req -in "$d/$name.csr" -CA "$cadir/ca.crt" -CAkey "$cadir/ca.key" \
    -set_serial "$(serial)" -days "$days" -sha256 -extfile "$d/openssl.cnf" -extensions "$ext" \
    -out "$d/$name.crt" 2>"$d/err" || die "openssl could not sign the $name certificate: $(cat "$d/err")"
  rm -f "$d/$name.csr"
}

mkdir -p "$out" || die "--out $out: cannot create the folder"
out=$(cd "$out" && pwd)

if [ "$force" = 0 ] && ca_valid "$out" "$renew_before" && server_valid "$out" && leaf_valid "$out" client sslclient; then
  note "certificates in $out are valid for $service.$namespace.svc; nothing to do (--force renews)"
else
  # Build the new set in a scratch folder beside the output, then move each file into place
  # (rename is atomic, so a server watching the files never reads half a file).
  work=$(mktemp -d "$out/.make-certs.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  write_openssl_config "$work/openssl.cnf"
  cadir=$out
  # The CA is kept (and with it the caBundle installed in clusters) if it outlives the new leaves.
  if [ "$force" = 1 ] || ! ca_valid "$out" $((days * 86400)); then
    make_ca "$work"
    cadir=$work
    note "made a new CA in $out/ca.crt (valid $ca_days days)"
  fi
  server_cn="$service.$namespace.svc"
  [ ${#server_cn} -le 64 ] || server_cn=$service  # a CN holds at most 64 characters
  make_leaf "$work" tls "$server_cn" server_ext "$cadir"
  make_leaf "$work" client kube-apiserver client_ext "$cadir"
  chmod 0644 "$work"/*.crt
  files=(tls.crt tls.key client.crt client.key)
  [ "$cadir" = "$work" ] && files=(ca.crt ca.key "${files[@]}")
  # Keys first, then certificates: a watcher reacting to tls.crt sees the matching tls.key.
  for f in ca.key ca.crt tls.key tls.crt client.key client.crt; do
    if [[ " ${files[*]} " == *" $f "* ]]; then mv -f "$work/$f" "$out/$f"; fi
  done
  note "made the server certificate $out/tls.crt for $(san_list) (valid $days days)"
  note "made the client certificate $out/client.crt (CN kube-apiserver, clientAuth)"
fi
chmod 0600 "$out"/*.key

[ -n "$kdir" ] || exit 0

# The kustomize overlay: kustomize refuses files outside an overlay's root, but it accepts another
# kustomization folder as a resource, so the overlay names the base by a relative path and holds
# its own copies of the Secret and the CA bundle.
[ -f "$kbase/kustomization.yaml" ] || die "--kustomize-base $kbase: no kustomization.yaml there"
mkdir -p "$kdir" || die "--kustomize $kdir: cannot create the folder"
kdir=$(cd "$kdir" && pwd)
kbase=$(cd "$kbase" && pwd)
base_rel=$(realpath --relative-to="$kdir" "$kbase")
b64() { base64 -w0 <"$1"; }

write_atomically() {  # file mode; content on stdin
  local tmp
  tmp=$(mktemp "$1.XXXXXX")
  cat >"$tmp"
  chmod "$2" "$tmp"
  mv -f "$tmp" "$1"
}

write_atomically "$kdir/secret.yaml" 0600 <<EOF
# Generated by certs/make-certs.sh: the webhook's serving certificate. Holds a private key:
# never commit this file.
apiVersion: v1
kind: Secret
metadata:
  name: alliance-webhook-tls
  namespace: $namespace
type: kubernetes.io/tls
data:
  ca.crt: $(b64 "$out/ca.crt")
  tls.crt: $(b64 "$out/tls.crt")
  tls.key: $(b64 "$out/tls.key")
EOF

write_atomically "$kdir/ca-bundle.yaml" 0644 <<EOF
# Generated by certs/make-certs.sh: the CA bundle (base64 of ca.crt) that the replacements in
# kustomization.yaml copy into every webhook. local-config: kustomize uses it, never emits it.
apiVersion: v1
kind: ConfigMap
metadata:
  name: alliance-webhook-ca-bundle
  annotations:
    config.kubernetes.io/local-config: "true"
data:
  caBundle: $(b64 "$out/ca.crt")
EOF

# Another namespace than the manifests': kustomize's namespace transformer moves the namespaced
# objects and renames the Namespace; the webhooks' service reference and namespaceSelector, and
# the service account named in the role bindings, follow the Service's new namespace. The Role and
# RoleBinding for the ClusterConfiguration Secret go back to the Secret's namespace (their
# alliance-webhook.io/namespace annotation).
ns_lines="" ns_replacements=""
if [ "$namespace" != alliance-webhook ]; then
  ns_lines="namespace: $namespace"
  ns_replacements=$(
    cat <<'EOF'
  - source:
      kind: Service
      name: alliance-webhook
      fieldPath: metadata.namespace
    targets:
      - select:
          kind: ValidatingWebhookConfiguration
        fieldPaths: &webhook-namespace-paths
          - webhooks.*.clientConfig.service.namespace
          - webhooks.*.namespaceSelector.matchExpressions.[key=kubernetes.io/metadata.name].values.0
      - select:
          kind: MutatingWebhookConfiguration
        fieldPaths: *webhook-namespace-paths
      - select:
          kind: ClusterRoleBinding
          name: alliance-webhook
        fieldPaths: &subject-namespace-paths
          - subjects.[name=alliance-webhook].namespace
      - select:
          kind: RoleBinding
          name: alliance-webhook-cluster-configuration
        fieldPaths: *subject-namespace-paths
      - select:
          kind: RoleBinding
          name: alliance-webhook-audit-lease
        fieldPaths: *subject-namespace-paths
  - source:
      kind: Role
      name: alliance-webhook-cluster-configuration
      fieldPath: metadata.annotations.[alliance-webhook.io/namespace]
    targets:
      - select:
          kind: Role
          name: alliance-webhook-cluster-configuration
        fieldPaths: &own-namespace-paths
          - metadata.namespace
      - select:
          kind: RoleBinding
          name: alliance-webhook-cluster-configuration
        fieldPaths: *own-namespace-paths
EOF
  )
fi
# --image: kustomize's images transformer, by name (the manifests' image is "alliance-webhook").
image_lines=""
if [ -n "$image" ]; then
  [[ "$image" =~ ^[^[:space:]\"]+$ ]] || die "--image '$image': not an image reference"
  if [[ "$image" == *@* ]]; then
    name=${image%%@*} field=digest value=${image#*@}
  elif [[ "${image##*/}" == *:* ]]; then
    name=${image%:*} field=newTag value=${image##*:}
  else
    name=$image field="" value=""
  fi
  image_lines=$(printf 'images:\n  - name: alliance-webhook\n    newName: "%s"' "$name")
  [ -z "$field" ] || image_lines+=$(printf '\n    %s: "%s"' "$field" "$value")
fi

write_atomically "$kdir/kustomization.yaml" 0644 <<EOF
# Generated by certs/make-certs.sh; install with: kubectl apply -k $kdir
# The manifests of $kbase, plus the TLS Secret made from $out and the CA bundle set on every
# webhook of both webhook configurations.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
$ns_lines
resources:
  - $base_rel
  - secret.yaml
  - ca-bundle.yaml
$image_lines
replacements:
  - source:
      kind: ConfigMap
      name: alliance-webhook-ca-bundle
      fieldPath: data.caBundle
    targets:
      - select:
          kind: ValidatingWebhookConfiguration
        fieldPaths:
          - webhooks.*.clientConfig.caBundle
        options:
          create: true
      - select:
          kind: MutatingWebhookConfiguration
        fieldPaths:
          - webhooks.*.clientConfig.caBundle
        options:
          create: true
$ns_replacements
EOF
note "wrote the kustomize overlay $kdir (install: kubectl apply -k $kdir)"
