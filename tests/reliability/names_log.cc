// Preloaded into `caseledger` by tests (LD_PRELOAD): logs to the file named
// by CASELEDGER_TEST_NAMES_LOG each name the process makes in a folder and
// each fsync it makes, so that a test can check that every name a verb
// leaves was made durable by a sync of its folder before the verb ended
// (durable_names_test.cc). POSIX keeps a new or renamed name through a
// power loss only once its folder is synced; the fault injection of the
// ledger's own tests sees only what goes through RocksDB, and this sees the
// rest: the folders and files init, backup, restore and export make.
//
// One line per event, in the order the calls returned:
//   made FOLDER PATH         a file (opened with O_CREAT where there was
//                            none), a folder (mkdir) or a hard link
//   renamed FOLDER FILE FROM TO
//                            a rename onto TO
//   synced ID PATH           fsync or fdatasync of a file or folder
// FOLDER is "device:inode" of the folder holding the new name, FILE that of
// a regular file renamed ("-" for anything else), ID that of what was
// synced: a folder or file renamed later is still known. Paths are as the
// process gave them, made absolute.
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace {

template <typename F>
F Next(const char* name) {
  return reinterpret_cast<F>(::dlsym(RTLD_NEXT, name));
}

std::string Absolute(int dirfd, const char* path) {
  if (path[0] == '/') return path;
  std::string base;
  if (dirfd == AT_FDCWD) {
    char cwd[4096];
    if (::getcwd(cwd, sizeof cwd) != nullptr) base = cwd;
  } else {
    char target[4096];
    const std::string link = "/proc/self/fd/" + std::to_string(dirfd);
    const ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
    if (n > 0) base.assign(target, n);
  }
  return base + "/" + path;
}

std::string IdOf(const struct stat& st) {
  return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
}

// The folder holding `path`, as "device:inode" ("?" when it cannot be
// read).
std::string FolderOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  const std::string folder = slash == 0 ? "/" : path.substr(0, slash);
  struct stat st;
  return ::stat(folder.c_str(), &st) == 0 ? IdOf(st) : "?";
}

// Appends `line` to the log in one write, so that threads' lines do not mix.
void Log(const std::string& line) {
  const char* log = std::getenv("CASELEDGER_TEST_NAMES_LOG");
  if (log == nullptr) return;
  static const auto open_log = Next<int (*)(const char*, int, ...)>("open");
  const int fd = open_log(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return;
  const std::string text = line + "\n";
  (void)!::write(fd, text.data(), text.size());
  ::close(fd);
}

bool Exists(int dirfd, const char* path) {
  struct stat st;
  return ::fstatat(dirfd, path, &st, 0) == 0;
}

void Made(int dirfd, const char* path) {
  const std::string absolute = Absolute(dirfd, path);
  Log("made " + FolderOf(absolute) + " " + absolute);
}

void Renamed(int from_dirfd, const char* from, int to_dirfd, const char* to) {
  const std::string target = Absolute(to_dirfd, to);
  struct stat st;
  const std::string file =
      ::stat(target.c_str(), &st) == 0 && S_ISREG(st.st_mode) ? IdOf(st) : "-";
  Log("renamed " + FolderOf(target) + " " + file + " " +
      Absolute(from_dirfd, from) + " " + target);
}

void Synced(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return;
  char target[4096];
  const std::string link = "/proc/self/fd/" + std::to_string(fd);
  const ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
  Log("synced " + IdOf(st) + " " + std::string(target, n > 0 ? n : 0));
}

mode_t ModeOf(int flags, va_list args) {
  return (flags & (O_CREAT | O_TMPFILE)) != 0 ? va_arg(args, mode_t) : 0;
}

// An open at (`dirfd`, `path`), logged when it made the name.
int OpenLogged(int dirfd, const char* path, int flags, mode_t mode) {
  static const auto next = Next<int (*)(int, const char*, int, ...)>("openat");
  const bool creates = (flags & O_CREAT) != 0 && !Exists(dirfd, path);
  const int fd = next(dirfd, path, flags, mode);
  if (fd >= 0 && creates) Made(dirfd, path);
  return fd;
}

// fopen or fopen64 (`name`), logged when it made the file.
FILE* FopenLogged(const char* name, const char* path, const char* mode) {
  const bool creates =
      std::strpbrk(mode, "wa") != nullptr && !Exists(AT_FDCWD, path);
  FILE* file = Next<FILE* (*)(const char*, const char*)>(name)(path, mode);
  if (file != nullptr && creates) Made(AT_FDCWD, path);
  return file;
}

}  // namespace

