#include "webhook/state/config_reload.h"

#include "webhook/base/file_watch.h"
#include "webhook/telemetry/log.h"

namespace aw::webhook {

ConfigReloader::ConfigReloader(std::filesystem::path file, bool auditOnly, StateComposer& composer,
                               Metrics& metrics, std::chrono::milliseconds interval)
    : file_(std::move(file)),
      auditOnly_(auditOnly),
      composer_(composer),
      metrics_(metrics),
      interval_(interval) {}

ConfigReloader::~ConfigReloader() {
  stop();
}

void ConfigReloader::start() {
  thread_ = std::thread([this] { loop(); });
}

void ConfigReloader::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

// The files the configuration in force was read from (config.yaml and the ClusterConfiguration
// file it names), or the configuration file alone.
std::vector<std::filesystem::path> ConfigReloader::watchedFiles() const {
  const auto snapshot = composer_.state().current();
  std::vector<std::filesystem::path> files;
  if (snapshot) files = snapshot->config.sources;
  if (files.empty()) files.push_back(file_);
  return files;
}

void ConfigReloader::reload() {
  ConfigResult loaded = loadConfig(file_);
  if (!loaded.config) {
    metrics_.reload("config", false);
    log::error("configuration reload refused; the previous configuration stays in force",
               {{"error", loaded.error}});
    return;
  }
  if (auditOnly_) loaded.config->mode = Mode::Audit;
  const auto current = composer_.state().current();
  if (current && !(loaded.config->cluster == current->config.cluster)) {
    // The watches and their credentials are set up once: say so rather than pretend.
    log::warn(
        "the cluster block changed; restart the webhook to apply it (the rest of the "
        "configuration is reloaded)");
  }
  metrics_.setMode(std::string(modeName(loaded.config->mode)));
  const std::string mode(modeName(loaded.config->mode));
  composer_.setConfig(std::move(*loaded.config));
  metrics_.reload("config", true);
  log::info("configuration reloaded", {{"file", file_.string()}, {"mode", mode}});
}

void ConfigReloader::loop() {
  std::vector<std::filesystem::path> files = watchedFiles();
  FileWatch watch(files);
  std::unique_lock lock(mutex_);
  while (!cv_.wait_for(lock, interval_, [this] { return stopping_; })) {
    lock.unlock();
    if (watch.changed()) {
      reload();
      if (std::vector<std::filesystem::path> now = watchedFiles(); now != files) {
        files = std::move(now);
        watch.reset(files);
      }
    }
    lock.lock();
  }
}

}  // namespace aw::webhook
