#include "rules/member_object.h"

#include "common/json_path.h"

namespace aw::rules {

std::string subjectName(const Request& request) {
  const std::string* name = json::string(json::at(request.object, {"metadata", "name"}));
  return name != nullptr && !name->empty() ? *name : request.name;
}

Member subjectMember(const Request& request, const Alliance& alliance) {
  const std::string name = subjectName(request);
  const KindId kind = request.kind->id;
  Member m = memberFromObject(kind, *request.object, alliance.findConfigured(kind, name));
  if (m.name.empty()) {
    m.name = name;
    m.origin += name;
  }
  return m;
}

}  // namespace aw::rules
