#include "webhook/http/connection_server.h"

#include <arpa/inet.h>
#include <malloc.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include "webhook/http/connection.h"
#include "webhook/telemetry/log.h"

namespace aw::webhook {

namespace {

constexpr std::uint32_t kWakeToken = 0xffffffffu;
constexpr std::uint32_t kListenerBase = 0xffffff00u;
// What a connection may buffer without taking from the body budget: a normal request whole.
constexpr std::size_t kFreeBytes = 16 * 1024;
constexpr std::size_t kReadChunk = 16 * 1024;          // one TLS record
constexpr std::size_t kBudgetStep = 256 * 1024;        // taken at a time for a chunked body
constexpr std::size_t kMaxReadPerEvent = 1024 * 1024;  // then other connections get a turn
constexpr std::size_t kBigRequest = 1024 * 1024;       // memory given back after one of these
// Large requests run at most this many at a time, whatever the number of workers: decoding
// 7 MiB of JSON takes up to ~70 MiB, so this (with the body budget) bounds the peak memory.
constexpr int kBigTurns = 2;
constexpr std::chrono::milliseconds kTick{100};

std::uint64_t token(std::uint32_t index, std::uint32_t gen) {
  return (static_cast<std::uint64_t>(gen) << 32) | index;
}

thread_local char tScratch[kReadChunk];

class BodyBudget {
 public:
  explicit BodyBudget(std::size_t cap) : cap_(cap) {}
  bool take(std::size_t n) {
    std::size_t cur = used_.load(std::memory_order_relaxed);
    do {
      if (n > cap_ || cur > cap_ - n) return false;
    } while (!used_.compare_exchange_weak(cur, cur + n, std::memory_order_relaxed));
    return true;
  }
  void give(std::size_t n) { used_.fetch_sub(n, std::memory_order_relaxed); }
  std::size_t used() const { return used_.load(std::memory_order_relaxed); }

 private:
  std::size_t cap_;
  std::atomic<std::size_t> used_{0};
};

struct Listener {
  std::mutex mu;  // held while accepting, and to close it
  int fd = -1;
  std::string flag;
  SSL_CTX* tls = nullptr;
  HttpEngine* engine = nullptr;
  std::string localIp;
  int localPort = 0;
  std::size_t max = 0;
  std::atomic<std::size_t> open{0};
  std::atomic<bool> paused{false};  // at its connection cap, or out of descriptors: not armed
  bool closed = false;              // under mu
  bool warnedAcceptError = false;   // under mu
};

// Whether the response at the front of `out` says Connection: close (set by httplib for a
// request that asked, or by a handler refusing a body it left unread).
bool responseCloses(const std::string& out) {
  const auto headEnd = out.find("\r\n\r\n");
  const std::string_view head(out.data(), headEnd == std::string::npos ? out.size() : headEnd);
  std::size_t pos = 0;
  while ((pos = head.find("\r\n", pos)) != std::string_view::npos) {
    pos += 2;
    std::string_view line = head.substr(pos, head.find("\r\n", pos) - pos);
    if (line.size() < 11 || strncasecmp(line.data(), "connection:", 11) != 0) continue;
    line.remove_prefix(11);
    while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
    if (line.size() >= 5 && strncasecmp(line.data(), "close", 5) == 0) return true;
  }
  return false;
}

std::string formatPeer(const sockaddr_storage& sa, int& port) {
  char buf[INET6_ADDRSTRLEN] = "";
  if (sa.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&sa);
    inet_ntop(AF_INET, &a->sin_addr, buf, sizeof buf);
    port = ntohs(a->sin_port);
  } else if (sa.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&sa);
    inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof buf);
    port = ntohs(a->sin6_port);
  }
  return buf;
}

}  // namespace

struct ConnectionServer::Impl {
  ConnectionLimits limits;
  ErrorBodyFn errorBody;
  BodyBudget budget;
  int ep = -1;
  int wakeFd = -1;
  std::vector<std::unique_ptr<Listener>> listeners;
  SlotTable slots;  // grows under freeMu
  std::mutex freeMu;
  std::vector<std::uint32_t> freeSlots;   // closed slots, taken before new ones
  std::atomic<std::size_t> highWater{0};  // slots [0, highWater) have been used
  std::atomic<std::size_t> open{0};
  std::atomic<int> budgetWaiters{0};
  std::atomic<int> bigInFlight{0};   // large requests running (at most kBigTurns)
  std::atomic<bool> closing{false};  // the drain's second phase: Connection: close everywhere
  std::atomic<bool> stopping{false};
  std::atomic<std::size_t> refusedBudget{0}, refusedHeaders{0}, timedOut{0};

