#include <malloc.h>
#include <signal.h>
#include <sys/resource.h>

#include <atomic>
#include <iostream>
#include <thread>

#include "webhook/admission/handler.h"
#include "webhook/audit/background_audit.h"
#include "webhook/base/error_body.h"
#include "webhook/base/host_port.h"
#include "webhook/cli/commands.h"
#include "webhook/cli/flags.h"
#include "webhook/http/server.h"
#include "webhook/http/tls.h"
#include "webhook/state/cluster_sync.h"
#include "webhook/state/config.h"
#include "webhook/state/config_reload.h"
#include "webhook/state/state.h"
#include "webhook/telemetry/log.h"
#include "webhook/telemetry/metrics.h"

namespace aw::webhook {

namespace {

const std::vector<FlagSpec> kServeFlags = {
    {"config", "FILE", "configuration file (SPEC section 3); re-read when it changes"},
    {"listen", "HOST:PORT", "TLS address (default 0.0.0.0:8443)"},
    {"tls-cert", "FILE", "serving certificate (PEM, may include the chain); required"},
    {"tls-key", "FILE", "its private key (PEM); required; both re-read when they change"},
    {"client-ca", "FILE", "require client certificates signed by this CA (mutual TLS)"},
    {"metrics-listen", "HOST:PORT", "also serve /metrics, /healthz, /readyz on plain HTTP"},
    {"audit-only", "", "never deny: would-be denials become [audit] warnings"},
    {"kubeconfig", "FILE", "kubeconfig for the cluster block (cluster.kubeconfig)"},
    {"log-format", "json|text", "log line format (default json)"},
    {"log-level", "LEVEL", "trace, debug, info, warn or error (default info)"},
    {"max-connections", "N", "connections held at most on --listen (default 4096)"},
    {"body-budget", "SIZE",
     "request bodies buffered at once, all connections (default 64Mi);\n"
     "a request beyond it waits up to 1 s, then gets 503 + Retry-After"},
    {"shutdown-delay", "DURATION",
     "after SIGTERM, serve as before this long (default 5s) while the\n"
     "endpoints are removed; /readyz answers 503 from the start"},
    {"shutdown-timeout", "DURATION",
     "after SIGTERM, exit 0 after this at the latest (default 20s)"},
};

std::string serveHelp() {
  return "Usage: alliance-webhook serve [flags]\n\n"
         "Serves the admission webhook over TLS: POST /validate, POST /mutate, GET /healthz, "
         "/readyz, /metrics,\n/audit (the background audit's last run, with an audit: block)."
         "\n\nFlags:\n" +
         flagTable(kServeFlags);
}

int usage(const std::string& error) {
  std::cerr << "alliance-webhook serve: " << error
            << "\nRun 'alliance-webhook serve --help' for usage.\n";
  return kExitUsage;
}

// Signals are taken by a dedicated thread; every other thread inherits this mask.
sigset_t blockStopSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  return signals;
}

void tuneMalloc() {
  // One malloc arena: with one per worker thread, glibc keeps the peak of every thread's large
  // requests (1 MiB objects) resident for good; measured by make soak, RSS grew +150% over
  // 1,000,000 requests with the default and +5% with one arena, at the same throughput.
  mallopt(M_ARENA_MAX, 1);
  // Blocks of 1 MiB and more (request bodies, their copies, large answers) are mapped on their
  // own and unmapped when freed. glibc's default threshold grows to 32 MiB after such a free, and
  // then keeps the peak of concurrent large bodies resident for good (20 x 7 MiB bodies: 700 MiB
  // resident 40 s after the load).
  mallopt(M_MMAP_THRESHOLD, 1024 * 1024);
}

// Every connection is a descriptor: take the hard limit (containers commonly allow 1048576
// but start with a soft 1024, which would cap the connections far below --max-connections).
void raiseFileLimit() {
  if (rlimit files{}; getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }
}

bool readAddresses(const ParsedFlags& flags, ServerOptions& options, std::string& error) {
  if (!parseHostPort("--listen", flags.get("listen").value_or("0.0.0.0:8443"), options.host,
                     options.port, error)) {
    return false;
  }
  if (auto m = flags.get("metrics-listen")) {
    if (!parseHostPort("--metrics-listen", *m, options.metricsHost, options.metricsPort, error)) {
      return false;
    }
  }
  if (!flags.has("tls-cert")) {
    error = "--tls-cert is required (the serving certificate, PEM)";
    return false;
  }
  if (!flags.has("tls-key")) {
    error = "--tls-key is required (the certificate's private key, PEM)";
    return false;
  }
  options.certFile = *flags.get("tls-cert");
  options.keyFile = *flags.get("tls-key");
  options.clientCaFile = flags.get("client-ca").value_or("");
  return true;
}

bool readBudgets(const ParsedFlags& flags, ServerOptions& options, std::string& error) {
  if (auto v = flags.get("max-connections");
      v && !parseCount("--max-connections", *v, 1, 1000000, options.maxConnections, error)) {
    return false;
  }
  if (auto v = flags.get("body-budget")) {
    if (!parseByteSize("--body-budget", *v, options.bodyBudget, error)) return false;
    if (options.bodyBudget < options.maxBodyBytes) {
      error = "--body-budget " + *v +
              ": must hold at least one 8 MiB body (8Mi), or such a request never fits";
      return false;
    }
  }
  if (auto v = flags.get("shutdown-delay");
      v && !parseDuration("--shutdown-delay", *v, options.shutdownDelay, error)) {
    return false;
  }
  if (auto v = flags.get("shutdown-timeout");
      v && !parseDuration("--shutdown-timeout", *v, options.shutdownTimeout, error)) {
    return false;
  }
  if (options.shutdownDelay > options.shutdownTimeout) {
    error = "--shutdown-delay must not be longer than --shutdown-timeout";
    return false;
  }
  return true;
}

// The Kubernetes API is read when the cluster block asks for it: credentials are checked now,
// so a bad kubeconfig stops the start-up instead of leaving the webhook unready for good.
// False with a message when they cannot be read; `access` stays empty when nothing is read.
bool readClusterAccess(const Config& config, const ParsedFlags& flags,
                       std::optional<kube::ClusterAccess>& access, std::string& error) {
  const bool readsCluster = config.cluster.watch || !config.cluster.secretName.empty();
  if (readsCluster) {
    kube::ClusterAccessResult found = clusterAccess(config.cluster, flags.get("kubeconfig"));
    if (!found.access) {
      error = "cluster: " + found.error;
      return false;
    }
    access = std::move(found.access);
  } else if (flags.has("kubeconfig")) {
    log::warn(
        "--kubeconfig is ignored: the configuration reads nothing from the Kubernetes API "
        "(cluster.watch, cluster.clusterConfigurationSecret)");
  }
  return true;
}

// What serve runs on: everything read and checked before a port is bound.
struct Startup {
  ServerOptions options;
  std::optional<std::filesystem::path> configFile;  // reloaded when it changes
  bool auditOnly = false;
  Config config;
  std::shared_ptr<const KeyPair> pair;
  std::optional<kube::ClusterAccess> access;
};

void logServing(const ServerOptions& options) {
  log::info("serving",
            {{"listen", options.host + ":" + std::to_string(options.port)},
             {"metrics", options.metricsHost.empty()
                             ? ""
                             : options.metricsHost + ":" + std::to_string(options.metricsPort)},
             {"client_ca", options.clientCaFile},
             {"max_connections", options.maxConnections},
             {"body_budget", options.bodyBudget},
             {"mode", options.mode}});
}

// Waits for SIGTERM or SIGINT and drains the server; returns at once when `served` is set.
std::thread signalWatcher(AdmissionServer& server, const ServerOptions& options,
                          const std::atomic<bool>& served, sigset_t signals) {
  return std::thread([&server, &options, &served, signals] {
    int sig = 0;
    sigwait(&signals, &sig);
    if (sig == 0 || served.load()) return;
    log::info("draining: /readyz answers 503; requests are served as before until the delay ends",
              {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"},
               {"shutdown_delay_ms", options.shutdownDelay.count()},
               {"shutdown_timeout_ms", options.shutdownTimeout.count()}});
    server.drain();
  });
}

// What reads the cluster (the member and Secret sync, the background audit), started once the
// ports are bound and stopped before the server's owner returns. The server's /readyz, /audit
// and /metrics read them, so they outlive it.
class ClusterWork {
 public:
  ClusterWork(std::optional<kube::ClusterAccess> access, ClusterSettings cluster,
              AuditSettings audit)
      : access_(std::move(access)), cluster_(std::move(cluster)), audit_(audit) {}
  ~ClusterWork() { stop(); }

