#include <malloc.h>
#include <signal.h>
#include <sys/resource.h>

#include <atomic>
#include <iostream>
#include <thread>

#include "webhook/background_audit.h"
#include "webhook/cluster_sync.h"
#include "webhook/commands.h"
#include "webhook/config.h"
#include "webhook/flags.h"
#include "webhook/log.h"
#include "webhook/metrics.h"
#include "webhook/server.h"
#include "webhook/state.h"
#include "webhook/tls.h"

namespace aw::webhook {

namespace {

constexpr const char* kServeHelp = R"(Usage: alliance-webhook serve [flags]

Serves the admission webhook over TLS: POST /validate, POST /mutate, GET /healthz, /readyz, /metrics,
/audit (the background audit's last run, with an audit: block).

Flags:
  --config FILE               configuration file (SPEC section 3); re-read when it changes
  --listen HOST:PORT          TLS address (default 0.0.0.0:8443)
  --tls-cert FILE             serving certificate (PEM, may include the chain); required
  --tls-key FILE              its private key (PEM); required; both re-read when they change
  --client-ca FILE            require client certificates signed by this CA (mutual TLS)
  --metrics-listen HOST:PORT  also serve /metrics, /healthz, /readyz on plain HTTP
  --audit-only                never deny: would-be denials become [audit] warnings
  --kubeconfig FILE           kubeconfig for the cluster block (cluster.kubeconfig)
  --log-format json|text      log line format (default json)
  --log-level LEVEL           trace, debug, info, warn or error (default info)
  --max-connections N         connections held at most on --listen (default 4096)
  --body-budget SIZE          request bodies buffered at once, all connections (default 64Mi);
                              a request beyond it waits up to 1 s, then gets 503 + Retry-After
  --shutdown-delay DURATION   after SIGTERM, serve as before this long (default 5s) while the
                              endpoints are removed; /readyz answers 503 from the start
  --shutdown-timeout DURATION after SIGTERM, exit 0 after this at the latest (default 20s)
)";

int usage(const std::string& error) {
  std::cerr << "alliance-webhook serve: " << error
            << "\nRun 'alliance-webhook serve --help' for usage.\n";
  return kExitUsage;
}

}  // namespace

int runServe(const std::vector<std::string>& args) {
  // Signals are taken by a dedicated thread; every other thread inherits this mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  // One malloc arena: with one per worker thread, glibc keeps the peak of every thread's large
  // requests (1 MiB objects) resident for good; measured by make soak, RSS grew +150% over
  // 1,000,000 requests with the default and +5% with one arena, at the same throughput.
  mallopt(M_ARENA_MAX, 1);
  // Blocks of 1 MiB and more (request bodies, their copies, large answers) are mapped on their
  // own and unmapped when freed. glibc's default threshold grows to 32 MiB after such a free, and
  // then keeps the peak of concurrent large bodies resident for good (20 x 7 MiB bodies: 700 MiB
  // resident 40 s after the load).
  mallopt(M_MMAP_THRESHOLD, 1024 * 1024);

  const ParsedFlags flags = parseFlags(args, {{"config"},
                                              {"listen"},
                                              {"tls-cert"},
                                              {"tls-key"},
                                              {"client-ca"},
                                              {"metrics-listen"},
                                              {"audit-only", false},
                                              {"kubeconfig"},
                                              {"log-format"},
                                              {"log-level"},
                                              {"max-connections"},
                                              {"body-budget"},
                                              {"shutdown-delay"},
                                              {"shutdown-timeout"}});
  if (flags.help) {
    std::cout << kServeHelp;
    return kExitOk;
  }
  if (!flags.error.empty()) return usage(flags.error);
  if (!flags.positional.empty()) return usage("unexpected argument " + flags.positional.front());

  std::string error;
  if (!log::setup(flags.get("log-format").value_or("json"), flags.get("log-level").value_or("info"),
                  error)) {
    return usage(error);
  }
  ServerOptions options;
  if (!parseHostPort("--listen", flags.get("listen").value_or("0.0.0.0:8443"), options.host,
                     options.port, error)) {
    return usage(error);
  }
  if (auto m = flags.get("metrics-listen")) {
    if (!parseHostPort("--metrics-listen", *m, options.metricsHost, options.metricsPort, error)) {
      return usage(error);
    }
  }
  if (!flags.has("tls-cert")) return usage("--tls-cert is required (the serving certificate, PEM)");
  if (!flags.has("tls-key"))
    return usage("--tls-key is required (the certificate's private key, PEM)");
  options.certFile = *flags.get("tls-cert");
  options.keyFile = *flags.get("tls-key");
  options.clientCaFile = flags.get("client-ca").value_or("");
  options.auditOnly = flags.has("audit-only");
  if (auto v = flags.get("max-connections");
      v && !parseCount("--max-connections", *v, 1, 1000000, options.maxConnections, error)) {
    return usage(error);
  }
  if (auto v = flags.get("body-budget")) {
    if (!parseByteSize("--body-budget", *v, options.bodyBudget, error)) return usage(error);
    if (options.bodyBudget < options.maxBodyBytes) {
      return usage("--body-budget " + *v +
                   ": must hold at least one 8 MiB body (8Mi), or such a request never fits");
    }
  }
  if (auto v = flags.get("shutdown-delay");
      v && !parseDuration("--shutdown-delay", *v, options.shutdownDelay, error)) {
    return usage(error);
  }
  if (auto v = flags.get("shutdown-timeout");
      v && !parseDuration("--shutdown-timeout", *v, options.shutdownTimeout, error)) {
    return usage(error);
  }
  if (options.shutdownDelay > options.shutdownTimeout) {
    return usage("--shutdown-delay must not be longer than --shutdown-timeout");
  }
  // Every connection is a descriptor: take the hard limit (containers commonly allow 1048576
  // but start with a soft 1024, which would cap the connections far below --max-connections).
  if (rlimit files{}; getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }

  ConfigResult loaded = loadConfigOrDefaults(flags.get("config"));
  if (!loaded.config) {
    std::cerr << "alliance-webhook serve: invalid configuration: " << loaded.error << "\n";
    return kExitUsage;
  }
  Config config = std::move(*loaded.config);
  if (auto file = flags.get("config")) options.configFile = *file;
  if (options.auditOnly) config.mode = Mode::Audit;

  std::shared_ptr<const KeyPair> pair = KeyPair::load(options.certFile, options.keyFile, error);
  if (!pair) {
    std::cerr << "alliance-webhook serve: " << error << "\n";
    return kExitUsage;
  }

  // The Kubernetes API is read when the cluster block asks for it: credentials are checked now,
  // so a bad kubeconfig stops the start-up instead of leaving the webhook unready for good.
  const bool readsCluster = config.cluster.watch || !config.cluster.secretName.empty();
  std::optional<kube::ClusterAccess> access;
  if (readsCluster) {
    kube::ClusterAccessResult found = clusterAccess(config.cluster, flags.get("kubeconfig"));
    if (!found.access) {
      std::cerr << "alliance-webhook serve: cluster: " << found.error << "\n";
      return kExitUsage;
    }
    access = std::move(found.access);
  } else if (flags.has("kubeconfig")) {
    log::warn(
        "--kubeconfig is ignored: the configuration reads nothing from the Kubernetes API "
        "(cluster.watch, cluster.clusterConfigurationSecret)");
  }

  Metrics metrics;
  State state;
  StateComposer composer(state);
  CertificateStore certs;
  metrics.setMode(std::string(modeName(config.mode)));
  metrics.setCertificateExpiry(pair->notAfter());
  certs.replace(std::move(pair));
  for (const std::string& note : config.notes) log::warn(note);
  const ClusterSettings cluster = config.cluster;
  const AuditSettings auditSettings = config.audit;
  composer.setConfig(std::move(config));

  std::unique_ptr<ClusterSync> sync;  // outlives the server, whose /metrics and /readyz read it
  std::unique_ptr<BackgroundAudit> audit;  // likewise for /audit and /metrics
  AdmissionServer server(options, composer, certs, metrics);
  if (access && cluster.watch && auditSettings.present) {
    server.setAuditSource([&audit] { return audit->lastRun(); });
  }
  if (!server.bind(error)) {
    std::cerr << "alliance-webhook serve: " << error << "\n";
    return kExitDenied;
  }
  if (access) {
    sync = std::make_unique<ClusterSync>(*access, cluster, composer, metrics);
    metrics.addSource([&sync](std::string& out) { sync->renderMetrics(out); });
    server.setReadiness([&sync] { return sync->waitingFor(); });
    sync->start();
    if (cluster.watch && auditSettings.present) {
      audit = std::make_unique<BackgroundAudit>(*access, auditSettings, composer,
                                                [&sync] { return sync->waitingFor(); });
      metrics.addSource([&audit](std::string& out) { audit->renderMetrics(out); });
      audit->start();
    }
  }
  std::atomic<bool> served{false};
  std::thread signalThread([&server, &options, &served, signals] {
    int sig = 0;
    sigwait(&signals, &sig);
    if (sig == 0 || served.load()) return;
    log::info("draining: /readyz answers 503; requests are served as before until the delay ends",
              {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"},
               {"shutdown_delay_ms", options.shutdownDelay.count()},
               {"shutdown_timeout_ms", options.shutdownTimeout.count()}});
    server.drain();
  });
  server.run();
  if (audit) audit->stop();
  if (sync) sync->stop();
  // If the server stopped on its own, wake the signal thread so it can be joined.
  served = true;
  // Not a way to end the thread: it waits in sigwait for exactly this signal, and returns.
  // NOLINTNEXTLINE(bugprone-bad-signal-to-kill-thread)
  pthread_kill(signalThread.native_handle(), SIGTERM);
  signalThread.join();
  log::info("stopped");
  return kExitOk;
}

}  // namespace aw::webhook
