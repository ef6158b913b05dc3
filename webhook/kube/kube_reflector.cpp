#include "webhook/kube/kube_reflector.h"

#include "common/text.h"
#include "webhook/kube/kube_list.h"
#include "webhook/telemetry/log.h"

namespace aw::webhook::kube {

namespace {

using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

}  // namespace

Reflector::Reflector(const Client& client, ReflectorOptions options, ReflectorSink& sink,
                     RestartCallback onRestart)
    : client_(client),
      options_(std::move(options)),
      sink_(sink),
      onRestart_(std::move(onRestart)),
      random_(std::random_device{}()) {}

Reflector::~Reflector() {
  stop();
}

void Reflector::start() {
  thread_ = std::thread([this] { run(); });
}

void Reflector::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  interrupt_.fire();
  if (thread_.joinable()) thread_.join();
}

ReflectorStatus Reflector::status() const {
  std::lock_guard lock(mutex_);
  return status_;
}

bool Reflector::sleepFor(std::chrono::milliseconds d) {
  std::unique_lock lock(mutex_);
  wake_.wait_for(lock, d, [this] { return stopping_; });
  return !stopping_;
}

std::chrono::milliseconds Reflector::nextBackoff() {
  backoff_ =
      backoff_.count() == 0 ? options_.backoffInitial : std::min(backoff_ * 2, options_.backoffMax);
  // "Equal jitter": between half the step and the whole of it, so replicas spread out but a
  // wait never collapses to nothing.
  std::uniform_int_distribution<long long> jitter(backoff_.count() / 2, backoff_.count());
  return std::chrono::milliseconds(jitter(random_));
}

void Reflector::failed(const std::string& what) {
  {
    std::lock_guard lock(mutex_);
    status_.lastError = what;
  }
  log::warn("cluster state: " + options_.resource + ": " + what);
}

void Reflector::touched(bool listed) {
  std::lock_guard lock(mutex_);
  status_.lastSync = Clock::now();
  status_.lastError.clear();
  if (listed) status_.synced = true;
}

Reflector::ListOutcome Reflector::listOnce() {
  ListResult listed =
      options_.objectName.empty()
          ? listAll(client_, options_.collection,
                    {options_.labelSelector, options_.pageSize, options_.listTimeout}, &interrupt_)
          : getNamed(client_, options_.collection, options_.objectName, options_.listTimeout,
                     &interrupt_);
  switch (listed.outcome) {
    case ListResult::Outcome::Canceled:
      return ListOutcome::Failed;
    case ListResult::Outcome::Failed:
      failed(listed.error);
      return ListOutcome::Failed;
    case ListResult::Outcome::Absent:
    case ListResult::Outcome::Listed:
      break;
  }
  const bool absent = listed.outcome == ListResult::Outcome::Absent;
  resourceVersion_ = listed.resourceVersion;
  {
    std::lock_guard lock(mutex_);
    // Only a collection can be absent; the one named object's absence is an empty list.
    if (options_.objectName.empty()) status_.absent = absent;
  }
  sink_.replace(std::move(listed.items));
  touched(true);
  return absent ? ListOutcome::Absent : ListOutcome::Listed;
}

bool Reflector::handleLine(std::string_view line, std::vector<WatchEvent>& batch, WatchEnd& end) {
  if (line.find_first_not_of(" \t\r") == std::string_view::npos) return true;
  Json event = Json::parse(line, nullptr, false);
  const std::string* type = event.is_object() ? stringAt(event, {"type"}) : nullptr;
  const Json* object = type != nullptr && event.contains("object") ? &event["object"] : nullptr;
  if (object == nullptr || !object->is_object()) {
    end = WatchEnd::Malformed;
    failed("watch: malformed event (" + std::to_string(line.size()) +
           " bytes): " + std::string(line.substr(0, 120)));
    return false;
  }
  if (*type == "ERROR") {
    const Status s = parseStatus(object->dump());
    if (s.code == 410) {
      end = WatchEnd::Expired;
      return false;
    }
    end = WatchEnd::Error;
    failed("watch: the server sent an error: " + std::to_string(s.code) + " " + s.reason + ": " +
           s.message);
    return false;
  }
  const std::string* rv = stringAt(*object, {"metadata", "resourceVersion"});
  if (rv == nullptr || rv->empty()) {
    end = WatchEnd::Malformed;
    failed("watch: " + *type + " event without metadata.resourceVersion");
    return false;
  }
  if (*type == "BOOKMARK") {
    resourceVersion_ = *rv;
    touched(false);
    return true;
  }
  WatchEvent e;
  if (*type == "ADDED") {
    e.type = WatchEvent::Type::Added;
  } else if (*type == "MODIFIED") {
    e.type = WatchEvent::Type::Modified;
  } else if (*type == "DELETED") {
    e.type = WatchEvent::Type::Deleted;
  } else {
    end = WatchEnd::Malformed;
    failed("watch: unknown event type " + aw::quote(type->substr(0, 40)));
    return false;
  }
  resourceVersion_ = *rv;
  e.object = std::move(event["object"]);
  batch.push_back(std::move(e));
  return true;
}

