#include "ledger/internal/info_log.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace caseledger::internal {

InfoLog::InfoLog(rocksdb::FileSystem* fs, std::string path, uint64_t limit)
    : Logger(rocksdb::InfoLogLevel::INFO_LEVEL),
      fs_(fs),
      path_(std::move(path)),
      limit_(limit) {
  if (path_.empty()) return;
  absl::MutexLock lock(&mu_);
  Open();
  if (size_ > limit_) StartOver();
}

void InfoLog::Open() {
  size_ = 0;
  if (!fs_->ReopenWritableFile(path_, rocksdb::FileOptions(), &file_, nullptr)
           .ok()) {
    file_.reset();
    return;
  }
  fs_->GetFileSize(path_, rocksdb::IOOptions(), &size_, nullptr)
      .PermitUncheckedError();
}

void InfoLog::CloseFile() {
  if (file_ == nullptr) return;
  file_->Close(rocksdb::IOOptions(), nullptr).PermitUncheckedError();
  file_.reset();
}

void InfoLog::StartOver() {
  CloseFile();
  fs_->RenameFile(path_, path_ + ".old", rocksdb::IOOptions(), nullptr)
      .PermitUncheckedError();
  Open();
}

void InfoLog::Logv(const char* format, va_list ap) {
  char text[1024];
  std::string line = absl::FormatTime("%Y/%m/%d-%H:%M:%E6S ", absl::Now(),
                                      absl::UTCTimeZone());
  const int n = std::vsnprintf(text, sizeof text, format, ap);
  if (n < 0) return;
  line.append(text, std::min<size_t>(static_cast<size_t>(n), sizeof text - 1));
  if (line.back() != '\n') line.push_back('\n');
  absl::MutexLock lock(&mu_);
  if (file_ == nullptr) return;
  if (size_ + line.size() > limit_) {
    StartOver();
    if (file_ == nullptr) return;
  }
  if (file_->Append(rocksdb::Slice(line), rocksdb::IOOptions(), nullptr).ok()) {
    size_ += line.size();
  }
}

rocksdb::Status InfoLog::CloseImpl() {
  absl::MutexLock lock(&mu_);
  CloseFile();
  return rocksdb::Status::OK();
}

}  // namespace caseledger::internal