  std::mutex ctlMu;  // the sweeper's wake-up and the drain's schedule
  std::condition_variable ctlCv;
  bool kick = false, stopNow = false, drainRequested = false;
  std::atomic<bool> drainingFlag{false};
  Clock::time_point closingAt, hardStopAt;

  Impl(ConnectionLimits l, ErrorBodyFn e)
      : limits(l), errorBody(std::move(e)), budget(limits.bodyBudget) {
    ep = epoll_create1(EPOLL_CLOEXEC);
    wakeFd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  }
  ~Impl() {
    for (auto& l : listeners) {
      if (l->fd >= 0) ::close(l->fd);
    }
    if (wakeFd >= 0) ::close(wakeFd);
    if (ep >= 0) ::close(ep);
  }

  // ---- the sweeper's wake-up ----
  void notifySweeper() {
    {
      std::lock_guard lock(ctlMu);
      kick = true;
    }
    ctlCv.notify_one();
  }

  // ---- epoll ----
  void arm(Slot& s, std::uint32_t events) {
    epoll_event ev{};
    ev.events = events | EPOLLONESHOT;
    ev.data.u64 = token(s.index, s.gen);
    if (epoll_ctl(ep, EPOLL_CTL_MOD, s.c.fd, &ev) != 0) close(s);
  }
  void armListener(Listener& l, std::size_t index) {
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLONESHOT;
    ev.data.u64 = kListenerBase + index;
    epoll_ctl(ep, EPOLL_CTL_MOD, l.fd, &ev);
  }

  // ---- budget ----
  // Makes sure `c` may buffer `total` bytes; false when the budget cannot give them now.
  bool reserveFor(Conn& c, std::size_t total) {
    const std::size_t charge = total > kFreeBytes ? total - kFreeBytes : 0;
    if (charge <= c.reserved) return true;
    if (!budget.take(charge - c.reserved)) {
      c.wantBudget = charge - c.reserved;
      return false;
    }
    c.reserved = charge;
    return true;
  }
  void releaseBudget(Conn& c) {
    if (c.reserved == 0) return;
    budget.give(c.reserved);
    c.reserved = 0;
    if (budgetWaiters.load() > 0) notifySweeper();
  }
  bool takeBigTurn() {
    int cur = bigInFlight.load();
    do {
      if (cur >= kBigTurns) return false;
    } while (!bigInFlight.compare_exchange_weak(cur, cur + 1));
    return true;
  }
  void giveBigTurn(Conn& c) {
    if (!c.holdsBig) return;
    c.holdsBig = false;
    if (--bigInFlight == 0) malloc_trim(0);  // give the large buffers' pages back
    if (budgetWaiters.load() > 0) notifySweeper();
  }
  void waitForBudget(Slot& s) {
    s.c.state = ConnState::BudgetWait;
    s.c.since = Clock::now();
    ++budgetWaiters;  // not armed: the sweeper retries, then answers 503
  }

