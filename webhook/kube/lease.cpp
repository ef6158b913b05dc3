#include "webhook/kube/lease.h"

#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <fstream>

#include "webhook/kube/kube_list.h"
#include "webhook/telemetry/log.h"

namespace aw::webhook {

namespace {

using Json = nlohmann::json;
constexpr std::chrono::seconds kTimeout{10};

// MicroTime, as the API server writes it: 2024-05-01T10:00:00.000000Z.
std::string microTime() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                          now.time_since_epoch() - std::chrono::seconds(seconds))
                          .count();
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buf[48];
  const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(buf + n, sizeof buf - n, ".%06lldZ", static_cast<long long>(micros));
  return buf;
}

}  // namespace

std::string leaseIdentity() {
  if (const char* pod = std::getenv("POD_NAME"); pod != nullptr && *pod != '\0') return pod;
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  return std::string(host) + "-" + std::to_string(getpid());
}

std::string ownNamespace() {
  if (const char* ns = std::getenv("POD_NAMESPACE"); ns != nullptr && *ns != '\0') return ns;
  std::ifstream file("/var/run/secrets/kubernetes.io/serviceaccount/namespace");
  std::string ns;
  if (file && std::getline(file, ns) && !ns.empty()) return ns;
  return "alliance-webhook";
}

LeaseElector::LeaseElector(const kube::Client& client, LeaseOptions options)
    : client_(client),
      options_(std::move(options)),
      collection_("/apis/coordination.k8s.io/v1/namespaces/" + options_.ns + "/leases") {}

LeaseElector::~LeaseElector() {
  stop();
}

void LeaseElector::start() {
  thread_ = std::thread([this] { run(); });
}

void LeaseElector::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  interrupt_.fire();
  if (thread_.joinable()) thread_.join();
  leader_ = false;
}

bool LeaseElector::leading() const {
  if (!leader_.load()) return false;
  const auto renewed = Clock::time_point(Clock::duration(renewedAt_.load()));
  return Clock::now() - renewed < options_.duration * 2 / 3;
}

void LeaseElector::run() {
  const auto period = std::max(options_.duration / 3, std::chrono::milliseconds(200));
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    try {
      tryOnce();
    } catch (const std::exception& e) {  // a Lease of an unexpected shape: never end the thread
      lost(std::string("the Lease could not be read: ") + e.what());
    }
    lock.lock();
    wake_.wait_for(lock, period, [this] { return stopping_; });
  }
}

void LeaseElector::lost(const std::string& why) {
  if (leader_.exchange(false)) {
    log::warn("audit: lost the report writers' Lease; reports are no longer written here",
              {{"lease", options_.ns + "/" + options_.name}, {"reason", why}});
  }
}

Json LeaseElector::record(const Json* current, bool takeOver) const {
  Json lease = current != nullptr ? *current : Json::object();
  lease["apiVersion"] = "coordination.k8s.io/v1";
  lease["kind"] = "Lease";
  lease["metadata"]["name"] = options_.name;
  lease["metadata"]["namespace"] = options_.ns;
  Json& spec = lease["spec"];
  const std::string now = microTime();
  if (current == nullptr || takeOver) {
    spec["acquireTime"] = now;
    const int transitions = spec.value("leaseTransitions", 0);
    spec["leaseTransitions"] = current == nullptr ? 0 : transitions + 1;
  }
  spec["holderIdentity"] = options_.identity;
  spec["leaseDurationSeconds"] = std::max<long long>(
      1, std::chrono::duration_cast<std::chrono::seconds>(options_.duration).count());
  spec["renewTime"] = now;
  return lease;
}

bool LeaseElector::write(const std::string& method, const std::string& target, const Json& lease) {
  const kube::Response r =
      client_.send(method, target, lease.dump(), "application/json", kTimeout, &interrupt_);
  if (r.error.empty() && (r.status == 200 || r.status == 201)) {
    renewedAt_ = Clock::now().time_since_epoch().count();
    if (!leader_.exchange(true)) {
      log::info("audit: holding the report writers' Lease; this replica writes the reports",
                {{"lease", options_.ns + "/" + options_.name}, {"identity", options_.identity}});
    }
    return true;
  }
  if (!r.canceled) lost(method + " " + target + ": " + kube::describeFailure(r));
  return false;
}

void LeaseElector::tryOnce() {
  kube::ListResult got = kube::getNamed(client_, collection_, options_.name, kTimeout, &interrupt_);
  if (got.outcome != kube::ListResult::Outcome::Listed) {
    // Unknown state: keep leading only while the last renewal is recent (leading()).
    if (got.outcome == kube::ListResult::Outcome::Failed) {
      log::debug("audit: Lease not read", {{"error", got.error}});
    }
    return;
  }
  if (got.items.empty()) {
    write("POST", collection_, record(nullptr, false));
    return;
  }
  const Json& current = got.items.front();
  const Json spec = current.value("spec", Json::object());
  const std::string holder = spec.value("holderIdentity", "");
  if (holder == options_.identity) {
    write("PUT", collection_ + "/" + options_.name, record(&current, false));
    return;
  }
  lost("held by " + holder);
  // Another holder's record: expired once it has not changed for its leaseDurationSeconds.
  const std::string seen = holder + "|" + spec.value("renewTime", "");
  const auto now = Clock::now();
  if (seen != observed_) {
    observed_ = seen;
    observedAt_ = now;
  }
  const auto duration = std::chrono::seconds(spec.value("leaseDurationSeconds", 15));
  if (holder.empty() || now - observedAt_ >= duration) {
    write("PUT", collection_ + "/" + options_.name, record(&current, true));
  }
}

}  // namespace aw::webhook
