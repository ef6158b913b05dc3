#include "rules/member_object.h"

#include "common/json_view.h"

namespace aw::rules {

std::string_view subjectName(const Request& request) {
  const auto name = json::stringAt(request.object, {"metadata", "name"});
  return name && !name->empty() ? *name : request.name;
}

const Subject& subjectMember(const Request& request, RuleContext& rule) {
  std::optional<Subject>& subject = rule.derived().subject;
  if (subject) return *subject;
  const std::string_view name = subjectName(request);
  const KindId kind = request.kind->id;
  subject = readSubject(kind, request.object, rule.alliance().findConfigured(kind, name));
  subject->name = name;
  return *subject;
}

}  // namespace aw::rules
