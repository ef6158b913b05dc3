#include "webhook/state/cluster_sync.h"

#include <malloc.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <stdexcept>

#include "common/json_path.h"
#include "common/json_view.h"
#include "rules/model/kinds.h"
#include "webhook/base/base64.h"
#include "webhook/telemetry/log.h"

namespace aw::webhook {

namespace {

using Json = nlohmann::json;

constexpr const char* kClusterConfigurationKey = "cluster-configuration.yaml";

std::string objectName(const Json& object) {
  return aw::json::stringOr(object, {"metadata", "name"});
}

std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

}  // namespace

// The members of one kind, by name: what the API server reported last. The composer reads them
// when it makes a snapshot.
class ClusterSync::MemberTable : public kube::ReflectorSink {
 public:
  MemberTable(rules::KindId kind, StateComposer& composer) : kind_(kind), composer_(composer) {
    composer_.addMemberSource([this](std::vector<rules::Member>& out) {
      std::lock_guard lock(mutex_);
      out.reserve(out.size() + members_.size());
      for (const auto& [name, member] : members_) out.push_back(member);
    });
  }

  rules::KindId kind() const { return kind_; }
  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return members_.size();
  }

  void replace(std::vector<Json> objects) override {
    {
      std::lock_guard lock(mutex_);
      members_.clear();
      for (const Json& o : objects) put(o);
    }
    objects.clear();
    composer_.membersChanged();
    // A full list parsed every object whole (tens of MiB for 10,000 members); give that back to
    // the system rather than keep it as the process's high-water mark.
    malloc_trim(0);
  }

  void apply(std::vector<kube::WatchEvent> events) override {
    {
      std::lock_guard lock(mutex_);
      for (const kube::WatchEvent& e : events) {
        if (e.type == kube::WatchEvent::Type::Deleted) {
          members_.erase(objectName(e.object));
        } else {
          put(e.object);
        }
      }
    }
    composer_.membersChanged();
  }

 private:
  void put(const Json& object) {
    const std::string name = objectName(object);
    if (name.empty()) return;  // not an object the API server could have stored
    try {
      const aw::json::Document document = aw::json::Document::of(object);
      members_.insert_or_assign(name, rules::memberFromObject(kind_, document.root()));
    } catch (const std::invalid_argument& e) {
      // Nested deeper than a view reads (json::Document::kMaxDepth): no member of the alliance
      // is written like that, so it is left out rather than read half.
      members_.erase(name);
      log::warn("cluster state: " + std::string(rules::kindInfo(kind_).kind) + " " + name +
                " left out of the alliance: " + e.what());
    }
  }

  rules::KindId kind_;
  StateComposer& composer_;
  mutable std::mutex mutex_;
  std::map<std::string, rules::Member> members_;
};

// The ClusterConfiguration Secret: its cluster-configuration.yaml key fills the local cluster.
// A version that cannot be read is refused and the one before stays in force.
class ClusterSync::SecretSource : public kube::ReflectorSink {
 public:
  SecretSource(const std::string& ns, const std::string& name, StateComposer& composer,
               Metrics& metrics)
      : label_("Secret " + ns + "/" + name), composer_(composer), metrics_(metrics) {}

  // Why no version could be used yet (once the Secret was fetched); empty otherwise.
  std::string problem() const {
    std::lock_guard lock(mutex_);
    return loaded_ || absent_ ? std::string() : problem_;
  }

  void replace(std::vector<Json> objects) override {
    if (objects.empty()) {
      {
        std::lock_guard lock(mutex_);
        absent_ = true;
      }
      log::warn("cluster state: " + label_ +
                " does not exist: the local cluster comes from the configuration alone "
                "(localCluster); it is read as soon as it is created");
      return;
    }
    read(objects.back());
  }

