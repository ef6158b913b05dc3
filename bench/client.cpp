// aw_bench_client: the load tools that wrk does not cover, over TLS with keep-alive.
//
//   open        fixed-rate open-loop load: request i of the run is due at start + i/rate, spread
//               round-robin over the connections; latency runs from that due time, not from the
//               actual send, so a stalled server shows in the figures (no coordinated omission)
//   soak        closed-loop load bounded by a request count, with a payload mix, reading the
//               server's RSS after the first CHECKPOINT requests and at the end
//   ready       starts the server RUNS times and times exec -> first 200 from GET /readyz
//   wait-ready  polls GET /readyz until it answers 200
//   once        one request; prints the status and the body
//
// Output is "key value" lines on standard output (bench/bench.sh prefixes and collects them);
// progress and problems go to standard error. Every loop is bounded in count and in time.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <numeric>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using Nanos = std::int64_t;

Nanos now() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return Nanos(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

void sleepUntil(Nanos t) {
  timespec ts{static_cast<time_t>(t / 1'000'000'000), static_cast<long>(t % 1'000'000'000)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

[[noreturn]] void die(const std::string& message) {
  std::cerr << "aw_bench_client: " << message << "\n";
  std::exit(2);
}

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) die("cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// ---- /proc --------------------------------------------------------------------------------

// utime + stime of a process, in microseconds.
double cpuMicros(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(in, line);
  const auto close = line.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream fields(line.substr(close + 2));
  std::string f;
  unsigned long long utime = 0, stime = 0;
  // Fields after "pid (comm)": state is field 3; utime 14, stime 15.
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i == 14) utime = std::stoull(f);
    if (i == 15) stime = std::stoull(f);
  }
  return double(utime + stime) * 1e6 / double(sysconf(_SC_CLK_TCK));
}

// A "VmRSS:" style field of /proc/PID/status, in KiB; -1 when absent.
long statusKib(int pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0)
      return std::strtol(line.c_str() + field.size() + 1, nullptr, 10);
  }
  return -1;
}

// ---- TLS connection -------------------------------------------------------------------------

struct Target {
  std::string host = "127.0.0.1";
  int port = 8443;
  SSL_CTX* ctx = nullptr;
  int timeoutMs = 10000;
};

SSL_CTX* makeContext(const std::string& caFile) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) die("SSL_CTX_new failed");
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  if (!caFile.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, caFile.c_str(), nullptr) != 1)
      die("cannot load " + caFile);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  }
  return ctx;
}

struct Response {
  int status = 0;
  std::string body;
};

class Conn {
 public:
  explicit Conn(const Target& t) : t_(t) {}
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;
  ~Conn() { close(); }