extern "C" {

// Each open goes through the C library's openat, the one call they all come
// to.
int open(const char* path, int flags, ...) {
  va_list args;
  va_start(args, flags);
  const mode_t mode = ModeOf(flags, args);
  va_end(args);
  return OpenLogged(AT_FDCWD, path, flags, mode);
}

int open64(const char* path, int flags, ...) {
  va_list args;
  va_start(args, flags);
  const mode_t mode = ModeOf(flags, args);
  va_end(args);
  return OpenLogged(AT_FDCWD, path, flags, mode);
}

int openat(int dirfd, const char* path, int flags, ...) {
  va_list args;
  va_start(args, flags);
  const mode_t mode = ModeOf(flags, args);
  va_end(args);
  return OpenLogged(dirfd, path, flags, mode);
}

int openat64(int dirfd, const char* path, int flags, ...) {
  va_list args;
  va_start(args, flags);
  const mode_t mode = ModeOf(flags, args);
  va_end(args);
  return OpenLogged(dirfd, path, flags, mode);
}

// std::ofstream and fopen open through the C library's own internal open,
// which no preload sees.
FILE* fopen(const char* path, const char* mode) {
  return FopenLogged("fopen", path, mode);
}

FILE* fopen64(const char* path, const char* mode) {
  return FopenLogged("fopen64", path, mode);
}

int mkdir(const char* path, mode_t mode) {
  static const auto next = Next<int (*)(const char*, mode_t)>("mkdir");
  const int made = next(path, mode);
  if (made == 0) Made(AT_FDCWD, path);
  return made;
}

int mkdirat(int dirfd, const char* path, mode_t mode) {
  static const auto next = Next<int (*)(int, const char*, mode_t)>("mkdirat");
  const int made = next(dirfd, path, mode);
  if (made == 0) Made(dirfd, path);
  return made;
}

int link(const char* from, const char* to) {
  static const auto next = Next<int (*)(const char*, const char*)>("link");
  const int linked = next(from, to);
  if (linked == 0) Made(AT_FDCWD, to);
  return linked;
}

int linkat(int from_dirfd, const char* from, int to_dirfd, const char* to,
           int flags) {
  static const auto next =
      Next<int (*)(int, const char*, int, const char*, int)>("linkat");
  const int linked = next(from_dirfd, from, to_dirfd, to, flags);
  if (linked == 0) Made(to_dirfd, to);
  return linked;
}

int rename(const char* from, const char* to) {
  static const auto next = Next<int (*)(const char*, const char*)>("rename");
  const int renamed = next(from, to);
  if (renamed == 0) Renamed(AT_FDCWD, from, AT_FDCWD, to);
  return renamed;
}

int renameat(int from_dirfd, const char* from, int to_dirfd, const char* to) {
  static const auto next =
      Next<int (*)(int, const char*, int, const char*)>("renameat");
  const int renamed = next(from_dirfd, from, to_dirfd, to);
  if (renamed == 0) Renamed(from_dirfd, from, to_dirfd, to);
  return renamed;
}

int renameat2(int from_dirfd, const char* from, int to_dirfd, const char* to,
              unsigned int flags) {
  static const auto next =
      Next<int (*)(int, const char*, int, const char*, unsigned)>("renameat2");
  const int renamed = next(from_dirfd, from, to_dirfd, to, flags);
  if (renamed == 0) Renamed(from_dirfd, from, to_dirfd, to);
  return renamed;
}

int fsync(int fd) {
  static const auto next = Next<int (*)(int)>("fsync");
  const int synced = next(fd);
  if (synced == 0) Synced(fd);
  return synced;
}

int fdatasync(int fd) {
  static const auto next = Next<int (*)(int)>("fdatasync");
  const int synced = next(fd);
  if (synced == 0) Synced(fd);
  return synced;
}

}  // extern "C"