  void apply(std::vector<kube::WatchEvent> events) override {
    for (const kube::WatchEvent& e : events) {
      if (e.type == kube::WatchEvent::Type::Deleted) {
        // Forgetting the local cluster would silently switch checks off: keep the last one.
        log::warn("cluster state: " + label_ +
                  " was deleted; the local cluster it described stays in force");
        continue;
      }
      read(e.object);
    }
  }

 private:
  void read(const Json& secret) {
    // A list after a watch restart hands in the same version again: nothing to do.
    const Json* data = aw::json::child(secret, "data");
    std::string content = data != nullptr ? data->dump() : std::string();
    if (lastContent_ && content == *lastContent_) return;
    lastContent_ = std::move(content);
    std::string error, note;
    std::optional<rules::LocalCluster> local = localClusterFromSecret(secret, label_, error, note);
    if (!local) {
      metrics_.reload("cluster-configuration", false);
      log::error("cluster state: " + label_ + " refused; the local cluster read before stays " +
                     "in force",
                 {{"error", error}});
      std::lock_guard lock(mutex_);
      problem_ = label_ + ": " + error;
      return;
    }
    Json subnets = Json::array();
    for (const rules::Subnet& s : local->subnets) {
      subnets.push_back(std::string(rules::subnetRoleName(s.role)) + " " + s.cidr.str());
    }
    Json fields = {{"clusterDomain", local->domain}, {"subnets", subnets}};
    if (!note.empty()) fields["note"] = note;
    log::info("cluster state: local cluster read from " + label_, fields);
    composer_.setLocal(std::move(*local));
    metrics_.reload("cluster-configuration", true);
    std::lock_guard lock(mutex_);
    loaded_ = true;
    absent_ = false;
    problem_.clear();
  }

  std::string label_;
  StateComposer& composer_;
  Metrics& metrics_;
  mutable std::mutex mutex_;
  bool loaded_ = false;
  bool absent_ = false;
  std::string problem_;
  std::optional<std::string> lastContent_;  // reflector thread only
};

ClusterSync::ClusterSync(kube::ClusterAccess access, const ClusterSettings& settings,
                         StateComposer& composer, Metrics& metrics)
    : client_(std::move(access)), settings_(settings), metrics_(metrics) {
  auto options = [](std::string resource, std::string collection) {
    kube::ReflectorOptions o;  // the production timings (kube_reflector.h)
    o.resource = std::move(resource);
    o.collection = std::move(collection);
    return o;
  };
  auto restarted = [this](const std::string& resource, const char* reason) {
    metrics_.watchRestart(resource, reason);
  };
  if (settings_.watch) {
    for (rules::KindId kind : {rules::KindId::IstioFederation, rules::KindId::IstioMulticluster}) {
      const rules::KindInfo& info = rules::kindInfo(kind);
      tables_.push_back(std::make_unique<MemberTable>(kind, composer));
      reflectors_.push_back(std::make_unique<kube::Reflector>(
          client_, options(std::string(info.resource), memberCollection(kind)), *tables_.back(),
          restarted));
    }
  }
  if (!settings_.secretName.empty()) {
    secret_ = std::make_unique<SecretSource>(settings_.secretNamespace, settings_.secretName,
                                             composer, metrics);
    kube::ReflectorOptions o =
        options("secret", "/api/v1/namespaces/" + settings_.secretNamespace + "/secrets");
    o.objectName = settings_.secretName;
    // SPEC: the Secret is re-read at least every 60 s. Its watch is asked to end after 30-60 s,
    // so even a connection that died without a word is replaced within about a minute and a half.
    o.watchTimeout = std::min(o.watchTimeout, std::chrono::seconds(30));
    reflectors_.push_back(std::make_unique<kube::Reflector>(client_, o, *secret_, restarted));
  }
}

ClusterSync::~ClusterSync() {
  stop();
}

