// A rule: its metadata and its pure check, and what the check is given: the alliance, its own
// options and a reporter that stamps the rule's id and configured action on every finding.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rules/engine/finding.h"
#include "rules/engine/options.h"
#include "rules/engine/request.h"
#include "rules/engine/shape.h"
#include "rules/model/alliance.h"
#include "rules/model/kinds.h"

namespace aw::rules {

class RuleContext;
using CheckFn = void (*)(const Request&, RuleContext&);

struct RuleInfo {
  std::string_view id;       // stable: service-port-names
  std::string_view summary;  // one line, for docs and --help
  std::vector<KindId> kinds;
  std::vector<OptionSpec> options;  // options[0] is always "action"
  bool mutating = false;            // true: produces a patch, served on /mutate
  std::vector<FieldShape> reads;    // the fields it reads and their JSON types
  CheckFn check = nullptr;
};

// What several rules derive from one request alike, made by the first rule that asks and kept
// for the others of the same run (see member_object.h).
struct Derived {
  std::optional<Subject> subject;
  std::optional<bool> publicService;  // a Service's (service_ports.h)
  // A Service's metadata.labels and spec.ports (service_ports.h), looked up once.
  std::optional<json::View> serviceLabels, servicePorts;
};

class RuleContext {
 public:
  // `derived`: shared by the rules of one run; without it, this rule's own.
  RuleContext(const RuleInfo& rule, const RuleOptions& options, const Alliance& alliance,
              Outcome& out, Derived* derived = nullptr)
      : rule_(rule),
        options_(options),
        alliance_(alliance),
        out_(out),
        first_(out.findings.size()),
        derived_(derived != nullptr ? derived : &own_) {}
  RuleContext(const RuleContext&) = delete;
  RuleContext& operator=(const RuleContext&) = delete;

  const Alliance& alliance() const { return alliance_; }
  Derived& derived() { return *derived_; }
  Action action(const ActionOption& option = kAction) const { return options_.action(option); }
  template <class E, std::size_t N>
  E choice(const ChoiceOption<E, N>& option) const {
    return options_.choice(option);
  }

  // A finding of this rule at `path`, with the action the configuration gives `option`; nothing
  // when that action is off.
  void report(std::string path, std::string message, const ActionOption& option = kAction);
  // JSONPatch operations (mutating rules), after those of the rules before.
  void patch(const Patch& operations) { out_.patch.append(operations); }
  // Keeps at most `max` of this rule's findings and sums up the rest in one finding at `path`
  // with the strongest of their actions: "and N more NOUN not listed: fix the ones above first".
  void keepAtMost(std::size_t max, std::string_view path, std::string_view noun);

 private:
  const RuleInfo& rule_;
  const RuleOptions& options_;
  const Alliance& alliance_;
  Outcome& out_;
  std::size_t first_;  // this rule's findings start here in out_.findings
  Derived own_;
  Derived* derived_;
};

}  // namespace aw::rules