  bool audits() const { return access_ && cluster_.watch && audit_.present; }

  // GET /audit: the background audit's last run; 404 when it is off.
  HttpReply lastAudit() const {
    if (!audits()) {
      return {404, errorBody("the background audit is off: it runs with an audit: block and "
                             "cluster.watch: true")};
    }
    if (!audit_run_) return {503, errorBody("the background audit is starting")};
    HttpResult r = audit_run_->lastRun();
    return {r.status, std::move(r.body)};
  }

  void start(StateComposer& composer, Metrics& metrics, AdmissionServer& server) {
    if (!access_) return;
    sync_ = std::make_unique<ClusterSync>(*access_, cluster_, composer, metrics);
    metrics.addSource([this](std::string& out) { sync_->renderMetrics(out); });
    server.setReadiness([this] { return sync_->waitingFor(); });
    sync_->start();
    if (!audits()) return;
    audit_run_ = std::make_unique<BackgroundAudit>(*access_, audit_, composer,
                                                   [this] { return sync_->waitingFor(); });
    metrics.addSource([this](std::string& out) { audit_run_->renderMetrics(out); });
    audit_run_->start();
  }

  void stop() {
    if (audit_run_) audit_run_->stop();
    if (sync_) sync_->stop();
  }

 private:
  std::optional<kube::ClusterAccess> access_;
  ClusterSettings cluster_;
  AuditSettings audit_;
  std::unique_ptr<ClusterSync> sync_;
  std::unique_ptr<BackgroundAudit> audit_run_;
};

// Routes POST /validate and /mutate to the admission handler, GET /audit to the cluster work.
void route(AdmissionServer& server, const AdmissionHandler& handler, const ClusterWork& work) {
  for (Endpoint e : {Endpoint::Validate, Endpoint::Mutate}) {
    server.post(std::string(endpointPath(e)), [&handler, e](std::string_view body) {
      static_assert(kReadablePastBody >= kBodyPadding);
      HttpResult r = handler.handle(e, body, true);
      return HttpReply{r.status, std::move(r.body)};
    });
  }
  server.get("/audit", [&work] { return work.lastAudit(); });
}

int serveUntilStopped(Startup start, sigset_t signals) {
  Metrics metrics;
  State state;
  StateComposer composer(state);
  CertificateStore certs;
  metrics.setMode(std::string(modeName(start.config.mode)));
  metrics.setCertificateExpiry(start.pair->notAfter());
  certs.replace(std::move(start.pair));
  for (const std::string& note : start.config.notes) log::warn(note);
  ClusterWork work(std::move(start.access), start.config.cluster, start.config.audit);
  start.options.mode = std::string(modeName(start.config.mode));
  composer.setConfig(std::move(start.config));

  const AdmissionHandler handler(state, metrics);
  AdmissionServer server(start.options, certs, metrics);
  route(server, handler, work);
  std::string error;
  if (!server.bind(error)) {
    std::cerr << "alliance-webhook serve: " << error << "\n";
    return kExitDenied;
  }
  work.start(composer, metrics, server);
  std::optional<ConfigReloader> reloader;
  if (start.configFile) {
    reloader.emplace(*start.configFile, start.auditOnly, composer, metrics);
    reloader->start();
  }
  std::atomic<bool> served{false};
  std::thread signalThread = signalWatcher(server, start.options, served, signals);
  logServing(start.options);
  server.run();
  if (reloader) reloader->stop();
  work.stop();
  // If the server stopped on its own, wake the signal thread so it can be joined.
  served = true;
  // Not a way to end the thread: it waits in sigwait for exactly this signal, and returns.
  // NOLINTNEXTLINE(bugprone-bad-signal-to-kill-thread)
  pthread_kill(signalThread.native_handle(), SIGTERM);
  signalThread.join();
  log::info("stopped");
  return kExitOk;
}

}  // namespace