  // ---- closing ----
  void close(Slot& s) {
    Conn& c = s.c;
    if (c.state == ConnState::Free) return;
    if (log::enabled(spdlog::level::debug)) {
      log::debug("connection closed", {{"peer_port", c.peerPort},
                                       {"state", static_cast<int>(c.state)},
                                       {"buffered", c.in.size()},
                                       {"served", c.served}});
    }
    if (c.state == ConnState::BudgetWait) --budgetWaiters;
    if (c.ssl != nullptr) SSL_free(c.ssl);
    ::close(c.fd);
    releaseBudget(c);
    giveBigTurn(c);
    Listener& l = *listeners[c.listener];
    c.reset();
    ++s.gen;
    {
      std::lock_guard lock(freeMu);
      freeSlots.push_back(s.index);
    }
    l.open.fetch_sub(1);
    const std::size_t left = open.fetch_sub(1) - 1;
    if (l.paused.load() || (closing.load() && left == 0)) notifySweeper();
  }
  // An idle connection: a TLS close_notify, then close.
  void closeIdle(Slot& s) {
    if (s.c.ssl != nullptr) {
      SSL_shutdown(s.c.ssl);
      ERR_clear_error();
    }
    close(s);
  }
  // After the last answer: shut our side and drop what the client still sends for a while, so
  // that a reset does not destroy the answer before the client has read it.
  void linger(Slot& s) {
    Conn& c = s.c;
    if (c.ssl != nullptr) {
      SSL_shutdown(c.ssl);
      ERR_clear_error();
    }
    ::shutdown(c.fd, SHUT_WR);
    c.in.clear();
    releaseBudget(c);
    c.state = ConnState::Linger;
    c.since = c.lastRead = Clock::now();
    arm(s, EPOLLIN);
  }
  void onLinger(Slot& s) {
    for (std::size_t total = 0; total < 8 * kMaxReadPerEvent;) {
      const ssize_t n = ::recv(s.c.fd, tScratch, sizeof tScratch, 0);
      if (n > 0) {
        total += static_cast<std::size_t>(n);
        s.c.lastRead = Clock::now();
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
      close(s);
      return;
    }
    arm(s, EPOLLIN);
  }

  // ---- writing ----
  // Writes what is left of c.out. True when all of it went and the connection reads again.
  bool write(Slot& s) {
    Conn& c = s.c;
    while (c.outPos < c.out.size()) {
      const char* p = c.out.data() + c.outPos;
      const std::size_t len = c.out.size() - c.outPos;
      if (c.ssl != nullptr) {
        const int n = SSL_write(c.ssl, p, static_cast<int>(std::min<std::size_t>(len, 1 << 30)));
        if (n > 0) {
          c.outPos += static_cast<std::size_t>(n);
          continue;
        }
        const int err = SSL_get_error(c.ssl, n);
        ERR_clear_error();
        if (err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ) {
          return waitWritable(s, err == SSL_ERROR_WANT_READ ? EPOLLIN : EPOLLOUT);
        }
      } else {
        const ssize_t n = ::send(c.fd, p, len, MSG_NOSIGNAL);
        if (n > 0) {
          c.outPos += static_cast<std::size_t>(n);
          continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) return waitWritable(s, EPOLLOUT);
      }
      close(s);
      return false;
    }
    if (c.out.capacity() > 64 * 1024) {
      std::string().swap(c.out);
    } else {
      c.out.clear();
    }
    c.outPos = 0;
    if (c.closeAfterWrite) {
      linger(s);
      return false;
    }
    c.state = ConnState::Read;
    c.since = Clock::now();
    return true;
  }
  bool waitWritable(Slot& s, std::uint32_t events) {
    if (s.c.state != ConnState::Write) s.c.since = Clock::now();
    s.c.state = ConnState::Write;
    arm(s, events);
    return false;
  }
  void onWritable(Slot& s) {
    const std::size_t before = s.c.outPos;
    if (write(s)) {
      serve(s);
    } else if (s.c.state == ConnState::Write && s.c.outPos != before) {
      s.c.since = Clock::now();  // progress: the write deadline starts again
    }
  }

  // An answer of the layer's own, then close.
  void refuse(Slot& s, int status, const std::string& message) {
    Conn& c = s.c;
    if (status == 431) ++refusedHeaders;
    if (status == 408) ++timedOut;
    if (status == 503) ++refusedBudget;
    log::debug("refused", {{"peer_port", c.peerPort}, {"status", status}});
    const std::string body = errorBody(status, message);
    c.out = "HTTP/1.1 " + std::to_string(status) + " " + std::string(http::statusText(status)) +
            "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
            "\r\n" + (status == 503 ? "Retry-After: 1\r\n" : "") + "Connection: close\r\n\r\n" +
            body;
    c.outPos = 0;
    c.closeAfterWrite = true;
    c.in.clear();
    c.haveHead = false;
    releaseBudget(c);
    write(s);
  }

  // ---- reading ----
  enum class ReadResult { Again, Closed, NeedBudget };

  ReadResult readSome(Slot& s) {
    Conn& c = s.c;
    const std::size_t headMax =
        limits.http.maxRequestLine + limits.http.maxHeaderBytes + 2;  // request line + fields
    for (std::size_t total = 0; total < kMaxReadPerEvent;) {
      std::size_t room =
          kFreeBytes + c.reserved > c.in.size() ? kFreeBytes + c.reserved - c.in.size() : 0;
      if (c.haveHead && c.head.body == http::BodyKind::Length) {
        const std::size_t want = c.head.bytes + c.head.contentLength;
        room = want > c.in.size() ? want - c.in.size() : 0;
        if (room == 0) break;  // the request is whole: serve() takes it from here
      } else if (!c.haveHead) {
        if (c.in.size() >= headMax) break;  // serve() refuses it
        room = std::min(room, headMax - c.in.size());
      }
      if (room == 0) {
        if (!reserveFor(c, c.in.size() + kBudgetStep)) return ReadResult::NeedBudget;
        continue;
      }
      const std::size_t ask = std::min(room, kReadChunk);
      if (c.ssl != nullptr) {
        const int n = SSL_read(c.ssl, tScratch, static_cast<int>(ask));
        if (n > 0) {
          received(c, static_cast<std::size_t>(n));
          total += static_cast<std::size_t>(n);
          // More is in OpenSSL's buffer, or a full record suggests more on the socket; else
          // epoll says when there is (saves a read that would only say "nothing").
          if (SSL_has_pending(c.ssl) || static_cast<std::size_t>(n) == ask) continue;
          break;
        }
        const int err = SSL_get_error(c.ssl, n);
        ERR_clear_error();
        if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) break;
        return ReadResult::Closed;
      }
      const ssize_t n = ::recv(c.fd, tScratch, ask, 0);
      if (n > 0) {
        received(c, static_cast<std::size_t>(n));
        total += static_cast<std::size_t>(n);
        if (static_cast<std::size_t>(n) == ask) continue;
        break;
      }
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
      return ReadResult::Closed;
    }
    return ReadResult::Again;
  }
  void received(Conn& c, std::size_t n) {
    const auto now = Clock::now();
    if (c.in.empty()) c.firstByte = now;
    c.lastRead = now;
    if (c.haveHead && c.head.body == http::BodyKind::Length) {
      // One allocation for the whole body and what the direct lane reads past it.
      c.in.reserve(c.head.bytes + c.head.contentLength + kReadablePastBody);
    }
    c.in.append(tScratch, n);
  }

