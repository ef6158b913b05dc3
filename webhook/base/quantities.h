// Sizes, durations and counts as people write them on a command line or in a configuration
// file. Each parser names the flag or key in its message.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace aw::webhook {

// "64Mi", "512Ki", "1Gi", "67108864" (bytes; K, M, G are powers of 1000). False with a message
// naming the flag.
bool parseByteSize(const std::string& flag, const std::string& value, std::size_t& out,
                   std::string& error);
// "5s", "500ms", "1m", "1.5s", "0s". False with a message naming the flag.
bool parseDuration(const std::string& flag, const std::string& value,
                   std::chrono::milliseconds& out, std::string& error);
// A whole number from `min` to `max`. False with a message naming the flag.
bool parseCount(const std::string& flag, const std::string& value, std::size_t min, std::size_t max,
                std::size_t& out, std::string& error);

}  // namespace aw::webhook