std::string Reflector::watchTarget(std::chrono::seconds timeout) const {
  std::string target =
      options_.collection +
      "?watch=true&allowWatchBookmarks=true&timeoutSeconds=" + std::to_string(timeout.count());
  if (!resourceVersion_.empty()) target += "&resourceVersion=" + escapeQuery(resourceVersion_);
  if (!options_.objectName.empty()) {
    target += "&fieldSelector=" + escapeQuery("metadata.name=" + options_.objectName);
  }
  if (!options_.labelSelector.empty()) {
    target += "&labelSelector=" + escapeQuery(options_.labelSelector);
  }
  return target;
}

bool Reflector::receive(std::string_view data, std::string& buffer, std::optional<WatchEnd>& end) {
  buffer.append(data);
  std::vector<WatchEvent> batch;
  std::size_t start = 0;
  WatchEnd lineEnd = WatchEnd::Closed;
  bool go = true;
  for (std::size_t nl; go && (nl = buffer.find('\n', start)) != std::string::npos; start = nl + 1) {
    go = handleLine(std::string_view(buffer).substr(start, nl - start), batch, lineEnd);
  }
  buffer.erase(0, start);
  // Events read before a bad line are good: apply them, and resume after them.
  if (!batch.empty()) {
    sink_.apply(std::move(batch));
    touched(false);
  }
  if (!go) {
    end = lineEnd;
    return false;
  }
  if (buffer.size() > options_.maxEventBytes) {
    end = WatchEnd::Malformed;
    failed("watch: an event line exceeds " + std::to_string(options_.maxEventBytes) + " bytes");
    return false;
  }
  return true;
}

Reflector::WatchEnd Reflector::watchOnce() {
  std::uniform_int_distribution<long long> spread(0, options_.watchTimeout.count());
  const std::chrono::seconds timeout =
      options_.watchTimeout + std::chrono::seconds(spread(random_));
  std::string buffer;
  std::optional<WatchEnd> end;
  const Response r = client_.stream(
      watchTarget(timeout), timeout + options_.readSlack,
      [&](std::string_view data) { return receive(data, buffer, end); }, &interrupt_);

  if (interrupt_.fired()) return WatchEnd::Stopped;
  if (end) return *end;
  if (!r.error.empty()) {
    failed("watch: " + r.error);
    return WatchEnd::Disconnected;
  }
  if (r.status == 410) return WatchEnd::Expired;
  if (r.status != 200) {
    failed("WATCH " + options_.collection + ": " + describeFailure(r));
    return WatchEnd::Error;
  }
  return WatchEnd::Closed;
}

void Reflector::run() {
  const auto restarted = [this](const char* reason) {
    if (onRestart_) onRestart_(options_.resource, reason);
  };
  bool lastExpiredEarly = false;
  while (true) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
    }
    const ListOutcome listed = listOnce();
    if (listed == ListOutcome::Failed) {
      if (!sleepFor(nextBackoff())) return;
      continue;
    }
    if (listed == ListOutcome::Absent) {
      log::info("cluster state: " + options_.resource + ": " + options_.collection +
                " does not exist (404; is its CustomResourceDefinition installed?): no objects "
                "of it; looking again in " +
                std::to_string(options_.absentRetry.count() / 1000) + " s");
      if (!sleepFor(options_.absentRetry)) return;
      continue;
    }
    log::info("cluster state: " + options_.resource + ": listed",
              {{"resourceVersion", resourceVersion_}});

    while (true) {
      const auto started = Clock::now();
      const auto syncBefore = status().lastSync;
      const WatchEnd end = watchOnce();
      if (end == WatchEnd::Stopped) return;
      const bool lived =
          Clock::now() - started > std::chrono::seconds(1) || status().lastSync != syncBefore;
      if (lived) backoff_ = std::chrono::milliseconds(0);
      if (end == WatchEnd::Expired) {
        restarted("expired");
        log::info("cluster state: " + options_.resource + ": resourceVersion " + resourceVersion_ +
                  " expired (410); listing again");
        // A list followed at once by another expiry means the server compacts faster than we
        // read: wait before the next round.
        if (lastExpiredEarly && !lived && !sleepFor(nextBackoff())) return;
        lastExpiredEarly = !lived;
        break;
      }
      lastExpiredEarly = false;
      if (end == WatchEnd::Closed) {
        restarted("closed");
        // The server ended the watch at its timeout, as it should; one that ends at once and
        // says nothing is a fault, and must not turn into a tight loop.
        if (!lived && !sleepFor(nextBackoff())) return;
        continue;
      }
      restarted(end == WatchEnd::Disconnected ? "disconnected"
                : end == WatchEnd::Malformed  ? "malformed"
                                              : "error");
      if (!sleepFor(nextBackoff())) return;
      if (end == WatchEnd::Error) break;  // a refused watch (403, 404, 500): list again
    }
  }
}

}  // namespace aw::webhook::kube
