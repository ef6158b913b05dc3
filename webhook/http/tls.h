// TLS for the admission server: TLS 1.2/1.3 with modern ciphers, the serving certificate chosen
// per handshake from a store that is swapped on rotation, optional client verification.
#pragma once

#include <openssl/ssl.h>

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "webhook/base/current.h"
#include "webhook/base/pem.h"

namespace aw::webhook {

// A certificate chain and its key, parsed and matched.
class KeyPair {
 public:
  static std::shared_ptr<const KeyPair> load(const std::filesystem::path& certFile,
                                             const std::filesystem::path& keyFile,
                                             std::string& error);

  X509* leaf() const { return leaf_.get(); }
  EVP_PKEY* key() const { return key_.get(); }
  STACK_OF(X509) * chain() const { return chain_.get(); }
  double notAfter() const;  // unix seconds

 private:
  struct ChainFree {
    void operator()(STACK_OF(X509) * chain) const { sk_X509_pop_free(chain, X509_free); }
  };
  KeyPair() = default;
  X509Ptr leaf_;
  PkeyPtr key_;
  std::unique_ptr<STACK_OF(X509), ChainFree> chain_;
};

using CertificateStore = Current<KeyPair>;

// Sets up a server SSL_CTX: protocol versions, ciphers, a per-handshake certificate callback
// reading `store`, and (when clientCaFile is non-empty) required client certificates.
bool configureServerContext(SSL_CTX& ctx, const CertificateStore& store,
                            const std::string& clientCaFile, std::string& error);

// A server SSL_CTX set up by configureServerContext, for the connection layer: non-blocking
// writes that may be partial and resumed from a moved buffer, read-ahead (one read system call
// per burst of records instead of two per record), and buffers released while a connection is
// idle (thousands of idle connections hold no 34 KiB of buffers each). Null with a message.
struct SslCtxFree {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
using SslCtx = std::unique_ptr<SSL_CTX, SslCtxFree>;
SslCtx newServerContext(const CertificateStore& store, const std::string& clientCaFile,
                        std::string& error);

}  // namespace aw::webhook
