#include "webhook/kube/kube_client.h"

#include <httplib.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

#include "common/json_path.h"
#include "webhook/base/pem.h"

namespace aw::webhook::kube {

namespace {

constexpr std::size_t kMaxErrorBody =
    std::size_t{64} * 1024;  // a Status is small; keep no more of it

// Every certificate of a PEM bundle, in a store the TLS client takes over.
X509_STORE* caStore(const std::string& pem) {
  X509_STORE* store = X509_STORE_new();
  std::string error;  // checked when the access was loaded
  for (const X509Ptr& cert : readCertificates(pem, error)) X509_STORE_add_cert(store, cert.get());
  return store;
}

// The TLS client for one call, set up from the cluster access.
std::unique_ptr<httplib::SSLClient> connect(const ClusterAccess& access) {
  std::unique_ptr<httplib::SSLClient> client;
  if (!access.clientCertPem.empty() && !access.clientKeyPem.empty()) {
    std::string error;  // both were checked when the access was loaded
    std::vector<X509Ptr> certs = readCertificates(access.clientCertPem, error);
    PkeyPtr key = readPrivateKey(access.clientKeyPem, error);
    // The client takes its own references (SSL_CTX_use_certificate / _PrivateKey).
    client = std::make_unique<httplib::SSLClient>(
        access.host, access.port, certs.empty() ? nullptr : certs.front().get(), key.get());
  } else {
    client = std::make_unique<httplib::SSLClient>(access.host, access.port);
  }
  if (access.insecureSkipVerify) {
    client->enable_server_certificate_verification(false);
  } else {
    client->set_ca_cert_store(caStore(access.caPem));
    client->enable_server_certificate_verification(true);
  }
  client->set_connection_timeout(std::chrono::seconds(10));
  client->set_write_timeout(std::chrono::seconds(10));
  client->set_keep_alive(false);
  return client;
}

httplib::Headers headers(const ClusterAccess& access, std::string& error) {
  httplib::Headers h{{"Accept", "application/json"},
                     {"User-Agent", "alliance-webhook/" AW_VERSION}};
  std::optional<std::string> token = bearerToken(access, error);
  if (token && !token->empty()) h.emplace("Authorization", "Bearer " + *token);
  return h;
}

std::string transportError(const httplib::SSLClient& client, const ClusterAccess& access,
                           httplib::Error e) {
  std::string what = serverUrl(access) + ": ";
  switch (e) {
    case httplib::Error::Connection:
    case httplib::Error::ConnectionTimeout:
      return what + "cannot connect (" + httplib::to_string(e) + ")";
    case httplib::Error::SSLServerVerification: {
      const long v = client.get_openssl_verify_result();
      return what + "the API server's certificate is not trusted (" +
             (v != X509_V_OK ? X509_verify_cert_error_string(v) : "host name mismatch") +
             "): check the certificate authority of " + access.source;
    }
    case httplib::Error::SSLConnection:
      return what + "TLS handshake failed";
    case httplib::Error::Read:
      return what + "the connection was closed or timed out while reading";
    default:
      return what + httplib::to_string(e);
  }
}

// Runs one GET with the interrupt registered; fills `out` from the result.
template <class Call>
void perform(const Client& self, const std::string& target, std::chrono::seconds readTimeout,
             Interrupt* interrupt, Response& out, Call&& call) {
  const ClusterAccess& access = self.access();
  std::string tokenError;
  httplib::Headers h = headers(access, tokenError);
  if (!tokenError.empty()) {
    out.error = tokenError;
    return;
  }
  std::unique_ptr<httplib::SSLClient> client = connect(access);
  client->set_read_timeout(readTimeout);
  if (interrupt != nullptr && !interrupt->enter(client.get())) {
    out.canceled = true;
    out.error = "canceled";
    return;
  }
  httplib::Result result = call(*client, target, h);
  if (interrupt != nullptr) interrupt->leave();
  if (result) out.status = result->status;
  if (result.error() == httplib::Error::Canceled || (interrupt != nullptr && interrupt->fired())) {
    out.canceled = true;
  }
  if (result.error() != httplib::Error::Success && !out.canceled) {
    out.error = transportError(*client, access, result.error());
  }
}

}  // namespace

std::string describeFailure(const Response& response) {
  if (!response.error.empty()) return response.error;
  std::string out = "HTTP " + std::to_string(response.status);
  const Status status = parseStatus(response.body);
  if (!status.reason.empty()) out += " " + status.reason;
  if (!status.message.empty()) out += ": " + status.message;
  return out;
}

Status parseStatus(std::string_view body) {
  Status s;
  const nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object() || aw::json::stringOr(j, {"kind"}) != "Status") return s;
  s.reason = aw::json::stringOr(j, {"reason"});
  s.message = aw::json::stringOr(j, {"message"});
  if (auto c = j.find("code"); c != j.end() && c->is_number_integer()) s.code = *c;
  return s;
}

void Interrupt::fire() {
  std::lock_guard lock(mutex_);
  fired_ = true;
  if (call_ != nullptr) call_->stop();
}

bool Interrupt::enter(httplib::ClientImpl* call) {
  std::lock_guard lock(mutex_);
  if (fired_) return false;
  call_ = call;
  return true;
}

void Interrupt::leave() {
  std::lock_guard lock(mutex_);
  call_ = nullptr;
}

Response Client::get(const std::string& target, std::chrono::seconds timeout,
                     Interrupt* interrupt) const {
  Response out;
  perform(*this, target, timeout, interrupt, out,
          [&](httplib::SSLClient& c, const std::string& t, const httplib::Headers& h) {
            httplib::Result r = c.Get(t, h);
            if (r) out.body = std::move(r->body);
            return r;
          });
  return out;
}

Response Client::stream(const std::string& target, std::chrono::seconds readTimeout,
                        const std::function<bool(std::string_view)>& onData,
                        Interrupt* interrupt) const {
  Response out;
  perform(*this, target, readTimeout, interrupt, out,
          [&](httplib::SSLClient& c, const std::string& t, const httplib::Headers& h) {
            int status = 0;
            return c.Get(
                t, h,
                [&](const httplib::Response& r) {
                  status = r.status;
                  return true;
                },
                [&](const char* data, std::size_t size) {
                  if (status != 200) {
                    // An error answer: keep its Status for the message, never feed it on.
                    if (out.body.size() < kMaxErrorBody) out.body.append(data, size);
                    return true;
                  }
                  return onData(std::string_view(data, size));
                });
          });
  return out;
}

Response Client::send(const std::string& method, const std::string& target, const std::string& body,
                      const std::string& contentType, std::chrono::seconds timeout,
                      Interrupt* interrupt) const {
  Response out;
  perform(*this, target, timeout, interrupt, out,
          [&](httplib::SSLClient& c, const std::string& t, const httplib::Headers& h) {
            httplib::Result r = method == "POST"  ? c.Post(t, h, body, contentType)
                                : method == "PUT" ? c.Put(t, h, body, contentType)
                                                  : c.Patch(t, h, body, contentType);
            if (r) out.body = std::move(r->body);
            return r;
          });
  return out;
}

}  // namespace aw::webhook::kube
