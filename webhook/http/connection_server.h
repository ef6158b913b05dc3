// The connection layer: accepts connections itself, does TLS with OpenSSL, waits for readable
// connections with epoll, and hands a connection to cpp-httplib (HttpEngine::process_request)
// only once a whole request is buffered; the engine's direct lane answers the admission POSTs
// without it. Budgets instead of thread counts: a few workers serve
// any number of connections, a slow client holds a buffer and never a thread, and bodies in
// flight share one memory budget. SIGTERM drains in the order Kubernetes needs (drain()).
//
// Threads: `workers` threads each wait in epoll_wait for one event and handle it to the end
// (EPOLLONESHOT: a connection is handled by one thread at a time); the thread that calls run()
// is the sweeper, which wakes every 100 ms to enforce deadlines and drive the drain.
#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "webhook/http/http_framing.h"
#include "webhook/http/http_stream.h"

namespace aw::webhook {

struct ConnectionLimits {
  std::size_t bodyBudget = 64 * 1024 * 1024;  // bytes of requests buffered, all connections
  http::Limits http;
  std::size_t workers = 0;  // 0: one per CPU, from 4 to 8
  std::chrono::milliseconds handshakeTimeout{10000};
  std::chrono::milliseconds headerTimeout{10000};   // from a request's first byte
  std::chrono::milliseconds requestTimeout{30000};  // from a request's first byte
  std::chrono::milliseconds readTimeout{10000};     // silence in the middle of a request
  std::chrono::milliseconds writeTimeout{10000};    // a client that does not read its answer
  std::chrono::milliseconds idleTimeout{10000};     // an idle keep-alive connection
  std::chrono::milliseconds budgetWait{1000};       // then 503 with Retry-After
  std::chrono::milliseconds linger{1000};           // closing: silence before the socket is closed
  std::chrono::milliseconds lingerMax{10000};       // closing: reading what the client still sends
  std::chrono::milliseconds drainIdle{250};  // while draining: idle this long is "between requests"
  std::size_t keepAliveMaxRequests = 1000000;
};

// The JSON body of an answer the layer gives itself (400, 408, 414, 431, 503); an empty
// message means the server's usual text for the status.
using ErrorBodyFn = std::function<std::string(int status, const std::string& message)>;

class ConnectionServer {
 public:
  ConnectionServer(ConnectionLimits limits, ErrorBodyFn errorBody);
  ~ConnectionServer();
  ConnectionServer(const ConnectionServer&) = delete;
  ConnectionServer& operator=(const ConnectionServer&) = delete;

  // Binds HOST:PORT (backlog 4096) for `engine`, over TLS with `tls` (not owned; null: plain
  // HTTP), holding at most `maxConnections` connections. Before run(). False with a message
  // naming `flag`.
  bool listen(const std::string& flag, const std::string& host, int port, SSL_CTX* tls,
              HttpEngine& engine, std::size_t maxConnections, std::string& error);

  // Serves until a drain ends or stop(); every connection is closed when it returns.
  void run();
  // SIGTERM: draining() turns true at once; connections are served as before for `delay`; then
  // the listeners close, every response says Connection: close and idle connections are closed
  // between requests; run() returns once none is left, or after `timeout` (from now) at the
  // latest. Safe from any thread; a second call changes nothing.
  void drain(std::chrono::milliseconds delay, std::chrono::milliseconds timeout);
  bool draining() const;
  // Stops now (requests being processed finish first). Safe from any thread.
  void stop();

  struct Stats {
    std::size_t connections = 0;                                      // open now
    std::size_t bodyBytes = 0;                                        // of the budget in use
    std::size_t refusedBudget = 0, refusedHeaders = 0, timedOut = 0;  // since start
  };
  Stats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace aw::webhook