  void onReadable(Slot& s) {
    switch (readSome(s)) {
      case ReadResult::NeedBudget:
        waitForBudget(s);
        return;
      case ReadResult::Closed:
        s.c.peerClosed = true;
        break;
      case ReadResult::Again:
        break;
    }
    serve(s);
  }

  // Takes every whole request buffered, in order; then waits for more.
  void serve(Slot& s) {
    Conn& c = s.c;
    for (int served = 0;; ++served) {
      if (!c.haveHead) {
        if (const std::size_t blank = http::leadingEmptyLines(c.in.view()); blank > 0) {
          c.in.consume(blank);
        }
      }
      if (c.in.empty()) {
        if (c.peerClosed) return close(s);
        if (c.firstByte != Clock::time_point{}) c.since = Clock::now();  // idle from now
        c.firstByte = {};
        return waitReadable(s);
      }
      if (c.firstByte == Clock::time_point{}) c.firstByte = Clock::now();  // pipelined
      if (!c.haveHead) {
        http::Refusal refusal;
        const http::Parse p = http::parseHead(c.in.view(), limits.http, c.head, refusal);
        if (p == http::Parse::Refused) return refuse(s, refusal.status, refusal.message);
        if (p == http::Parse::Incomplete) return waitForMore(s);
        c.haveHead = true;
        c.chunks = {};
        c.sentContinue = false;
      }
      // A body over the limit is refused before it is read (or as soon as a chunk says so).
      std::size_t total = c.head.bytes;
      if (c.head.body == http::BodyKind::Length) {
        if (c.head.contentLength > limits.http.maxBody) return refuse(s, 413, "");
        total += static_cast<std::size_t>(c.head.contentLength);
        if (!reserveFor(c, total)) return waitForBudget(s);
        if (c.in.size() < total) return waitForMore(s);
      } else if (c.head.body == http::BodyKind::Chunked) {
        http::Refusal refusal;
        const http::Parse p = c.chunks.scan(c.in.view().substr(c.head.bytes), limits.http, refusal);
        if (p == http::Parse::Refused) return refuse(s, refusal.status, refusal.message);
        if (c.chunks.overLimit(limits.http)) return refuse(s, 413, "");
        if (p == http::Parse::Incomplete) return waitForMore(s);
        total += c.chunks.end();
      }
      if (total >= kBigRequest && !c.holdsBig) {
        if (!takeBigTurn()) {
          c.waitRun = true;
          return waitForBudget(s);
        }
        c.holdsBig = true;
      }
      if (!dispatch(s, total)) return;
      if (served >= 16) return arm(s, EPOLLIN | EPOLLOUT);  // others' turn; back at once
    }
  }

