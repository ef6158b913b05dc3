#include "webhook/http/direct_post.h"

#include <charconv>

#include "common/text.h"

namespace aw::webhook::http {

namespace {

bool containsIgnoreCase(std::string_view s, std::string_view lowerNeedle) {
  if (lowerNeedle.size() > s.size()) return false;
  for (std::size_t i = 0; i + lowerNeedle.size() <= s.size(); ++i) {
    if (equalsIgnoreAsciiCase(s.substr(i, lowerNeedle.size()), lowerNeedle)) return true;
  }
  return false;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The header fields whose value changes what httplib answers to a POST.
enum class Field { Connection, ContentEncoding, ContentType, Range, AcceptEncoding, Other };

Field fieldOf(std::string_view name) {
  if (equalsIgnoreAsciiCase(name, "Connection")) return Field::Connection;
  if (equalsIgnoreAsciiCase(name, "Content-Encoding")) return Field::ContentEncoding;
  if (equalsIgnoreAsciiCase(name, "Content-Type")) return Field::ContentType;
  if (equalsIgnoreAsciiCase(name, "Range")) return Field::Range;
  if (equalsIgnoreAsciiCase(name, "Accept-Encoding")) return Field::AcceptEncoding;
  return Field::Other;
}

// One field the lane can answer with; false sends the request to httplib. httplib drops a
// field with an empty value and reads the first of repeated ones; a repeated field that
// matters is left to it, and so is a value it would percent-decode.
bool acceptField(Field f, std::string_view value, unsigned& seen, DirectPost& post) {
  if (f == Field::Other || value.empty()) return true;
  const unsigned bit = 1U << static_cast<unsigned>(f);
  if ((seen & bit) != 0 || value.find('%') != std::string_view::npos) return false;
  seen |= bit;
  switch (f) {
    case Field::Connection:
      post.close = value == "close";  // httplib compares exactly
      return true;
    case Field::ContentEncoding:
      return value == "identity";  // others: 415 from the route, or httplib's decoding
    case Field::ContentType:
      return !containsIgnoreCase(value, "multipart");
    case Field::AcceptEncoding:
      // Whatever compression it offers, identity stays acceptable unless it is refused.
      return !containsIgnoreCase(value, "identity") && value.find('*') == std::string_view::npos;
    default:
      return false;  // Range: a partial answer
  }
}

}  // namespace

bool readDirectPost(std::string_view request, const RequestHead& head, DirectPost& post) {
  post = DirectPost{};
  if (head.body != BodyKind::Length || head.bytes > request.size() ||
      request.size() - head.bytes != head.contentLength) {
    return false;
  }
  constexpr std::string_view kMethod = "POST ";
  constexpr std::string_view kVersion = " HTTP/1.1\r\n";
  const auto lineEnd = request.find('\n');
  if (request.substr(0, kMethod.size()) != kMethod || lineEnd == std::string_view::npos ||
      lineEnd + 1 < kMethod.size() + kVersion.size() ||
      request.substr(lineEnd + 1 - kVersion.size(), kVersion.size()) != kVersion) {
    return false;
  }
  const std::string_view target =
      request.substr(kMethod.size(), lineEnd + 1 - kVersion.size() - kMethod.size());
  post.path = target.substr(0, target.find('?'));
  if (post.path.empty() || post.path.front() != '/' ||
      post.path.find_first_of("% ") != std::string_view::npos) {
    return false;
  }
  unsigned seen = 0;
  std::size_t pos = lineEnd + 1;
  while (pos + 2 < head.bytes) {  // the head's last line is the empty one
    const auto end = request.find("\r\n", pos);
    const std::string_view line = request.substr(pos, end - pos);
    pos = end + 2;
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;  // httplib skips it too
    if (!acceptField(fieldOf(line.substr(0, colon)), trim(line.substr(colon + 1)), seen, post)) {
      return false;
    }
  }
  post.body = request.substr(head.bytes);
  return true;
}

void appendResponse(std::string& out, int status, std::string_view contentType,
                    std::string_view body, bool close, const KeepAlive& keepAlive) {
  char number[24];
  const auto text = [&number](auto n) {
    const auto r = std::to_chars(number, number + sizeof number, n);
    return std::string_view(number, static_cast<std::size_t>(r.ptr - number));
  };
  out += "HTTP/1.1 ";
  out += text(status);
  out += ' ';
  out += statusText(status);
  out += "\r\n";
  if (close) out += "Connection: close\r\n";
  out += "Content-Length: ";
  out += text(body.size());
  out += "\r\nContent-Type: ";
  out += contentType;
  out += "\r\n";
  if (!close) {
    out += "Keep-Alive: timeout=";
    out += text(keepAlive.timeoutSeconds);
    out += ", max=";
    out += text(keepAlive.maxRequests);
    out += "\r\n";
  }
  out += "\r\n";
  out += body;
}

}  // namespace aw::webhook::http
