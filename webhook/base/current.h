// The value in force of something replaced as a whole (a configuration snapshot, a certificate):
// readers take a reference-counted pointer and keep it for as long as they use it, so a
// replacement never pulls anything out from under a request in flight.
#pragma once

#include <memory>
#include <mutex>

namespace aw::webhook {

template <class T>
class Current {
 public:
  std::shared_ptr<const T> current() const {
    std::lock_guard lock(mutex_);
    return value_;
  }
  void replace(std::shared_ptr<const T> next) {
    std::lock_guard lock(mutex_);
    value_ = std::move(next);
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const T> value_;
};

}  // namespace aw::webhook