void ClusterSync::start() {
  log::info("cluster state: reading from the Kubernetes API",
            {{"server", kube::serverUrl(client_.access())}, {"via", client_.access().source}});
  if (!client_.access().tlsServerName.empty()) {
    // cpp-httplib 0.11.4 verifies the certificate against the host it connects to, and has no
    // way to name another: say so rather than let a TLS error look like a server problem.
    log::warn(
        "cluster state: tls-server-name is not supported; the API server's certificate is "
        "verified against " +
            client_.access().host,
        {{"tls-server-name", client_.access().tlsServerName}});
  }
  for (auto& r : reflectors_) r->start();
}

void ClusterSync::stop() {
  for (auto& r : reflectors_) r->stop();
}

std::string ClusterSync::waitingFor() const {
  if (!settings_.readyAfterSync) return {};
  std::string out;
  auto add = [&](const std::string& what) { out += (out.empty() ? "" : "; ") + what; };
  for (const auto& r : reflectors_) {
    const kube::ReflectorStatus s = r->status();
    if (!s.synced) {
      add(r->options().resource + ": " +
          (s.lastError.empty() ? std::string("first list in progress") : s.lastError));
    }
  }
  if (secret_) {
    if (std::string p = secret_->problem(); !p.empty()) add(p);
  }
  return out.empty() ? out : "cluster state not synced yet: " + out;
}

void ClusterSync::renderMetrics(std::string& out) const {
  PrometheusWriter w(out);
  w.family("alliance_webhook_cluster_members", "gauge",
           "Members known from the Kubernetes API, by kind.");
  for (const auto& t : tables_) {
    w.sample("alliance_webhook_cluster_members",
             labelSet({{"kind", rules::kindInfo(t->kind()).kind}}),
             static_cast<unsigned long long>(t->size()));
  }
  w.family("alliance_webhook_cluster_synced", "gauge", "1 once a source has been read completely.");
  std::string ages;
  PrometheusWriter agesWriter(ages);
  const auto now = std::chrono::steady_clock::now();
  for (const auto& r : reflectors_) {
    const kube::ReflectorStatus s = r->status();
    const std::string labels = labelSet({{"resource", r->options().resource}});
    w.sample("alliance_webhook_cluster_synced", labels, s.synced ? "1" : "0");
    if (s.synced) {
      agesWriter.sample("alliance_webhook_cluster_last_sync_age_seconds", labels,
                        number(std::chrono::duration<double>(now - s.lastSync).count()));
    }
  }
  w.family("alliance_webhook_cluster_last_sync_age_seconds", "gauge",
           "Seconds since a source last heard from the API server (a list, an event or a "
           "bookmark).");
  out += ages;
}

std::string memberCollection(rules::KindId kind) {
  const rules::KindInfo& info = rules::kindInfo(kind);
  return "/apis/" + std::string(info.group) + "/" + std::string(info.versions.front()) + "/" +
         std::string(info.resource);
}

std::optional<rules::LocalCluster> localClusterFromSecret(const Json& secret,
                                                          const std::string& label,
                                                          std::string& error, std::string& note) {
  const std::string* value = aw::json::stringAt(secret, {"data", kClusterConfigurationKey});
  if (value == nullptr) {
    error = std::string("no data key ") + kClusterConfigurationKey;
    return std::nullopt;
  }
  std::string why;
  std::optional<std::string> text = decodeBase64(*value, why);
  if (!text) {
    error = std::string("data.") + kClusterConfigurationKey + ": " + why;
    return std::nullopt;
  }
  ClusterConfigurationResult parsed = parseClusterConfiguration(*text, label);
  if (!parsed.local) error = parsed.error;
  note = parsed.note;
  return parsed.local;
}

kube::ClusterAccessResult clusterAccess(const ClusterSettings& settings,
                                        const std::optional<std::string>& kubeconfigFlag) {
  if (kubeconfigFlag) return kube::loadKubeconfig(*kubeconfigFlag);
  if (!settings.kubeconfig.empty()) return kube::loadKubeconfig(settings.kubeconfig);
  return kube::loadInCluster([](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    return v != nullptr ? std::optional<std::string>(v) : std::nullopt;
  });
}

}  // namespace aw::webhook
