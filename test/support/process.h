// Test support: run the real alliance-webhook binary, talk to it over real TLS.
#pragma once

#include <openssl/ssl.h>
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace aw::test {

// A fresh temporary directory, removed at destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

void writeFile(const std::filesystem::path& path, const std::string& text);
std::string readFile(const std::filesystem::path& path);

// Development certificates made by certs/make-certs.sh, once per test program.
struct Certs {
  std::filesystem::path dir, ca, cert, key, clientCert, clientKey;
};
const Certs& devCerts();

// Runs a command, returns its exit status and output.
struct RunResult {
  int status = -1;
  std::string out, err;
};
RunResult run(const std::vector<std::string>& argv, const std::string& stdinText = "");

// Runs `command` with /bin/sh -c (standard output and error captured separately).
RunResult runShell(const std::string& command);
// `s` quoted for the shell: 'it'\''s'.
std::string shellQuote(const std::string& s);

int freePort();

// alliance-webhook serve as a child process.
class ServerProcess {
 public:
  // `extra` is appended to: serve --listen 127.0.0.1:PORT --tls-cert .. --tls-key ..
  explicit ServerProcess(std::vector<std::string> extra = {}, bool waitReady = true);
  ~ServerProcess();

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  bool waitReady(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Sends SIGTERM and waits; returns the exit status (or -1 on timeout / signal death).
  int terminate(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  bool alive();
  std::string log() const;  // everything written to stderr so far

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  TempDir dir_;
};

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

// One TLS connection, speaking HTTP/1.1 by hand so a test controls every byte.
class TlsClient {
 public:
  struct Options {
    std::filesystem::path ca;  // verify the server against it (and the name below)
    std::string verifyName = "localhost";
    std::optional<std::filesystem::path> clientCert, clientKey;
    int maxVersion = 0;  // e.g. TLS1_1_VERSION to test refusal; 0: default
    int minVersion = 0;
    // How long the handshake and each read may block (added for the pressure tests).
    std::chrono::milliseconds timeout{5000};
  };
  TlsClient(int port, Options options);
  ~TlsClient();

  bool connected() const { return ssl_ != nullptr; }
  const std::string& error() const { return error_; }
  SSL* ssl() const { return ssl_; }
  int localPort() const;  // this end's port (to find the connection in the server's log)

  bool sendRaw(const std::string& bytes);
  // A full request; returns nullopt if the connection failed or closed.
  std::optional<HttpResponse> request(const std::string& method, const std::string& path,
                                      const std::string& body,
                                      const std::string& contentType = "application/json");
  std::optional<HttpResponse> readResponse();

  // Added for the hostile-input and pressure tests.
  // How long one read may block (the constructor sets 5 s).
  void setReadTimeout(std::chrono::milliseconds timeout);
  // Reads until the server closes the connection (true) or `within` passes (false). Bytes
  // read on the way, after any already buffered, are appended to `received` when given.
  bool waitClosed(std::chrono::milliseconds within, std::string* received = nullptr);

 private:
  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  std::string error_;
  std::string buffer_;
};

// Plain HTTP GET on loopback (for --metrics-listen).
std::optional<HttpResponse> httpGet(int port, const std::string& path);

// ---- Hostile-input and connection-pressure support ----

// A plain TCP connection to 127.0.0.1:PORT (TCP_NODELAY, 5 s receive timeout); -1 on failure.
int connectTcp(int port);
// Reads a plain socket until the peer closes it (true) or `within` passes (false).
bool waitTcpClosed(int fd, std::chrono::milliseconds within, std::string* received = nullptr);

// Resident set size now and at its peak (VmRSS, VmHWM) from /proc/PID/status, in KiB; -1 if
// unknown. Threads: the process's thread count.
struct ProcessStatus {
  long rssKiB = -1;
  long peakRssKiB = -1;
  long threads = -1;
};
ProcessStatus processStatus(pid_t pid);
// CPU time (user + system) a process has used so far, in seconds; -1 if unknown.
double processCpuSeconds(pid_t pid);

// Raises this process's soft RLIMIT_NOFILE to at least `want` (never above the hard limit);
// returns the soft limit in force afterwards. Children started later inherit it.
long raiseFileLimit(long want);

// Standard base64 with padding (Secret data, caBundle).
std::string base64(const std::string& bytes);

// The p-th percentile (0..100, nearest rank) of `samples`; 0 when empty.
double percentile(std::vector<double> samples, double p);

// Many TLS connections driven together from one thread (non-blocking sockets), as an attacker
// holds them: handshaken and left idle, sent half a request, or trickled a byte at a time. The
// server's certificate is not verified.
class ConnectionSwarm {
 public:
  explicit ConnectionSwarm(int port);
  ~ConnectionSwarm();
  ConnectionSwarm(const ConnectionSwarm&) = delete;
  ConnectionSwarm& operator=(const ConnectionSwarm&) = delete;

  // Opens `count` more connections and drives their TCP connects and TLS handshakes until all
  // are done or `within` passes; returns how many of them completed the handshake.
  std::size_t open(std::size_t count, std::chrono::milliseconds within);
  std::size_t size() const { return conns_.size(); }
  std::size_t handshaken() const;
  // Writes `bytes` on the handshaken connections among [first, first + count); returns on how
  // many the whole write went through.
  std::size_t send(std::size_t first, std::size_t count, const std::string& bytes);
  // How many handshaken connections the server still holds open (anything it sent is read and
  // dropped); a connection it closed is counted out for good.
  std::size_t stillOpen();
  // Polls until the server has closed every handshaken connection (true) or `within` passes.
  bool waitAllClosed(std::chrono::milliseconds within);

 private:
  struct Conn {
    int fd = -1;
    SSL* ssl = nullptr;
    enum State { Connecting, Handshaking, Open, Closed } state = Connecting;
  };
  bool drain(Conn& c);  // false once the server has closed it
  int port_;
  SSL_CTX* ctx_ = nullptr;
  std::vector<Conn> conns_;
};

// A test that checks what the server should do, but that fails today because of a server defect
// already reported and not yet fixed, passes what it found to knownDefect instead of failing:
// - failures found: the defect is still there. Printed as "KNOWN DEFECT <id>: ..." and recorded
//   as the test property known_defect; a failure only when AW_KNOWN_DEFECTS=fail is set.
// - nothing found: the defect is fixed, and the test fails until its mark is removed, so a fix is
//   never silently left unguarded.
void knownDefect(const std::string& id, const std::vector<std::string>& failures);

}  // namespace aw::test
