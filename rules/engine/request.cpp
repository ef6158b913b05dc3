#include "rules/engine/request.h"

namespace aw::rules {

std::string_view operationName(Operation op) {
  switch (op) {
    case Operation::Create:
      return "CREATE";
    case Operation::Update:
      return "UPDATE";
    case Operation::Delete:
      return "DELETE";
    case Operation::Connect:
      return "CONNECT";
  }
  return "CREATE";
}

}  // namespace aw::rules