  void waitForMore(Slot& s) {
    Conn& c = s.c;
    if (c.peerClosed) return close(s);
    if (c.haveHead && c.head.expectContinue && !c.sentContinue && c.outPos == c.out.size()) {
      // The client waits for this before it sends the body (best effort: it sends anyway after
      // a second if the write does not go through).
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      c.sentContinue = true;
      if (c.ssl != nullptr) {
        SSL_write(c.ssl, kContinue.data(), static_cast<int>(kContinue.size()));
        ERR_clear_error();
      } else {
        ::send(c.fd, kContinue.data(), kContinue.size(), MSG_NOSIGNAL);
      }
    }
    waitReadable(s);
  }
  // Bytes OpenSSL has already taken from the socket (read-ahead) raise no epoll event: when it
  // holds some, the connection is made ready at once instead (EPOLLOUT fires straight away).
  void waitReadable(Slot& s) {
    const bool pending = s.c.ssl != nullptr && SSL_has_pending(s.c.ssl) == 1;
    arm(s, pending ? EPOLLIN | EPOLLOUT : EPOLLIN);
  }

  // Answers the request in c.in[0, total) (the listener's direct lane, else httplib) and starts
  // writing the answer. True when the connection reads on (the next request may already be
  // buffered).
  bool dispatch(Slot& s, std::size_t total) {
    Conn& c = s.c;
    const Listener& l = *listeners[c.listener];
    const bool closeConnection =
        closing.load() || c.peerClosed || c.served + 1 >= limits.keepAliveMaxRequests;
    bool connectionClosed = false;
    c.out.clear();
    c.outPos = 0;
    try {
      if (l.engine->direct) c.in.readableAfter(total, kReadablePastBody);
      const std::string_view request = c.in.view().substr(0, total);
      if (!l.engine->direct || !l.engine->direct(request, c.head, closeConnection, c.out)) {
        c.out.clear();
        BufferedStream strm(request, c.out, c.peerIp, c.peerPort, l.localIp, l.localPort);
        l.engine->process_request(strm, closeConnection, connectionClosed,
                                  [&c](httplib::Request& req) {
                                    req.ssl = c.ssl;
                                    // Answered by the layer before the body came (waitForMore).
                                    req.headers.erase("Expect");
                                  });
      }
    } catch (...) {
      c.out.clear();  // nothing sensible was written: close without an answer
    }
    ++c.served;
    c.in.consume(total);
    releaseBudget(c);
    c.haveHead = false;
    c.firstByte = c.in.empty() ? Clock::time_point{} : Clock::now();
    giveBigTurn(c);
    c.closeAfterWrite =
        closeConnection || connectionClosed || c.out.empty() || responseCloses(c.out);
    return write(s);
  }

  // ---- TLS handshake ----
  void onHandshake(Slot& s) {
    Conn& c = s.c;
    const int r = SSL_do_handshake(c.ssl);
    if (r == 1) {
      c.state = ConnState::Read;
      c.since = Clock::now();
      return onReadable(s);
    }
    const int err = SSL_get_error(c.ssl, r);
    ERR_clear_error();
    if (err == SSL_ERROR_WANT_READ) return arm(s, EPOLLIN);
    if (err == SSL_ERROR_WANT_WRITE) return arm(s, EPOLLOUT);
    close(s);
  }

