// cpp-httplib's own connection handling, for the floor comparison in bench/bench.sh: its
// SSLServer (a thread per connection, poll per read, 12 system calls per request) serving
// GET /healthz "ok\n" with the same certificate, next to the server's own connection layer.
// usage: aw_bench_httplib_floor PORT CERT KEY
#include <httplib.h>

#include <cstdio>
#include <string>

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: aw_bench_httplib_floor PORT CERT KEY\n");
    return 2;
  }
  httplib::SSLServer server(argv[2], argv[3]);
  if (!server.is_valid()) {
    std::fprintf(stderr, "aw_bench_httplib_floor: cannot load %s / %s\n", argv[2], argv[3]);
    return 1;
  }
  server.new_task_queue = [] { return new httplib::ThreadPool(128); };
  server.set_keep_alive_max_count(1000000);
  server.set_keep_alive_timeout(10);
  server.set_tcp_nodelay(true);
  server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain");
  });
  return server.listen("127.0.0.1", std::stoi(argv[1])) ? 0 : 1;
}
