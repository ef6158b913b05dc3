#include "webhook/http/http_framing.h"

#include <array>
#include <limits>
#include <optional>

namespace aw::webhook::http {

namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The methods cpp-httplib 0.11.4 accepts (Server::parse_request_line).
bool knownMethod(std::string_view m) {
  static constexpr std::array<std::string_view, 10> kMethods = {
      "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "PRI"};
  for (std::string_view k : kMethods) {
    if (m == k) return true;
  }
  return false;
}

Parse refuse(Refusal& r, int status, std::string message) {
  r.status = status;
  r.message = std::move(message);
  return Parse::Refused;
}

// "METHOD SP TARGET SP HTTP/1.x", without CRLF.
bool validRequestLine(std::string_view line, bool& http10) {
  const auto sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return false;
  const auto sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) {
    return false;
  }
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (!knownMethod(method) || target.empty()) return false;
  for (unsigned char c : target) {
    if (c <= 0x20 || c == 0x7f) return false;
  }
  if (version == "HTTP/1.1") {
    http10 = false;
    return true;
  }
  if (version == "HTTP/1.0") {
    http10 = true;
    return true;
  }
  return false;
}

// A Content-Length value: one number, or a list of the same number (RFC 9110 8.6).
// False when malformed or when the list disagrees; UINT64_MAX when it does not fit.
bool contentLength(std::string_view value, std::uint64_t& out, bool& seen) {
  while (true) {
    const auto comma = value.find(',');
    const std::string_view item = trim(value.substr(0, comma));
    if (item.empty()) return false;
    std::uint64_t n = 0;
    for (char c : item) {
      if (c < '0' || c > '9') return false;
      const std::uint64_t digit = static_cast<std::uint64_t>(c - '0');
      n = n > (std::numeric_limits<std::uint64_t>::max() - digit) / 10
              ? std::numeric_limits<std::uint64_t>::max()
              : n * 10 + digit;
    }
    if (seen && n != out) return false;
    out = n;
    seen = true;
    if (comma == std::string_view::npos) return true;
    value.remove_prefix(comma + 1);
  }
}

}  // namespace

std::size_t leadingEmptyLines(std::string_view data) {
  std::size_t n = 0;
  while (data.size() >= n + 2 && data[n] == '\r' && data[n + 1] == '\n') n += 2;
  return n;
}

namespace {

// What the header fields say about the body, gathered line by line.
struct BodyFields {
  bool haveLength = false;
  bool haveCoding = false;
  std::string codings;
};

// One header line (without CRLF, not empty). Complete when accepted.
Parse headerField(std::string_view line, RequestHead& head, BodyFields& body, Refusal& refusal) {
  if (line.front() == ' ' || line.front() == '\t') {
    return refuse(refusal, 400, "a folded header line (obs-fold) is not accepted");
  }
  if (line.find_first_of(std::string_view("\r\0", 2)) != std::string_view::npos) {
    return refuse(refusal, 400, "a header line holds a CR or NUL byte");
  }
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) return Parse::Complete;  // httplib skips it; so do we
  const std::string_view name = line.substr(0, colon);
  if (name.empty() || name.find_first_of(" \t") != std::string_view::npos) {
    return refuse(refusal, 400, "malformed header field name");
  }
  const std::string_view value = trim(line.substr(colon + 1));
  if (iequals(name, "Content-Length")) {
    if (!contentLength(value, head.contentLength, body.haveLength)) {
      return refuse(refusal, 400, "Content-Length is not one number (two different lengths?)");
    }
  } else if (iequals(name, "Transfer-Encoding")) {
    if (!body.codings.empty()) body.codings += ',';
    body.codings.append(value);
    body.haveCoding = true;
  } else if (iequals(name, "Expect")) {
    head.expectContinue = iequals(value, "100-continue");
  }
  return Parse::Complete;
}

// How the body is framed, once every field is read.
Parse bodyKind(const BodyFields& body, bool http10, RequestHead& head, Refusal& refusal) {
  if (body.haveCoding) {
    if (body.haveLength) {
      return refuse(refusal, 400, "Content-Length and Transfer-Encoding together");
    }
    if (http10) return refuse(refusal, 400, "Transfer-Encoding in an HTTP/1.0 request");
    if (!iequals(trim(body.codings), "chunked")) {
      return refuse(refusal, 400,
                    "Transfer-Encoding " + body.codings +
                        " is not supported; send chunked or a Content-Length");
    }
    head.body = BodyKind::Chunked;
  } else if (body.haveLength && head.contentLength > 0) {
    head.body = BodyKind::Length;
  }
  return Parse::Complete;
}

}  // namespace

