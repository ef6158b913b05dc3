#include "rules/member_object.h"

#include "common/json_view.h"

namespace aw::rules {

std::string subjectName(const Request& request) {
  const auto name = json::stringAt(request.object, {"metadata", "name"});
  return std::string(name && !name->empty() ? *name : request.name);
}

Member subjectMember(const Request& request, const Alliance& alliance) {
  const std::string name = subjectName(request);
  const KindId kind = request.kind->id;
  Member m = memberFromObject(kind, request.object, alliance.findConfigured(kind, name));
  if (m.name.empty()) {
    m.name = name;
    m.origin += name;
  }
  return m;
}

}  // namespace aw::rules
