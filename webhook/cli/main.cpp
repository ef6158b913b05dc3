// alliance-webhook: wiring only. Everything else lives in webhook/ and rules/.
#include <string>
#include <vector>

#include "webhook/cli/cli.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return aw::webhook::runCli(args);
}
