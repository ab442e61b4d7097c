// Preloaded into `caseledger restore` by tests (LD_PRELOAD): what happens
// right after restore renames its finished copy (store.partial) to store/,
// before its last check of the copy ends, which no test could reach from
// outside. CASELEDGER_TEST_AFTER_RESTORE_RENAME says what:
// - "damage": a byte in the middle of each table file (*.sst) of the copy
//   is flipped, as a disk that lost it would, so the check fails;
// - "hold:DIR": DIR/renamed is made, and the rename returns once DIR/go
//   exists (or after 60 s), so a test can try a writer in between;
// - "die": the process ends at once (SIGKILL), as a restore killed before
//   its check ended.
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <thread>

namespace {

namespace fs = std::filesystem;

void FlipTheMiddleByteOfEachTable(const fs::path& store) {
  for (const fs::directory_entry& e : fs::directory_iterator(store)) {
    if (e.path().extension() != ".sst") continue;
    std::fstream file(e.path(),
                      std::ios::in | std::ios::out | std::ios::binary);
    const std::streamoff middle =
        static_cast<std::streamoff>(e.file_size() / 2);
    char byte = 0;
    file.seekg(middle);
    file.get(byte);
    file.seekp(middle);
    file.put(static_cast<char>(byte ^ 0x5a));
  }
}

void HoldUntilToldToGoOn(const fs::path& dir) {
  std::ofstream(dir / "renamed") << "renamed\n";
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!fs::exists(dir / "go") &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace

extern "C" int renameat2(int olddirfd, const char* oldpath, int newdirfd,
                         const char* newpath, unsigned int flags) {
  using Rename = int (*)(int, const char*, int, const char*, unsigned int);
  const int renamed = reinterpret_cast<Rename>(::dlsym(RTLD_NEXT, "renameat2"))(
      olddirfd, oldpath, newdirfd, newpath, flags);
  const char* what = std::getenv("CASELEDGER_TEST_AFTER_RESTORE_RENAME");
  if (renamed != 0 || what == nullptr ||
      !std::string_view(oldpath).ends_with("/store.partial") ||
      !std::string_view(newpath).ends_with("/store")) {
    return renamed;
  }
  const std::string_view told(what);
  if (told == "damage") FlipTheMiddleByteOfEachTable(newpath);
  if (told.starts_with("hold:")) HoldUntilToldToGoOn(told.substr(5));
  if (told == "die") ::kill(::getpid(), SIGKILL);
  return renamed;
}
