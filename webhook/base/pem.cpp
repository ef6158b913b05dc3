#include "webhook/base/pem.h"

#include <openssl/err.h>
#include <openssl/pem.h>

namespace aw::webhook {

namespace {

// Called by OpenSSL instead of its default, which would prompt on the terminal: notes that a
// passphrase was wanted and refuses to give one.
int refusePassphrase(char* /*buf*/, int /*size*/, int /*rwflag*/, void* asked) {
  if (asked != nullptr) *static_cast<bool*>(asked) = true;
  return -1;
}

void setProblem(PemProblem* out, PemProblem problem) {
  if (out != nullptr) *out = problem;
}

}  // namespace

BioPtr memoryBio(std::string_view data) {
  return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

std::string opensslErrors() {
  std::string out;
  unsigned long e = 0;
  char buf[256];
  while ((e = ERR_get_error()) != 0) {
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += ", ";
    out += buf;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

std::vector<X509Ptr> readCertificates(std::string_view pem, std::string& error,
                                      PemProblem* problem) {
  setProblem(problem, PemProblem::None);
  ERR_clear_error();
  BioPtr bio = memoryBio(pem);
  std::vector<X509Ptr> certs;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, refusePassphrase, nullptr)) {
    certs.emplace_back(cert);
  }
  // The loop ends with "no start line" at the end of the text; any other error is a broken block.
  const unsigned long e = ERR_peek_last_error();
  if (e != 0 && !(ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE)) {
    error = "certificate " + std::to_string(certs.size() + 1) + " does not parse (" +
            opensslErrors() + ")";
    setProblem(problem, PemProblem::Broken);
    return {};
  }
  ERR_clear_error();
  if (certs.empty()) {
    error = "no PEM certificate found (expected -----BEGIN CERTIFICATE-----)";
    setProblem(problem, PemProblem::NotFound);
  }
  return certs;
}

PkeyPtr readPrivateKey(std::string_view pem, std::string& error, PemProblem* problem) {
  setProblem(problem, PemProblem::None);
  const std::string encrypted =
      "is an encrypted private key; give it unencrypted (openssl pkey -in KEY -out NEWKEY)";
  if (pem.find("ENCRYPTED") != std::string_view::npos) {
    error = encrypted;
    setProblem(problem, PemProblem::Encrypted);
    return nullptr;
  }
  ERR_clear_error();
  BioPtr bio = memoryBio(pem);
  bool asked = false;
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, refusePassphrase, &asked));
  ERR_clear_error();
  if (key) return key;
  if (asked) {
    error = encrypted;
    setProblem(problem, PemProblem::Encrypted);
  } else {
    error = "no PEM private key found (expected -----BEGIN PRIVATE KEY----- or similar)";
    setProblem(problem, PemProblem::NotFound);
  }
  return nullptr;
}

}  // namespace aw::webhook
