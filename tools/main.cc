// caseledger: the command line. See docs/cli.md or `caseledger --help`.
#include <iostream>
#include <string>
#include <vector>

#include "tools/cli.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  caseledger::cli::Io io{std::cin, std::cout, std::cerr};
  int code = caseledger::cli::Main(args, io);
  std::cout.flush();
  return code;
}
