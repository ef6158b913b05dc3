// The one writer of the Prometheus text exposition (version 0.0.4) that every metric source
// uses: a family's HELP and TYPE lines, label sets with their values escaped, sample lines.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace aw::webhook {

// Escapes a Prometheus label value (backslash, double quote, line feed).
std::string labelValue(std::string_view v);

// `name="value",...` with every value escaped, for a sample's braces (or a map key).
using Label = std::pair<std::string_view, std::string_view>;
std::string labelSet(std::initializer_list<Label> labels);
// The same appended to `out` (a buffer kept between calls allocates nothing once large enough).
void appendLabelSet(std::string& out, std::initializer_list<Label> labels);

class PrometheusWriter {
 public:
  explicit PrometheusWriter(std::string& out) : out_(out) {}

  // "# HELP name help" and "# TYPE name type", once per family before its samples.
  void family(std::string_view name, std::string_view type, std::string_view help);
  // "name{labels} value", or "name value" when `labels` (from labelSet) is empty.
  void sample(std::string_view name, std::string_view labels, std::string_view value);
  void sample(std::string_view name, std::string_view labels, unsigned long long value);

  // A floating-point sample value as the metrics write it (%.9g).
  static std::string number(double v);

 private:
  std::string& out_;
};

}  // namespace aw::webhook
