// PEM text read with OpenSSL into owning pointers: the one loader for certificates and keys (the
// serving pair, kubeconfig and in-cluster credentials). It never asks for a passphrase: an
// encrypted key is an error, not a prompt on the terminal.
#pragma once

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace aw::webhook {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

// A read-only memory BIO over `data`, which must outlive it.
BioPtr memoryBio(std::string_view data);

// Why a read found nothing usable.
enum class PemProblem {
  None,
  NotFound,   // no PEM block of the kind wanted
  Broken,     // a block that does not parse
  Encrypted,  // a key protected by a passphrase
};

// Every certificate of a PEM bundle, in order. Empty with `error` set when there is none
// ("no PEM certificate found (expected -----BEGIN CERTIFICATE-----)") or when one does not parse
// ("certificate 2 does not parse (...)"); `problem`, when given, says which.
std::vector<X509Ptr> readCertificates(std::string_view pem, std::string& error,
                                      PemProblem* problem = nullptr);

// The private key of a PEM text. Null with `error` set when it is encrypted ("is an encrypted
// private key; give it unencrypted (openssl pkey -in KEY -out NEWKEY)") or there is none ("no PEM
// private key found (expected -----BEGIN PRIVATE KEY----- or similar)").
PkeyPtr readPrivateKey(std::string_view pem, std::string& error, PemProblem* problem = nullptr);

// The OpenSSL error queue as one line (and cleared).
std::string opensslErrors();

}  // namespace aw::webhook
