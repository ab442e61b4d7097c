// Runs a program of the project as a user would, for the suites that test
// the command line from outside: its exit code and what it printed.
#ifndef CASELEDGER_TESTS_TESTING_CLI_RUN_H_
#define CASELEDGER_TESTS_TESTING_CLI_RUN_H_

#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/testing/test_util.h"

namespace caseledger::testing {

struct CliRun {
  int code = -1;  // the exit code; -1 when the program did not exit
  std::string out;
  std::string err;
};

// Runs `program args` through the shell (`args` quoted by the caller where
// needed) with `stdin_text` on its standard input. Its input and output
// pass through files in `scratch`, replaced at each run.
inline CliRun RunCli(const std::string& program, const std::string& args,
                     const TempFolder& scratch,
                     const std::string& stdin_text = "") {
  const std::string in = scratch.Sub("stdin"), out = scratch.Sub("stdout"),
                    err = scratch.Sub("stderr");
  std::ofstream(in, std::ios::binary) << stdin_text;
  const std::string command =
      absl::StrCat(program, " ", args, " <", in, " >", out, " 2>", err);
  const int status = std::system(command.c_str());
  CliRun r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = FileContents(out);
  r.err = FileContents(err);
  return r;
}

// The environment that preloads `module` (LD_PRELOAD) into a program of the
// project, a shared library the tests build to act inside it. A sanitized
// build's runtime would refuse to come second in the library list.
inline std::vector<std::pair<std::string, std::string>> Preloading(
    const std::string& module) {
  const char* asan = std::getenv("ASAN_OPTIONS");
  return {{"LD_PRELOAD", module},
          {"ASAN_OPTIONS", absl::StrCat(asan == nullptr ? "" : asan,
                                        ":verify_asan_link_order=0")}};
}

// `program` run with `settings` added to its environment, for RunCli.
inline std::string WithEnvironment(
    const std::vector<std::pair<std::string, std::string>>& settings,
    const std::string& program) {
  std::string command = "env ";
  for (const auto& [name, value] : settings) {
    absl::StrAppend(&command, name, "='", value, "' ");
  }
  return command + program;
}

}  // namespace caseledger::testing

#endif  // CASELEDGER_TESTS_TESTING_CLI_RUN_H_
