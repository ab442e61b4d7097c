// Runs a piece of a test as a user whom file modes bind, for tests of what
// a ledger or server does with files it may not read. Root passes every
// mode check, and the tests run as root in CI.
#ifndef CASELEDGER_TESTS_TESTING_UNPRIVILEGED_PROCESS_H_
#define CASELEDGER_TESTS_TESTING_UNPRIVILEGED_PROCESS_H_

#include <grp.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "absl/functional/function_ref.h"
#include "absl/strings/str_cat.h"

namespace caseledger::testing {

// nobody's uid and gid on Debian.
inline constexpr uid_t kNobody = 65534;

// Runs `run` in a child process as nobody when the tests run as root (as
// the caller itself otherwise), and gives back what it returned, or why
// the child failed. Files `run` must reach need to be chowned to kNobody,
// or open to all, when running as root.
inline std::string InUnprivilegedProcess(absl::FunctionRef<std::string()> run) {
  int pipe_ends[2];
  if (::pipe(pipe_ends) != 0) return "no pipe";
  const pid_t child = ::fork();
  if (child < 0) return "no child process";
  if (child == 0) {
    ::close(pipe_ends[0]);
    if (::geteuid() == 0 &&
        (::setgroups(0, nullptr) != 0 || ::setgid(kNobody) != 0 ||
         ::setuid(kNobody) != 0)) {
      ::_exit(3);
    }
    const std::string said = run();
    const bool written = ::write(pipe_ends[1], said.data(), said.size()) ==
                         static_cast<ssize_t>(said.size());
    ::_exit(written ? 0 : 4);
  }
  ::close(pipe_ends[1]);
  std::string said;
  char chunk[4096];
  for (ssize_t got; (got = ::read(pipe_ends[0], chunk, sizeof chunk)) > 0;) {
    said.append(chunk, static_cast<size_t>(got));
  }
  ::close(pipe_ends[0]);
  int status = 0;
  if (::waitpid(child, &status, 0) != child || !WIFEXITED(status) ||
      WEXITSTATUS(status) != 0) {
    return absl::StrCat("the child process failed (wait status ", status, ")");
  }
  return said;
}

}  // namespace caseledger::testing

#endif  // CASELEDGER_TESTS_TESTING_UNPRIVILEGED_PROCESS_H_