const std::vector<FlagSpec>& serveFlags() {
  return kServeFlags;
}

int runServe(const std::vector<std::string>& args) {
  const sigset_t signals = blockStopSignals();
  tuneMalloc();
  const ParsedFlags flags = parseFlags(args, kServeFlags);
  if (flags.help) {
    std::cout << serveHelp();
    return kExitOk;
  }
  if (!flags.error.empty()) return usage(flags.error);
  if (!flags.positional.empty()) return usage("unexpected argument " + flags.positional.front());

  std::string error;
  if (!log::setup(flags.get("log-format").value_or("json"), flags.get("log-level").value_or("info"),
                  error)) {
    return usage(error);
  }
  Startup start;
  if (!readAddresses(flags, start.options, error) || !readBudgets(flags, start.options, error)) {
    return usage(error);
  }
  raiseFileLimit();

  ConfigResult loaded = loadConfigOrDefaults(flags.get("config"));
  if (!loaded.config) {
    std::cerr << "alliance-webhook serve: invalid configuration: " << loaded.error << "\n";
    return kExitUsage;
  }
  start.config = std::move(*loaded.config);
  if (auto file = flags.get("config")) start.configFile = *file;
  start.auditOnly = flags.has("audit-only");
  if (start.auditOnly) start.config.mode = Mode::Audit;

  start.pair = KeyPair::load(start.options.certFile, start.options.keyFile, error);
  if (!start.pair || !readClusterAccess(start.config, flags, start.access, error)) {
    std::cerr << "alliance-webhook serve: " << error << "\n";
    return kExitUsage;
  }
  return serveUntilStopped(std::move(start), signals);
}

}  // namespace aw::webhook