  // ---- accepting ----
  void onListener(std::size_t index) {
    Listener& l = *listeners[index];
    std::lock_guard lock(l.mu);
    if (l.closed) return;
    for (int i = 0; i < 64; ++i) {
      if (l.open.load() >= l.max) {
        // At the cap: not armed again until a connection closes (the backlog holds the rest).
        l.paused = true;
        if (l.open.load() < l.max && l.paused.exchange(false)) continue;
        return;
      }
      sockaddr_storage sa{};
      socklen_t len = sizeof sa;
      const int fd =
          accept4(l.fd, reinterpret_cast<sockaddr*>(&sa), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        // Out of descriptors or memory: try again on the sweeper's next tick.
        if (!l.warnedAcceptError) {
          log::warn("cannot accept connections; retrying",
                    {{"listen", l.flag}, {"error", std::strerror(errno)}});
          l.warnedAcceptError = true;
        }
        l.paused = true;
        return;
      }
      adopt(l, index, fd, sa);
    }
    armListener(l, index);
  }

  void adopt(Listener& l, std::size_t index, int fd, const sockaddr_storage& sa) {
    std::uint32_t slot = 0;
    {
      std::lock_guard lock(freeMu);
      if (!freeSlots.empty()) {
        slot = freeSlots.back();
        freeSlots.pop_back();
      } else {
        slot = slots.grow()->index;  // the listeners' caps keep the total within the room
      }
    }
    std::size_t hw = highWater.load();
    while (slot + 1 > hw && !highWater.compare_exchange_weak(hw, slot + 1)) {
    }
    l.open.fetch_add(1);
    open.fetch_add(1);
    Slot& s = slots[slot];
    std::lock_guard lock(s.mu);
    Conn& c = s.c;
    c.reset();
    c.fd = fd;
    c.listener = index;
    c.peerIp = formatPeer(sa, c.peerPort);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c.since = Clock::now();
    c.state = ConnState::Read;
    if (l.tls != nullptr) {
      c.ssl = SSL_new(l.tls);
      if (c.ssl == nullptr || SSL_set_fd(c.ssl, fd) != 1) {
        ERR_clear_error();
        return close(s);
      }
      SSL_set_accept_state(c.ssl);
      c.state = ConnState::Handshake;
    }
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLONESHOT;
    ev.data.u64 = token(s.index, s.gen);
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) close(s);
  }

  // ---- workers ----
  void worker() {
    epoll_event ev{};
    while (!stopping.load()) {
      const int n = epoll_wait(ep, &ev, 1, -1);
      if (n <= 0) continue;
      const auto index = static_cast<std::uint32_t>(ev.data.u64 & 0xffffffffu);
      if (index == kWakeToken) continue;  // stopping
      if (index >= kListenerBase) {
        onListener(index - kListenerBase);
        continue;
      }
      Slot& s = slots[index];
      std::lock_guard lock(s.mu);
      if (s.gen != static_cast<std::uint32_t>(ev.data.u64 >> 32)) continue;  // closed since
      try {
        switch (s.c.state) {
          case ConnState::Handshake:
            onHandshake(s);
            break;
          case ConnState::Read:
            onReadable(s);
            break;
          case ConnState::Write:
            onWritable(s);
            break;
          case ConnState::Linger:
            onLinger(s);
            break;
          case ConnState::BudgetWait:
          case ConnState::Free:
            break;
        }
      } catch (const std::exception& e) {  // std::bad_alloc: this connection goes, not the server
        log::warn("connection dropped", {{"error", e.what()}});
        close(s);
      }
    }
  }

  // ---- the sweeper: deadlines, budget waits, the drain ----
  void check(Slot& s, Clock::time_point now) {
    Conn& c = s.c;
    switch (c.state) {
      case ConnState::Free:
        return;
      case ConnState::Handshake:
        if (now - c.since > limits.handshakeTimeout) close(s);
        return;
      case ConnState::Read:
        return checkRead(s, now);
      case ConnState::BudgetWait:
        return checkBudgetWait(s, now);
      case ConnState::Write:
        if (now - c.since > limits.writeTimeout) close(s);
        return;
      case ConnState::Linger:
        return checkLinger(s, now);
    }
  }
  // Idle too long (closed quietly), or a request too slow in coming (408).
  void checkRead(Slot& s, Clock::time_point now) {
    Conn& c = s.c;
    if (c.in.empty() && !c.haveHead) {
      const auto idle = now - c.since;
      if ((idle > limits.idleTimeout || (closing.load() && idle > limits.drainIdle)) &&
          !bytesWaiting(c)) {
        closeIdle(s);
      }
      return;
    }
    if ((!c.haveHead && now - c.firstByte > limits.headerTimeout) ||
        now - c.firstByte > limits.requestTimeout || now - c.lastRead > limits.readTimeout) {
      refuse(s, 408, "");
    }
  }
  // A connection waiting for body budget (or for the turn of a whole large request).
  void checkBudgetWait(Slot& s, Clock::time_point now) {
    Conn& c = s.c;
    if (c.waitRun) {  // a whole request: it waits for its turn, never refused for it
      if (takeBigTurn()) {
        c.holdsBig = true;
        c.waitRun = false;
        --budgetWaiters;
        c.state = ConnState::Read;
        arm(s, EPOLLIN | EPOLLOUT);
      } else if (now - c.firstByte > limits.requestTimeout) {
        --budgetWaiters;
        c.waitRun = false;
        c.state = ConnState::Read;
        refuse(s, 503, "");
      }
      return;
    }
    if (budget.take(c.wantBudget)) {
      c.reserved += c.wantBudget;
      --budgetWaiters;
      c.state = ConnState::Read;
      arm(s, EPOLLIN | EPOLLOUT);  // ready at once: a worker reads on
    } else if (now - c.since > limits.budgetWait) {
      --budgetWaiters;
      c.state = ConnState::Read;
      refuse(s, 503, "");
    }
  }
  void checkLinger(Slot& s, Clock::time_point now) {
    Conn& c = s.c;
    // Dropped here too, so lingering goes on while every worker is busy: while the client
    // still sends (the rest of a body it was refused), up to 10 s.
    for (std::size_t total = 0; total < 8 * kMaxReadPerEvent;) {
      const ssize_t n = ::recv(c.fd, tScratch, sizeof tScratch, MSG_DONTWAIT);
      if (n <= 0) {
        if (n == 0 || (errno != EAGAIN && errno != EINTR)) return close(s);
        break;
      }
      total += static_cast<std::size_t>(n);
      c.lastRead = now;
    }
    if (now - c.lastRead > limits.linger || now - c.since > limits.lingerMax) close(s);
  }
  // A request that arrived while the connection looked idle: it is not closed under it.
  static bool bytesWaiting(const Conn& c) {
    if (c.ssl != nullptr && SSL_has_pending(c.ssl)) return true;
    char b;
    return ::recv(c.fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
  }

  void sweep(Clock::time_point now) {
    const std::size_t hw = highWater.load();
    for (std::size_t i = 0; i < hw; ++i) {
      Slot& s = slots[i];
      std::unique_lock lock(s.mu, std::try_to_lock);
      if (!lock.owns_lock()) continue;  // a worker has it
      check(s, now);
    }
    for (std::size_t i = 0; i < listeners.size(); ++i) {
      Listener& l = *listeners[i];
      if (!l.paused.load() || l.open.load() >= l.max) continue;
      std::lock_guard lock(l.mu);
      if (!l.closed && l.paused.exchange(false)) armListener(l, i);
    }
  }

  void closeListeners() {
    for (auto& l : listeners) {
      std::lock_guard lock(l->mu);
      if (l->closed) continue;
      l->closed = true;
      epoll_ctl(ep, EPOLL_CTL_DEL, l->fd, nullptr);
      ::close(l->fd);
      l->fd = -1;
    }
  }

  // The slots of every listener's connections, and the wake-up and listeners in epoll.
  void prepare() {
    std::size_t slotCount = 0;
    for (auto& l : listeners) slotCount += l->max;
    slots.reset(slotCount);
    freeSlots.clear();
    highWater = 0;
    epoll_event wake{};
    wake.events = EPOLLIN;  // level-triggered and never read: once written, every worker sees it
    wake.data.u64 = kWakeToken;
    epoll_ctl(ep, EPOLL_CTL_ADD, wakeFd, &wake);
    for (std::size_t i = 0; i < listeners.size(); ++i) {
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLONESHOT;
      ev.data.u64 = kListenerBase + i;
      epoll_ctl(ep, EPOLL_CTL_ADD, listeners[i]->fd, &ev);
    }
  }

  // The control loop: sweeps every tick, starts closing at the drain's delay, and ends when
  // stopped, when nothing is left open while closing, or at the drain's hard deadline (true).
  bool control() {
    bool hitTimeout = false;
    std::unique_lock lock(ctlMu);
    for (;;) {
      ctlCv.wait_for(lock, kTick, [this] { return kick || stopNow; });
      kick = false;
      if (stopNow) break;
      const auto now = Clock::now();
      const bool startClosing = drainRequested && !closing.load() && now >= closingAt;
      if (drainRequested && now >= hardStopAt) {
        hitTimeout = open.load() > 0;
        break;
      }
      lock.unlock();
      if (startClosing) {
        closing = true;
        closeListeners();
        log::info("draining: listeners closed; every answer now says Connection: close",
                  {{"connections", std::to_string(open.load())}});
      }
      sweep(now);
      lock.lock();
      if (closing.load() && open.load() == 0) break;
    }
    return hitTimeout;
  }

  void run() {
    prepare();
    std::size_t n = limits.workers;
    if (n == 0) n = std::clamp(std::thread::hardware_concurrency(), 4u, 8u);
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < n; ++i) threads.emplace_back([this] { worker(); });
    if (control()) {
      log::warn("shutdown timeout: closing the connections left",
                {{"connections", std::to_string(open.load())}});
    }
    stopping = true;
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto w = ::write(wakeFd, &one, sizeof one);
    for (std::thread& t : threads) t.join();
    for (std::size_t i = 0; i < highWater.load(); ++i) {
      std::lock_guard slotLock(slots[i].mu);
      close(slots[i]);
    }
    closeListeners();
  }
};

