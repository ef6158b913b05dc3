// Quoting user-written values into finding messages: a message must stay one readable line and
// never contain "; " (the separator of joined findings), whatever the user wrote.
#pragma once

#include <string>
#include <string_view>

namespace aw::rules {

// "value" in double quotes; quotes and backslashes escaped, control and non-ASCII bytes as
// \xNN, a space after ';' as \x20, and values longer than 64 bytes shortened with "...".
std::string quoteValue(std::string_view value);

}  // namespace aw::rules
