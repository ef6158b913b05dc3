// HTTP/1.1 request framing (RFC 9112) as the connection layer needs it: where a request's head
// ends, how long its body is, and whether it breaks a budget. Pure functions over bytes: the
// connection layer calls them on what it has buffered to decide when a request is complete, and
// cpp-httplib then parses the very same bytes. Anything the two could read differently (two
// lengths, a length and chunked, an unknown coding, a bare LF, a folded line, a space before a
// colon) is refused here, so they never disagree about where a request ends.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace aw::webhook::http {

struct Limits {
  std::size_t maxRequestLine = 8192;       // bytes with CRLF (httplib's own limit): 414 beyond
  std::size_t maxHeaderBytes = 64 * 1024;  // the header fields with their CRLFs: 431 beyond
  std::size_t maxHeaderFields = 100;       // 431 beyond
  std::size_t maxFieldLine = 8192;         // one field line with CRLF (httplib's limit): 431 beyond
  std::size_t maxBody = 8 * 1024 * 1024;   // above: 413 before the body is read
};

// A request the layer answers itself, then closes the connection.
struct Refusal {
  int status = 0;
  std::string message;  // for the error body; empty: the server's text for the status
};

enum class Parse { Incomplete, Complete, Refused };
enum class BodyKind { None, Length, Chunked };

struct RequestHead {
  std::size_t bytes = 0;  // request line + fields + the empty line
  BodyKind body = BodyKind::None;
  std::uint64_t contentLength = 0;  // BodyKind::Length; UINT64_MAX when it does not fit
  bool expectContinue = false;
};

// The number of empty lines (CRLF) before a request line, which RFC 9112 2.2 lets a server skip.
std::size_t leadingEmptyLines(std::string_view data);

// Parses the head at the front of `data`.
Parse parseHead(std::string_view data, const Limits& limits, RequestHead& head, Refusal& refusal);

// Walks a chunked body as its bytes arrive, remembering where it stopped.
class ChunkedScanner {
 public:
  // `body` starts at the body's first byte and holds every byte buffered so far.
  Parse scan(std::string_view body, const Limits& limits, Refusal& refusal);
  std::size_t end() const { return pos_; }  // once Complete: bytes of the chunked body
  std::uint64_t decoded() const { return decoded_; }
  bool overLimit(const Limits& limits) const { return decoded_ > limits.maxBody; }

 private:
  enum class Step { Size, Data, DataEnd, Trailer, Done };
  // One step each: nullopt to go on with the next step, else what scan() returns.
  std::optional<Parse> scanSize(std::string_view body, const Limits& limits, Refusal& refusal);
  std::optional<Parse> scanData(std::string_view body);
  std::optional<Parse> scanDataEnd(std::string_view body, Refusal& refusal);
  std::optional<Parse> scanTrailer(std::string_view body, const Limits& limits, Refusal& refusal);
  Step step_ = Step::Size;
  std::size_t pos_ = 0;
  std::uint64_t chunkLeft_ = 0;
  std::uint64_t decoded_ = 0;
  std::size_t trailerBytes_ = 0;
};

std::string_view statusText(int status);

}  // namespace aw::webhook::http