ConnectionServer::ConnectionServer(ConnectionLimits limits, ErrorBodyFn errorBody)
    : impl_(std::make_unique<Impl>(limits, std::move(errorBody))) {}

ConnectionServer::~ConnectionServer() = default;

bool ConnectionServer::listen(const std::string& flag, const std::string& host, int port,
                              SSL_CTX* tls, HttpEngine& engine, std::size_t maxConnections,
                              std::string& error) {
  const std::string shown = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  const std::string where = flag + " " + shown + ":" + std::to_string(port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0 ||
      found == nullptr) {
    error = where + ": cannot resolve the address";
    return false;
  }
  int fd = -1;
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    // SO_REUSEADDR for a quick restart; never SO_REUSEPORT, which would let a second server
    // bind the same port and take half the connections.
    int yes = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) != 0 || ::listen(fd, 4096) != 0) {
      ::close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(found);
  if (fd < 0) {
    error = where + ": cannot bind (address in use or not available here)";
    return false;
  }
  auto l = std::make_unique<Listener>();
  l->fd = fd;
  l->flag = where;
  l->tls = tls;
  l->engine = &engine;
  l->max = std::max<std::size_t>(1, maxConnections);
  sockaddr_storage local{};
  socklen_t len = sizeof local;
  getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len);
  l->localIp = formatPeer(local, l->localPort);
  impl_->listeners.push_back(std::move(l));
  return true;
}

void ConnectionServer::run() {
  impl_->run();
}

void ConnectionServer::drain(std::chrono::milliseconds delay, std::chrono::milliseconds timeout) {
  {
    std::lock_guard lock(impl_->ctlMu);
    if (impl_->drainRequested) return;
    const auto now = Clock::now();
    impl_->drainRequested = true;
    impl_->drainingFlag = true;
    impl_->closingAt = now + delay;
    impl_->hardStopAt = now + std::max(timeout, delay);
    impl_->kick = true;
  }
  impl_->ctlCv.notify_all();
}

bool ConnectionServer::draining() const {
  return impl_->drainingFlag.load();
}

void ConnectionServer::stop() {
  {
    std::lock_guard lock(impl_->ctlMu);
    impl_->stopNow = true;
  }
  impl_->ctlCv.notify_all();
}

ConnectionServer::Stats ConnectionServer::stats() const {
  Stats s;
  s.connections = impl_->open.load();
  s.bodyBytes = impl_->budget.used();
  s.refusedBudget = impl_->refusedBudget.load();
  s.refusedHeaders = impl_->refusedHeaders.load();
  s.timedOut = impl_->timedOut.load();
  return s;
}

}  // namespace aw::webhook
