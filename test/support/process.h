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
  };
  TlsClient(int port, Options options);
  ~TlsClient();

  bool connected() const { return ssl_ != nullptr; }
  const std::string& error() const { return error_; }
  SSL* ssl() const { return ssl_; }

  bool sendRaw(const std::string& bytes);
  // A full request; returns nullopt if the connection failed or closed.
  std::optional<HttpResponse> request(const std::string& method, const std::string& path,
                                      const std::string& body,
                                      const std::string& contentType = "application/json");
  std::optional<HttpResponse> readResponse();

 private:
  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  std::string error_;
  std::string buffer_;
};

// Plain HTTP GET on loopback (for --metrics-listen).
std::optional<HttpResponse> httpGet(int port, const std::string& path);

}  // namespace aw::test
