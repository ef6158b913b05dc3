#include "webhook/http/tls.h"

#include <openssl/err.h>
#include <openssl/x509.h>

#include <vector>

#include "webhook/base/files.h"

namespace aw::webhook {

double KeyPair::notAfter() const {
  const ASN1_TIME* t = X509_get0_notAfter(leaf_.get());
  struct tm tm {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return static_cast<double>(timegm(&tm));
}

std::shared_ptr<const KeyPair> KeyPair::load(const std::filesystem::path& certFile,
                                             const std::filesystem::path& keyFile,
                                             std::string& error) {
  std::string certPem, keyPem;
  if (auto c = readFile(certFile, error)) {
    certPem = std::move(*c);
  } else {
    error = "--tls-cert " + error;
    return nullptr;
  }
  if (auto k = readFile(keyFile, error)) {
    keyPem = std::move(*k);
  } else {
    error = "--tls-key " + error;
    return nullptr;
  }
  std::shared_ptr<KeyPair> pair(new KeyPair());
  PemProblem problem = PemProblem::None;
  std::vector<X509Ptr> certs = readCertificates(certPem, error, &problem);
  if (certs.empty()) {
    error = "--tls-cert " + certFile.string() + ": " +
            (problem == PemProblem::NotFound ? "no PEM certificate found" : error);
    return nullptr;
  }
  pair->leaf_ = std::move(certs.front());
  pair->chain_.reset(sk_X509_new_null());
  for (std::size_t i = 1; i < certs.size(); ++i)
    sk_X509_push(pair->chain_.get(), certs[i].release());
  pair->key_ = readPrivateKey(keyPem, error, &problem);
  if (!pair->key_) {
    error = "--tls-key " + keyFile.string() + ": " +
            (problem == PemProblem::Encrypted ? error : "no unencrypted PEM private key found");
    return nullptr;
  }
  if (X509_check_private_key(pair->leaf_.get(), pair->key_.get()) != 1) {
    ERR_clear_error();
    error = "--tls-key " + keyFile.string() + ": does not match the certificate in " +
            certFile.string() + " (during a rotation, wait for both files to be written)";
    return nullptr;
  }
  return pair;
}

namespace {

int selectCertificate(SSL* ssl, void* arg) {
  const auto* store = static_cast<const CertificateStore*>(arg);
  std::shared_ptr<const KeyPair> pair = store->current();
  if (!pair) return 0;
  // Up-references the certificate, key and chain, so the SSL keeps them after a swap.
  return SSL_use_cert_and_key(ssl, pair->leaf(), pair->key(), pair->chain(), 1) == 1 ? 1 : 0;
}

}  // namespace

bool configureServerContext(SSL_CTX& ctx, const CertificateStore& store,
                            const std::string& clientCaFile, std::string& error) {
  SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION);
  SSL_CTX_set_max_proto_version(&ctx, TLS1_3_VERSION);
  SSL_CTX_set_options(&ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_SSLv3 |
                                SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1);
  // TLS 1.2: forward-secret AEAD suites only. TLS 1.3 suites are all modern (OpenSSL default).
  if (SSL_CTX_set_cipher_list(&ctx,
                              "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                              "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                              "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305") != 1) {
    error = "TLS cipher setup failed: " + opensslErrors();
    return false;
  }
  SSL_CTX_set_cert_cb(&ctx, selectCertificate, const_cast<CertificateStore*>(&store));
  if (!clientCaFile.empty()) {
    std::string readError;
    if (!readFile(clientCaFile, readError)) {
      error = "--client-ca " + readError;
      return false;
    }
    if (SSL_CTX_load_verify_locations(&ctx, clientCaFile.c_str(), nullptr) != 1) {
      error =
          "--client-ca " + clientCaFile + ": no PEM CA certificate found (" + opensslErrors() + ")";
      return false;
    }
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(clientCaFile.c_str());
    if (names != nullptr) SSL_CTX_set_client_CA_list(&ctx, names);
    SSL_CTX_set_verify(&ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  return true;
}

SslCtx newServerContext(const CertificateStore& store, const std::string& clientCaFile,
                        std::string& error) {
  SslCtx ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) {
    error = "TLS setup failed: " + opensslErrors();
    return nullptr;
  }
  if (!configureServerContext(*ctx, store, clientCaFile, error)) return nullptr;
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                                  SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_read_ahead(ctx.get(), 1);
  return ctx;
}

}  // namespace aw::webhook
