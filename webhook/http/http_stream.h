// The seam to cpp-httplib: a Stream over one request that the connection layer has already
// buffered whole, and a Server that lets the layer run its process_request on it.
#pragma once

#include <httplib.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>

#include "webhook/http/http_framing.h"

namespace aw::webhook {

// Readable bytes after every POST body a PostHandler gets (webhook/http/server.h).
inline constexpr std::size_t kReadablePastBody = 64;

// cpp-httplib's router, parser and response writer, without its sockets and threads.
class HttpEngine : public httplib::Server {
 public:
  // Reads one request from `strm` (request line, headers, body) and writes its response.
  // `closeConnection`: the response says Connection: close. `connectionClosed` is set when the
  // request asked for that (Connection: close, HTTP/1.0 without keep-alive).
  using httplib::Server::process_request;

  // Answers a whole buffered request (`head` as the framing layer parsed it) without httplib,
  // appending the answer to `out`, when it can answer exactly as httplib would
  // (webhook/http/direct_post.h). False, or unset: process_request answers. At least
  // kReadablePastBody readable bytes follow `request`.
  using DirectLane = std::function<bool(std::string_view request, const http::RequestHead& head,
                                        bool closeConnection, std::string& out)>;
  DirectLane direct;
};

// One buffered request in, the response out. Reads never block and end where the request ends
// (httplib reads the request line a byte at a time, so a read is a copy from memory); writes are
// appended to `out`, which the layer sends with one write once process_request returns.
class BufferedStream final : public httplib::Stream {
 public:
  BufferedStream(std::string_view request, std::string& out, const std::string& peerIp,
                 int peerPort, const std::string& localIp, int localPort)
      : in_(request),
        out_(out),
        peerIp_(peerIp),
        peerPort_(peerPort),
        localIp_(localIp),
        localPort_(localPort) {}

  bool is_readable() const override { return pos_ < in_.size(); }
  bool is_writable() const override { return true; }
  ssize_t read(char* ptr, size_t size) override {
    const std::size_t n = std::min(size, in_.size() - pos_);
    if (n == 1) {
      *ptr = in_[pos_];
    } else if (n > 0) {
      std::memcpy(ptr, in_.data() + pos_, n);
    }
    pos_ += n;
    return static_cast<ssize_t>(n);
  }
  ssize_t write(const char* ptr, size_t size) override {
    out_.append(ptr, size);
    return static_cast<ssize_t>(size);
  }
  // From what accept() returned, never a getpeername/getsockname per request.
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = peerIp_;
    port = peerPort_;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip = localIp_;
    port = localPort_;
  }
  // No socket to poll or select: everything is in memory. A build of httplib that answers an
  // error when socket() >= FD_SETSIZE (select-based builds do) never sees a large number here.
  socket_t socket() const override { return -1; }

 private:
  std::string_view in_;
  std::size_t pos_ = 0;
  std::string& out_;
  const std::string& peerIp_;
  int peerPort_;
  const std::string& localIp_;
  int localPort_;
};

}  // namespace aw::webhook
