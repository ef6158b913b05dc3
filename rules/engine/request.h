// The admission request as the rules see it: no HTTP, no AdmissionReview envelope.
#pragma once

#include <string>
#include <string_view>

#include "common/json_view.h"
#include "rules/model/kinds.h"

namespace aw::rules {

enum class Operation { Create, Update, Delete, Connect };

std::string_view operationName(Operation op);  // "CREATE", ...

struct Request {
  const KindInfo* kind = nullptr;  // nullptr: not a kind the webhook checks
  // Views, like the objects: into the review or the caller's strings.
  std::string_view version;
  Operation operation = Operation::Create;
  std::string_view name;
  std::string_view namespace_;
  // Views into a document the caller keeps alive; absent when the review has none.
  json::View object;     // the new object (CREATE, UPDATE)
  json::View oldObject;  // the old object (UPDATE, DELETE)
};

}  // namespace aw::rules
