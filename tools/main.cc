// caseledger: the command line. See docs/cli.md or `caseledger --help`.
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "google/protobuf/stubs/logging.h"
#include "tools/cli.h"

namespace {

// A standard descriptor the caller closed (`>&-`) is the next one a file
// opens: RocksDB's info log took descriptor 1, and append's result and
// import's progress went into the ledger's folder, exit 0 (found by an
// adversarial reading); a store file could as well. Each is taken by
// /dev/null opened the other way, so that no file gets it and its use
// fails as on a closed one: standard output's failure is then reported.
void HoldClosedStandardDescriptors() {
  for (int fd = 0; fd <= 2; ++fd) {
    if (::fcntl(fd, F_GETFD) != -1 || errno != EBADF) continue;
    const int held = ::open("/dev/null", fd == 0 ? O_WRONLY : O_RDONLY);
    if (held >= 0 && held != fd) {
      ::dup2(held, fd);
      ::close(held);
    }
  }
}

// With gRPC's default poller (epoll1), serve's teardown of gRPC, once
// stopped, held the process up to ~9 s more when clients had stopped
// reading a stream (found by an adversarial test); with poll(2) it ended
// within 0.01 s of the stop in 8 runs of 8, and appends through the server
// ran as fast (docs/service.md). gRPC reads the choice once, when it
// starts; an operator's own is kept (an empty one aborted that start).
void UsePollForGrpc() {
  const char* poller = std::getenv("GRPC_POLL_STRATEGY");
  if (poller == nullptr || *poller == '\0') {
    ::setenv("GRPC_POLL_STRATEGY", "poll", /*overwrite=*/1);
  }
}

// The ledger keeps each of its table files open (docs/storage.md), a few
// hundred in a large ledger and more in a very large one, and a common
// default soft limit is 1,024 under a far higher hard one: every verb takes
// what the hard limit allows (local reads failed with "Too many open files"
// on a ledger of 1,096 files, found by a probe of a long life).
void TakeTheFileDescriptorsAllowed() {
  struct rlimit files;
  if (::getrlimit(RLIMIT_NOFILE, &files) == 0 &&
      files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &files);
  }
}

}  // namespace

int main(int argc, char** argv) {
  HoldClosedStandardDescriptors();
  TakeTheFileDescriptorsAllowed();
  UsePollForGrpc();
  // A write past the file-size limit (ulimit -f) then fails with EFBIG, an
  // error each writer reports as on a full disk, instead of killing the
  // process mid-command with no word of what was written.
  std::signal(SIGXFSZ, SIG_IGN);
  // Protobuf logs a parse of bad bytes (invalid UTF-8 in a string field) to
  // standard error, beside the verdict or error that already names them:
  // "[libprotobuf ERROR ...]" lines in verify-bundle's output, and one per
  // such request in a server's log, from any client (an adversarial
  // reading). Those lines are dropped, every such failure being reported by
  // its caller; any other is written as protobuf writes it.
  google::protobuf::SetLogHandler([](google::protobuf::LogLevel level,
                                     const char* file, int line,
                                     const std::string& message) {
    if (level != google::protobuf::LOGLEVEL_FATAL &&
        message.find("contains invalid UTF-8 data when parsing") !=
            std::string::npos) {
      return;
    }
    static const char* const kLevels[] = {"INFO", "WARNING", "ERROR", "FATAL"};
    std::cerr << "[libprotobuf " << kLevels[std::clamp<int>(level, 0, 3)] << " "
              << file << ":" << line << "] " << message << std::endl;
  });
  std::vector<std::string> args(argv + 1, argv + argc);
  caseledger::cli::Io io{std::cin, std::cout, std::cerr};
  int code = caseledger::cli::Main(args, io);
  std::cout.flush();
  return code;
}
