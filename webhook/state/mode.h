// The webhook's mode: enforce, or audit (nothing denied; would-be denials become warnings).
#pragma once

#include <string_view>

namespace aw::webhook {

enum class Mode { Enforce, Audit };

constexpr std::string_view modeName(Mode m) {
  return m == Mode::Audit ? "audit" : "enforce";
}

}  // namespace aw::webhook
