#include "webhook/telemetry/prometheus.h"

#include <cstdio>

namespace aw::webhook {

namespace {

void appendLabelValue(std::string& out, std::string_view v) {
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

}  // namespace

std::string labelValue(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  appendLabelValue(out, v);
  return out;
}

std::string labelSet(std::initializer_list<Label> labels) {
  std::string out;
  appendLabelSet(out, labels);
  return out;
}

void appendLabelSet(std::string& out, std::initializer_list<Label> labels) {
  const std::size_t start = out.size();
  for (const auto& [name, value] : labels) {
    if (out.size() > start) out += ',';
    out += name;
    out += "=\"";
    appendLabelValue(out, value);
    out += '"';
  }
}

void PrometheusWriter::family(std::string_view name, std::string_view type, std::string_view help) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  out_ += help;
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void PrometheusWriter::sample(std::string_view name, std::string_view labels,
                              std::string_view value) {
  out_ += name;
  if (!labels.empty()) {
    out_ += '{';
    out_ += labels;
    out_ += '}';
  }
  out_ += ' ';
  out_ += value;
  out_ += '\n';
}

void PrometheusWriter::sample(std::string_view name, std::string_view labels,
                              unsigned long long value) {
  sample(name, labels, std::to_string(value));
}

std::string PrometheusWriter::number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

}  // namespace aw::webhook
