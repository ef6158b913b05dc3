// Writes the benchmark payloads into a folder: NAME.json per payload and payloads.tsv
// (name, endpoint path, file, bytes, description), which bench/bench.sh reads.
#include <fstream>
#include <iostream>

#include "bench/payloads.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: aw_bench_payloads OUT_DIR\n";
    return 2;
  }
  const std::string dir = argv[1];
  std::ofstream index(dir + "/payloads.tsv");
  for (const aw::bench::Payload& p : aw::bench::standardPayloads()) {
    const std::string file = dir + "/" + p.name + ".json";
    std::ofstream out(file, std::ios::binary);
    out << p.body;
    if (!out) {
      std::cerr << "aw_bench_payloads: cannot write " << file << "\n";
      return 1;
    }
    index << p.name << '\t' << p.path << '\t' << file << '\t' << p.body.size() << '\t' << p.describe
          << '\n';
  }
  // ServiceEntries of 100 / 1,000 / 10,000 endpoints (N/20 hosts, 4 ports), the family of
  // se1m, for the linear-growth check under callgrind: growth.tsv.
  std::ofstream growth(dir + "/growth.tsv");
  for (std::size_t n : {100, 1000, 10000}) {
    const std::string name = "se_n" + std::to_string(n);
    const std::string body = aw::bench::reviewBody(aw::bench::serviceEntry(n, n / 20, 4));
    const std::string file = dir + "/" + name + ".json";
    std::ofstream out(file, std::ios::binary);
    out << body;
    growth << name << "\t/mutate\t" << file << '\t' << body.size() << '\t' << n << " endpoints\n";
    if (!out) return 1;
  }
  return index && growth ? 0 : 1;
}
