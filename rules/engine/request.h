// The admission request as the rules see it: no HTTP, no AdmissionReview envelope.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "rules/model/kinds.h"

namespace aw::rules {

enum class Operation { Create, Update, Delete, Connect };

std::string_view operationName(Operation op);  // "CREATE", ...

struct Request {
  const KindInfo* kind = nullptr;  // nullptr: not a kind the webhook checks
  std::string version;
  Operation operation = Operation::Create;
  std::string name;
  std::string namespace_;
  const nlohmann::json* object = nullptr;     // the new object (CREATE, UPDATE)
  const nlohmann::json* oldObject = nullptr;  // the old object (UPDATE, DELETE)
};

}  // namespace aw::rules
