// caseledger: the command line. See docs/cli.md or `caseledger --help`.
#include <csignal>
#include <iostream>
#include <string>
#include <vector>

#include "tools/cli.h"

int main(int argc, char** argv) {
  // A write past the file-size limit (ulimit -f) then fails with EFBIG, an
  // error each writer reports as on a full disk, instead of killing the
  // process mid-command with no word of what was written.
  std::signal(SIGXFSZ, SIG_IGN);
  std::vector<std::string> args(argv + 1, argv + argc);
  caseledger::cli::Io io{std::cin, std::cout, std::cerr};
  int code = caseledger::cli::Main(args, io);
  std::cout.flush();
  return code;
}