Parse parseHead(std::string_view data, const Limits& limits, RequestHead& head, Refusal& refusal) {
  head = RequestHead{};
  const auto lineEnd = data.find('\n');
  if (lineEnd == std::string_view::npos) {
    if (data.size() >= limits.maxRequestLine) return refuse(refusal, 414, "");
    return Parse::Incomplete;
  }
  if (lineEnd + 1 > limits.maxRequestLine) return refuse(refusal, 414, "");
  bool http10 = false;
  if (lineEnd == 0 || data[lineEnd - 1] != '\r' ||
      !validRequestLine(data.substr(0, lineEnd - 1), http10)) {
    return refuse(refusal, 400, "malformed request line; expected METHOD /path HTTP/1.1");
  }
  constexpr std::string_view kTooLarge = "request header fields exceed 64 KiB or 100 fields";
  BodyFields body;
  std::size_t pos = lineEnd + 1, fields = 0;
  while (true) {
    const std::size_t used = pos - (lineEnd + 1);
    const auto end = data.find('\n', pos);
    if (end == std::string_view::npos) {
      // Refuse as soon as what is buffered cannot fit, not once the client stops sending.
      if (data.size() - pos >= limits.maxFieldLine ||
          data.size() - (lineEnd + 1) > limits.maxHeaderBytes) {
        return refuse(refusal, 431, std::string(kTooLarge));
      }
      return Parse::Incomplete;
    }
    const std::size_t lineBytes = end + 1 - pos;
    if (lineBytes > limits.maxFieldLine || used + lineBytes > limits.maxHeaderBytes) {
      return refuse(refusal, 431, std::string(kTooLarge));
    }
    if (end == pos || data[end - 1] != '\r') {
      return refuse(refusal, 400, "a header line ends without CRLF");
    }
    const std::string_view line = data.substr(pos, end - 1 - pos);
    pos = end + 1;
    if (line.empty()) break;  // the end of the head
    if (++fields > limits.maxHeaderFields) return refuse(refusal, 431, std::string(kTooLarge));
    if (headerField(line, head, body, refusal) != Parse::Complete) return Parse::Refused;
  }
  head.bytes = pos;
  return bodyKind(body, http10, head, refusal);
}

Parse ChunkedScanner::scan(std::string_view body, const Limits& limits, Refusal& refusal) {
  while (true) {
    std::optional<Parse> stop;
    switch (step_) {
      case Step::Size:
        stop = scanSize(body, limits, refusal);
        break;
      case Step::Data:
        stop = scanData(body);
        break;
      case Step::DataEnd:
        stop = scanDataEnd(body, refusal);
        break;
      case Step::Trailer:
        stop = scanTrailer(body, limits, refusal);
        break;
      case Step::Done:
        return Parse::Complete;
    }
    if (stop) return *stop;
  }
}

std::optional<Parse> ChunkedScanner::scanSize(std::string_view body, const Limits& limits,
                                              Refusal& refusal) {
  constexpr std::size_t kMaxSizeLine = 1024;  // hex digits and chunk extensions
  const auto end = body.find('\n', pos_);
  if (end == std::string_view::npos) {
    if (body.size() - pos_ > kMaxSizeLine) {
      return refuse(refusal, 400, "a chunk-size line is too long");
    }
    return Parse::Incomplete;
  }
  if (end - pos_ > kMaxSizeLine || end == pos_ || body[end - 1] != '\r') {
    return refuse(refusal, 400, "malformed chunk-size line");
  }
  const std::string_view line = body.substr(pos_, end - 1 - pos_);
  std::size_t i = 0;
  std::uint64_t size = 0;
  for (; i < line.size(); ++i) {
    const char c = line[i];
    int v = -1;
    if (c >= '0' && c <= '9') v = c - '0';
    if (c >= 'a' && c <= 'f') v = c - 'a' + 10;
    if (c >= 'A' && c <= 'F') v = c - 'A' + 10;
    if (v < 0) break;
    if (i >= 15) return refuse(refusal, 400, "chunk size too large");
    size = size * 16 + static_cast<std::uint64_t>(v);
  }
  const std::string_view rest = trim(line.substr(i));
  if (i == 0 || (!rest.empty() && rest.front() != ';')) {
    return refuse(refusal, 400, "malformed chunk size");
  }
  pos_ = end + 1;
  decoded_ += size;
  if (size == 0) {
    step_ = Step::Trailer;
  } else {
    chunkLeft_ = size;
    step_ = Step::Data;
  }
  if (overLimit(limits)) return Parse::Incomplete;  // the caller hands it over as it is
  return std::nullopt;
}

std::optional<Parse> ChunkedScanner::scanData(std::string_view body) {
  const std::uint64_t have = body.size() - pos_;
  if (have < chunkLeft_) {
    chunkLeft_ -= have;
    pos_ = body.size();
    return Parse::Incomplete;
  }
  pos_ += static_cast<std::size_t>(chunkLeft_);
  chunkLeft_ = 0;
  step_ = Step::DataEnd;
  return std::nullopt;
}

std::optional<Parse> ChunkedScanner::scanDataEnd(std::string_view body, Refusal& refusal) {
  if (body.size() - pos_ < 2) return Parse::Incomplete;
  if (body[pos_] != '\r' || body[pos_ + 1] != '\n') {
    return refuse(refusal, 400, "chunk data is not followed by CRLF");
  }
  pos_ += 2;
  step_ = Step::Size;
  return std::nullopt;
}

std::optional<Parse> ChunkedScanner::scanTrailer(std::string_view body, const Limits& limits,
                                                 Refusal& refusal) {
  const auto end = body.find('\n', pos_);
  if (end == std::string_view::npos) {
    if (trailerBytes_ + (body.size() - pos_) > limits.maxHeaderBytes) {
      return refuse(refusal, 431, "trailer fields exceed 64 KiB");
    }
    return Parse::Incomplete;
  }
  trailerBytes_ += end + 1 - pos_;
  if (trailerBytes_ > limits.maxHeaderBytes) {
    return refuse(refusal, 431, "trailer fields exceed 64 KiB");
  }
  if (end == pos_ || body[end - 1] != '\r') {
    return refuse(refusal, 400, "a trailer line ends without CRLF");
  }
  const bool last = end == pos_ + 1;
  pos_ = end + 1;
  if (!last) return std::nullopt;
  step_ = Step::Done;
  return Parse::Complete;
}

std::string_view statusText(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 413:
      return "Payload Too Large";
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Error";
  }
}

}  // namespace aw::webhook::http
