#include "webhook/audit/background_audit.h"

#include "rules/model/keys.h"
#include "rules/model/kinds.h"
#include "webhook/state/cluster_sync.h"
#include "webhook/telemetry/log.h"

namespace aw::webhook {

namespace {
using namespace std::chrono_literals;
constexpr auto kSyncPoll = 100ms;
}  // namespace

BackgroundAudit::BackgroundAudit(kube::ClusterAccess access, const AuditSettings& settings,
                                 StateComposer& composer,
                                 std::function<std::string()> clusterWaiting)
    : client_(access),
      settings_(settings),
      composer_(composer),
      clusterWaiting_(std::move(clusterWaiting)),
      writer_(std::move(access), LeaseOptions{ownNamespace(), "alliance-webhook-audit",
                                              leaseIdentity(), settings.leaseDuration}) {
  auto reflector = [this](const std::string& resource, std::string collection, std::string selector,
                          AuditObjectTable& table) {
    kube::ReflectorOptions o;  // the production timings (kube_reflector.h)
    o.resource = "audit " + resource;
    o.collection = std::move(collection);
    o.labelSelector = std::move(selector);
    reflectors_.push_back(std::make_unique<kube::Reflector>(client_, o, table));
  };
  reflector("istiofederations", memberCollection(rules::KindId::IstioFederation), "", federations_);
  reflector("istiomulticlusters", memberCollection(rules::KindId::IstioMulticluster), "",
            multiclusters_);
  if (settings_.services) {
    reflector("services", "/api/v1/services", std::string(rules::keys::kPublicServiceLabel),
              services_);
  }
}

BackgroundAudit::~BackgroundAudit() {
  stop();
}

void BackgroundAudit::start() {
  for (auto& r : reflectors_) r->start();
  writer_.start();
  thread_ = std::thread([this] { run(); });
}

void BackgroundAudit::stop() {
  stop_ = true;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  writer_.stop();
  for (auto& r : reflectors_) r->stop();
}

void BackgroundAudit::renderMetrics(std::string& out) const {
  results_.renderMetrics(out);
  writer_.renderMetrics(out);
}

bool BackgroundAudit::sleepFor(std::chrono::milliseconds d) {
  std::unique_lock lock(mutex_);
  return !wake_.wait_for(lock, d, [this] { return stopping_; });
}

bool BackgroundAudit::waitForSync() {
  for (;;) {
    bool synced = clusterWaiting_().empty();
    for (const auto& r : reflectors_) synced = synced && r->status().synced;
    if (synced) return true;
    if (!sleepFor(kSyncPoll)) return false;
  }
}

std::chrono::milliseconds BackgroundAudit::interval() const {
  const auto snapshot = composer_.state().current();
  return snapshot && snapshot->config.audit.present ? snapshot->config.audit.interval
                                                    : settings_.interval;
}

void BackgroundAudit::run() {
  if (!waitForSync()) return;
  log::info("audit: cluster state synced; the first background audit runs now",
            {{"interval_s", std::chrono::duration<double>(interval()).count()},
             {"services", settings_.services}});
  do {
    try {
      runOnce();
    } catch (const std::exception& e) {  // never let an exception end the process
      log::error("audit: the run failed; the next one runs at the interval", {{"error", e.what()}});
    }
  } while (sleepFor(interval()));
}

void BackgroundAudit::runOnce() {
  for (;;) {
    const std::uint64_t generation = composer_.configGeneration();
    const auto snapshot = composer_.state().current();
    if (!snapshot) return;
    Config config = snapshot->config;
    if (!config.audit.present) return;          // the block was taken out by a reload: paused
    config.local = snapshot->alliance.local();  // with what the ClusterConfiguration Secret says
    std::vector<std::shared_ptr<const ManifestObject>> held;
    federations_.collect(held);
    multiclusters_.collect(held);
    if (settings_.services && config.audit.services) services_.collect(held);
    std::vector<const ManifestObject*> objects;
    objects.reserve(held.size());
    for (const auto& o : held) objects.push_back(o.get());

    const auto started = std::chrono::system_clock::now();
    const auto clock = std::chrono::steady_clock::now();
    const ScanResult scan = scanObjects(config, objects, [&] {
      return stop_.load() || composer_.configGeneration() != generation;
    });
    if (stop_.load()) return;
    if (scan.interrupted) {
      log::info("audit: the configuration was reloaded during a run; starting it again");
      continue;
    }
    AuditRun run = auditRunOf(scan, objects.size(), config.mode);
    run.started = started;
    run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - clock).count();
    log::info("audit: run completed", {{"objects", run.objects},
                                       {"findings", run.findings.size()},
                                       {"denied", run.denied},
                                       {"duration_s", run.seconds}});
    writer_.update(run.findings);
    results_.record(std::move(run));
    return;
  }
}

}  // namespace aw::webhook
