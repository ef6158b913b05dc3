// Re-reads the configuration file (and the ClusterConfiguration file it names) when one changes
// on disk, on a thread of its own: a good new version replaces the snapshot's configuration, a
// bad one is refused with a log line and the old one stays in force.
#pragma once

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "webhook/state/state.h"
#include "webhook/telemetry/metrics.h"

namespace aw::webhook {

class ConfigReloader {
 public:
  // `auditOnly`: --audit-only, which every reloaded configuration keeps.
  ConfigReloader(std::filesystem::path file, bool auditOnly, StateComposer& composer,
                 Metrics& metrics, std::chrono::milliseconds interval = std::chrono::seconds(1));
  ~ConfigReloader();
  ConfigReloader(const ConfigReloader&) = delete;
  ConfigReloader& operator=(const ConfigReloader&) = delete;

  void start();
  void stop();  // returns when the thread has ended

 private:
  void loop();
  void reload();
  std::vector<std::filesystem::path> watchedFiles() const;

  std::filesystem::path file_;
  bool auditOnly_;
  StateComposer& composer_;
  Metrics& metrics_;
  std::chrono::milliseconds interval_;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
};

}  // namespace aw::webhook