  bool open(std::string& err) {
    close();
    errno = 0;
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return fail(err, "socket");
    const int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    timeval tv{t_.timeoutMs / 1000, (t_.timeoutMs % 1000) * 1000};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(t_.port));
    if (inet_pton(AF_INET, t_.host.c_str(), &addr.sin_addr) != 1) return fail(err, "bad host");
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      return fail(err, "connect");
    ssl_ = SSL_new(t_.ctx);
    SSL_set_fd(ssl_, fd_);
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_), t_.host.c_str());
    if (SSL_connect(ssl_) != 1) return fail(err, "TLS handshake");
    buf_.clear();
    return true;
  }

  void close() {
    if (ssl_ != nullptr) {
      SSL_free(ssl_);
      ssl_ = nullptr;
    }
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  bool isOpen() const { return ssl_ != nullptr; }

  // Sends the complete request bytes and reads one response (Content-Length framed).
  bool exchange(const std::string& request, Response& res, std::string& err) {
    errno = 0;
    if (!isOpen() && !open(err)) return false;
    std::size_t sent = 0;
    while (sent < request.size()) {
      const int n =
          SSL_write(ssl_, request.data() + sent,
                    static_cast<int>(std::min<std::size_t>(request.size() - sent, 1 << 30)));
      if (n <= 0) return fail(err, "write");
      sent += static_cast<std::size_t>(n);
    }
    std::size_t headerEnd;
    while ((headerEnd = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (buf_.size() > 64 * 1024) return fail(err, "response header too long");
      if (!readMore(err)) return false;
    }
    res.status = 0;
    if (buf_.compare(0, 5, "HTTP/") != 0) return fail(err, "not an HTTP response");
    res.status = std::atoi(buf_.c_str() + buf_.find(' ') + 1);
    std::size_t length = std::string::npos;
    bool closeAfter = false;
    for (std::size_t pos = buf_.find("\r\n") + 2; pos < headerEnd;) {
      const std::size_t eol = buf_.find("\r\n", pos);
      std::string line = buf_.substr(pos, eol - pos);
      for (char& c : line) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (line.rfind("content-length:", 0) == 0)
        length = std::strtoull(line.c_str() + 15, nullptr, 10);
      if (line.rfind("connection:", 0) == 0 && line.find("close") != std::string::npos)
        closeAfter = true;
      if (line.rfind("transfer-encoding:", 0) == 0)
        return fail(err, "chunked response not supported");
      pos = eol + 2;
    }
    if (length == std::string::npos) return fail(err, "response without Content-Length");
    const std::size_t total = headerEnd + 4 + length;
    while (buf_.size() < total) {
      if (!readMore(err)) return false;
    }
    res.body.assign(buf_, headerEnd + 4, length);
    buf_.erase(0, total);
    if (closeAfter) close();
    return true;
  }

 private:
  bool readMore(std::string& err) {
    char tmp[64 * 1024];
    const int n = SSL_read(ssl_, tmp, sizeof tmp);
    if (n <= 0) return fail(err, "read (closed or timed out)");
    buf_.append(tmp, static_cast<std::size_t>(n));
    return true;
  }
  bool fail(std::string& err, const char* what) {
    err = std::string(what) + (errno ? std::string(": ") + std::strerror(errno) : "");
    unsigned long e = ERR_get_error();
    if (e != 0) {
      char b[256];
      ERR_error_string_n(e, b, sizeof b);
      err += std::string(" (") + b + ")";
    }
    ERR_clear_error();
    close();
    return false;
  }

  const Target& t_;
  int fd_ = -1;
  SSL* ssl_ = nullptr;
  std::string buf_;
};

std::string postRequest(const Target& t, const std::string& path, const std::string& body) {
  return "POST " + path + " HTTP/1.1\r\nHost: " + t.host + ":" + std::to_string(t.port) +
         "\r\nContent-Type: application/json\r\nAccept: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

// An admission answer the API server would accept: 200 and an AdmissionReview response.
bool goodAnswer(const Response& r) {
  return r.status == 200 && r.body.find("\"response\"") != std::string::npos &&
         r.body.find("\"uid\"") != std::string::npos;
}

// ---- arguments ------------------------------------------------------------------------------

struct Args {
  std::map<std::string, std::vector<std::string>> opts;
  std::vector<std::string> command;  // after "--"

  std::string get(const std::string& k, const std::string& def = "") const {
    auto it = opts.find(k);
    return it == opts.end() || it->second.empty() ? def : it->second.back();
  }
  double num(const std::string& k, double def) const {
    const std::string v = get(k);
    return v.empty() ? def : std::stod(v);
  }
};

Args parseArgs(int argc, char** argv, int from) {
  Args a;
  for (int i = from; i < argc; ++i) {
    std::string s = argv[i];
    if (s == "--") {
      for (++i; i < argc; ++i) a.command.push_back(argv[i]);
      break;
    }
    if (s.rfind("--", 0) != 0 || i + 1 >= argc) die("bad argument " + s);
    a.opts[s.substr(2)].push_back(argv[++i]);
  }
  return a;
}

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const std::size_t rank = static_cast<std::size_t>(std::ceil(p / 100.0 * double(sorted.size())));
  return sorted[std::min(sorted.size(), std::max<std::size_t>(rank, 1)) - 1];
}

void printKv(const std::string& key, double value) {
  std::printf("%s %.6g\n", key.c_str(), value);
}

// ---- open: fixed-rate open-loop ------------------------------------------------------------

int runOpen(const Args& a, const Target& t) {
  const std::string path = a.get("path", "/validate");
  const std::string request = postRequest(t, path, readFile(a.get("body")));
  const double rate = a.num("rate", 1000);
  const double duration = a.num("duration", 10);
  const double warmup = a.num("warmup", 1);
  const int conns = static_cast<int>(a.num("connections", 8));
  const int pid = static_cast<int>(a.num("pid", 0));
  if (rate <= 0 || duration <= 0 || conns <= 0) die("rate, duration and connections must be > 0");

  const Nanos period = static_cast<Nanos>(1e9 / rate);
  std::vector<std::unique_ptr<Conn>> pool;
  for (int k = 0; k < conns; ++k) {
    pool.push_back(std::make_unique<Conn>(t));
    std::string err;
    if (!pool.back()->open(err)) die("connect: " + err);
  }
  const Nanos start = now() + 200'000'000;
  const Nanos measureFrom = start + static_cast<Nanos>(warmup * 1e9);
  const Nanos end = measureFrom + static_cast<Nanos>(duration * 1e9);
  const Nanos hardStop = end + 10'000'000'000LL;  // give up on a server that stopped answering

  struct Stats {
    std::vector<double> latMs;
    long ok = 0, errors = 0, missed = 0;
    double maxMs = 0;
    std::string lastError;
  };
  std::vector<Stats> stats(static_cast<std::size_t>(conns));
  double cpuBefore = 0, cpuAfter = 0;
  std::vector<std::thread> threads;
  for (int k = 0; k < conns; ++k) {
    threads.emplace_back([&, k] {
      Stats& s = stats[static_cast<std::size_t>(k)];
      Conn& c = *pool[static_cast<std::size_t>(k)];
      Response res;
      for (std::int64_t i = 0;; ++i) {
        const Nanos due = start + (i * conns + k) * period;
        if (due >= end) break;
        if (now() > hardStop) {
          s.missed += (end - due) / (period * conns) + 1;
          break;
        }
        sleepUntil(due);
        std::string err;
        const bool ok = c.exchange(request, res, err) && goodAnswer(res);
        const Nanos done = now();
        if (due < measureFrom) continue;
        if (ok) {
          ++s.ok;
          s.latMs.push_back(double(done - due) / 1e6);
          s.maxMs = std::max(s.maxMs, s.latMs.back());
        } else {
          ++s.errors;
          s.lastError = err.empty() ? "HTTP " + std::to_string(res.status) : err;
        }
      }
      // Hang up as soon as this connection's schedule is done, so a server that serves a fixed
      // number of connections at a time gets to the ones still waiting.
      c.close();
    });
  }
  // Server CPU from the start of the measured window until the last measured answer (a server
  // that falls behind answers after `end`; those answers are counted, so is their CPU).
  if (pid > 0) {
    sleepUntil(measureFrom);
    cpuBefore = cpuMicros(pid);
  }
  for (auto& th : threads) th.join();
  if (pid > 0) cpuAfter = cpuMicros(pid);

  std::vector<double> all;
  long ok = 0, errors = 0, missed = 0, slowConns = 0;
  for (const Stats& s : stats) {
    if (s.maxMs > 1000 || s.ok == 0) ++slowConns;
    all.insert(all.end(), s.latMs.begin(), s.latMs.end());
    ok += s.ok;
    errors += s.errors;
    missed += s.missed;
    if (!s.lastError.empty()) std::cerr << "aw_bench_client: open: " << s.lastError << "\n";
  }
  std::sort(all.begin(), all.end());
  printKv("rate_target", rate);
  printKv("rate_achieved", double(ok) / duration);
  printKv("ok", double(ok));
  printKv("errors", double(errors));
  printKv("missed", double(missed));
  printKv("p50_ms", percentile(all, 50));
  printKv("p90_ms", percentile(all, 90));
  printKv("p99_ms", percentile(all, 99));
  printKv("p999_ms", percentile(all, 99.9));
  printKv("max_ms", all.empty() ? 0 : all.back());
  printKv("connections", conns);
  printKv("connections_over_1s", double(slowConns));  // some answer took > 1 s, or none came
  if (pid > 0 && ok > 0) printKv("server_cpu_us_per_req", (cpuAfter - cpuBefore) / double(ok));
  return errors == 0 && missed == 0 ? 0 : 1;
}

// ---- soak: count-bounded closed loop with a mix --------------------------------------------

int runSoak(const Args& a, const Target& t) {
  struct Item {
    std::string name, request;
    int weight;
  };
  std::vector<Item> items;
  // --payload NAME=PATH=FILE=WEIGHT, repeated.
  auto it = a.opts.find("payload");
  if (it == a.opts.end()) die("soak needs --payload NAME=PATH=FILE=WEIGHT");
  for (const std::string& spec : it->second) {
    std::vector<std::string> parts;
    std::istringstream in(spec);
    for (std::string p; std::getline(in, p, '=');) parts.push_back(p);
    if (parts.size() != 4) die("bad --payload " + spec);
    items.push_back({parts[0], postRequest(t, parts[1], readFile(parts[2])), std::stoi(parts[3])});
  }
  // One slot per unit of weight, shuffled with a fixed seed so heavy payloads are spread out.
  std::vector<std::size_t> slots;
  for (std::size_t i = 0; i < items.size(); ++i) slots.insert(slots.end(), items[i].weight, i);
  std::shuffle(slots.begin(), slots.end(), std::mt19937(7));

  const long total = static_cast<long>(a.num("requests", 1'000'000));
  const long checkpoint = static_cast<long>(a.num("checkpoint", 10'000));
  const int conns = static_cast<int>(a.num("connections", 16));
  const double maxSeconds = a.num("max-seconds", 1800);
  const int pid = static_cast<int>(a.num("pid", 0));
  if (pid <= 0) die("soak needs --pid of the server");

  std::atomic<long> next{0}, done{0}, errors{0};
  std::atomic<long> rssCheckpoint{-1};
  std::atomic<bool> timedOut{false};
  std::vector<long> perItem(items.size());
  std::mutex m;
  std::string lastError;
  const Nanos start = now();
  const Nanos deadline = start + static_cast<Nanos>(maxSeconds * 1e9);
  std::vector<std::thread> threads;
  for (int k = 0; k < conns; ++k) {
    threads.emplace_back([&] {
      Conn c(t);
      Response res;
      std::vector<long> mine(items.size());
      for (;;) {
        const long j = next.fetch_add(1);
        if (j >= total) break;
        if (now() > deadline) {
          timedOut = true;
          break;
        }
        const std::size_t i = slots[static_cast<std::size_t>(j) % slots.size()];
        std::string err;
        if (!(c.exchange(items[i].request, res, err) && goodAnswer(res))) {
          ++errors;
          std::lock_guard l(m);
          lastError =
              items[i].name + ": " + (err.empty() ? "HTTP " + std::to_string(res.status) : err);
        }
        ++mine[i];
        const long d = done.fetch_add(1) + 1;
        if (d == checkpoint) rssCheckpoint = statusKib(pid, "VmRSS");
        if (d % 100'000 == 0) {
          std::lock_guard l(m);
          std::cerr << "soak: " << d << " requests, " << errors.load() << " errors, RSS "
                    << statusKib(pid, "VmRSS") << " KiB, " << double(now() - start) / 1e9 << " s\n";
        }
      }
      std::lock_guard l(m);
      for (std::size_t i = 0; i < items.size(); ++i) perItem[i] += mine[i];
    });
  }
  for (auto& th : threads) th.join();
  const double seconds = double(now() - start) / 1e9;
  const long rssEnd = statusKib(pid, "VmRSS");
  if (!lastError.empty()) std::cerr << "aw_bench_client: soak: last error: " << lastError << "\n";
  printKv("requests", double(done.load()));
  printKv("requests_target", double(total));
  printKv("errors", double(errors.load()));
  printKv("timed_out", timedOut ? 1 : 0);
  printKv("seconds", seconds);
  printKv("rate", double(done.load()) / seconds);
  for (std::size_t i = 0; i < items.size(); ++i)
    printKv("count_" + items[i].name, double(perItem[i]));
  printKv("rss_checkpoint_kib", double(rssCheckpoint.load()));
  printKv("rss_end_kib", double(rssEnd));
  printKv("hwm_kib", double(statusKib(pid, "VmHWM")));
  if (rssCheckpoint > 0)
    printKv("rss_growth_pct", 100.0 * double(rssEnd - rssCheckpoint) / double(rssCheckpoint));
  return errors == 0 && !timedOut && done == total ? 0 : 1;
}

// ---- readiness ------------------------------------------------------------------------------

// One GET /readyz on a fresh connection: the HTTP status, 0 when nothing answered.
int probeReady(const Target& t) {
  Conn c(t);
  std::string err;
  if (!c.open(err)) return 0;
  Response res;
  const std::string req =
      "GET /readyz HTTP/1.1\r\nHost: " + t.host + "\r\nConnection: close\r\n\r\n";
  return c.exchange(req, res, err) ? res.status : 0;
}

// Polls until 200 or the timeout; the time it took in ms, or -1.
double waitReady(const Target& t, double timeoutMs, int pid) {
  const Nanos start = now();
  const Nanos deadline = start + static_cast<Nanos>(timeoutMs * 1e6);
  while (now() < deadline) {
    if (probeReady(t) == 200) return double(now() - start) / 1e6;
    if (pid > 0 && waitpid(pid, nullptr, WNOHANG) == pid) return -1;  // server died
    sleepUntil(now() + 500'000);                                      // 0.5 ms between probes
  }
  return -1;
}

int runWaitReady(const Args& a, Target t) {
  t.timeoutMs = 1000;
  const double ms = waitReady(t, a.num("timeout-ms", 10000), 0);
  if (ms < 0) {
    std::cerr << "aw_bench_client: server not ready on port " << t.port << "\n";
    return 1;
  }
  printKv("wait_ms", ms);
  return 0;
}

int runReady(const Args& a, Target t) {
  if (a.command.empty()) die("ready needs -- SERVER COMMAND...");
  t.timeoutMs = 1000;
  const int runs = static_cast<int>(a.num("runs", 5));
  const int cpu = static_cast<int>(a.num("cpu", -1));
  const double idleMs = a.num("idle-ms", 500);
  std::vector<double> times, idle, hwm;
  for (int r = 0; r < runs; ++r) {
    if (probeReady(t) != 0) die("something already answers on port " + std::to_string(t.port));
    const Nanos start = now();
    const pid_t pid = fork();
    if (pid < 0) die("fork failed");
    if (pid == 0) {
      if (cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        sched_setaffinity(0, sizeof set, &set);
      }
      const int devnull = ::open("/dev/null", O_RDWR);
      dup2(devnull, 1);
      dup2(devnull, 2);
      std::vector<char*> argv;
      for (const std::string& s : a.command) argv.push_back(const_cast<char*>(s.c_str()));
      argv.push_back(nullptr);
      execvp(argv[0], argv.data());
      _exit(127);
    }
    const double ms = [&] {
      const Nanos deadline = start + 10'000'000'000LL;
      while (now() < deadline) {
        if (probeReady(t) == 200) return double(now() - start) / 1e6;
        if (waitpid(pid, nullptr, WNOHANG) == pid) return -1.0;
        sleepUntil(now() + 200'000);
      }
      return -1.0;
    }();
    if (ms >= 0) {
      times.push_back(ms);
      sleepUntil(now() + static_cast<Nanos>(idleMs * 1e6));
      idle.push_back(double(statusKib(pid, "VmRSS")));
      hwm.push_back(double(statusKib(pid, "VmHWM")));
    }
    kill(pid, SIGTERM);
    const Nanos killBy = now() + 5'000'000'000LL;
    while (waitpid(pid, nullptr, WNOHANG) != pid) {
      if (now() > killBy) {
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
        break;
      }
      sleepUntil(now() + 1'000'000);
    }
    if (ms < 0) die("server did not become ready within 10 s (run " + std::to_string(r + 1) + ")");
    printKv("ready_ms_run" + std::to_string(r + 1), ms);
    // Let the port and the CPU settle between runs.
    sleepUntil(now() + 200'000'000);
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  };
  printKv("ready_ms", median(times));
  printKv("idle_rss_kib", median(idle));
  printKv("idle_hwm_kib", median(hwm));
  return 0;
}

int runOnce(const Args& a, const Target& t) {
  Conn c(t);
  Response res;
  std::string err;
  if (!c.exchange(postRequest(t, a.get("path", "/validate"), readFile(a.get("body"))), res, err)) {
    die(err);
  }
  std::cout << res.status << "\n" << res.body << "\n";
  return res.status == 200 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr
        << "usage: aw_bench_client open|soak|ready|wait-ready|once --port P [--ca FILE] ...\n";
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  const std::string mode = argv[1];
  const Args a = parseArgs(argc, argv, 2);
  Target t;
  t.host = a.get("host", "127.0.0.1");
  t.port = static_cast<int>(a.num("port", 8443));
  t.ctx = makeContext(a.get("ca"));
  if (mode == "open") return runOpen(a, t);
  if (mode == "soak") return runSoak(a, t);
  if (mode == "ready") return runReady(a, t);
  if (mode == "wait-ready") return runWaitReady(a, t);
  if (mode == "once") return runOnce(a, t);
  die("unknown mode " + mode);
}
