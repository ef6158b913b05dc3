// TLS for the admission server: TLS 1.2/1.3 with modern ciphers, the serving certificate chosen
// per handshake from a store that is swapped on rotation, optional client verification.
#pragma once

#include <openssl/ssl.h>

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>

#include "webhook/current.h"

namespace aw::webhook {

// A certificate chain and its key, parsed and matched.
class KeyPair {
 public:
  static std::shared_ptr<const KeyPair> load(const std::filesystem::path& certFile,
                                             const std::filesystem::path& keyFile,
                                             std::string& error);
  ~KeyPair();
  KeyPair(const KeyPair&) = delete;
  KeyPair& operator=(const KeyPair&) = delete;

  X509* leaf() const { return leaf_; }
  EVP_PKEY* key() const { return key_; }
  STACK_OF(X509) * chain() const { return chain_; }
  double notAfter() const;  // unix seconds

 private:
  KeyPair() = default;
  X509* leaf_ = nullptr;
  EVP_PKEY* key_ = nullptr;
  STACK_OF(X509) * chain_ = nullptr;
};

using CertificateStore = Current<KeyPair>;

// Sets up a server SSL_CTX: protocol versions, ciphers, a per-handshake certificate callback
// reading `store`, and (when clientCaFile is non-empty) required client certificates.
bool configureServerContext(SSL_CTX& ctx, const CertificateStore& store,
                            const std::string& clientCaFile, std::string& error);

// The OpenSSL error queue as one line (and cleared).
std::string opensslErrors();

}  // namespace aw::webhook
