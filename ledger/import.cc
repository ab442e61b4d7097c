#include "ledger/import.h"

#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "ledger/event_json.h"
#include "ledger/event_validation.h"
#include "ledger/status_macros.h"

namespace caseledger {

std::string DerivedEventId(uint64_t line, const v1::Event& event) {
  v1::Event without_id = event;
  without_id.clear_event_id();
  std::string bytes;
  without_id.SerializeToString(&bytes);
  Sha256Digest d = Sha256(absl::StrCat(line, "\n"), bytes);
  return UuidText(DigestBytes(d), 8);
}

namespace {

absl::StatusOr<std::ifstream> OpenInput(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return absl::InvalidArgumentError(absl::StrCat("cannot read ", path));
  return in;
}

}  // namespace

absl::StatusOr<ImportProgress> ImportEventLines(Ledger& ledger,
                                                const std::string& path,
                                                const ImportOptions& options) {
  // Pass 1: every line parses and is well formed, or nothing is written.
  // Idempotency comes first (domain.md §3): a line whose id is stored is
  // left to the append, which skips it or refuses it as a conflict.
  {
    CASELEDGER_ASSIGN_OR_RETURN(std::ifstream in, OpenInput(path));
    EventLineReader reader(in);
    while (true) {
      auto next = reader.Next();
      if (absl::IsOutOfRange(next.status())) break;
      if (!next.ok()) return next.status();
      if (absl::Status valid = ValidateEvent(next->event); !valid.ok()) {
        const std::string& id = next->event.event_id();
        if (id.empty() || !ledger.ReadEvent(id).ok()) {
          return absl::InvalidArgumentError(
              absl::StrCat("line ", next->line, ": ", valid.message()));
        }
      }
    }
  }
  // Pass 2: append in batches.
  CASELEDGER_ASSIGN_OR_RETURN(std::ifstream in, OpenInput(path));
  EventLineReader reader(in);
  ImportProgress progress;
  std::vector<v1::Event> batch;
  std::vector<uint64_t> lines;
  auto flush = [&]() -> absl::Status {
    if (batch.empty()) return absl::OkStatus();
    auto result = ledger.Append(batch);
    batch.clear();
    if (!result.ok()) {
      std::optional<size_t> index = FailedEventIndex(result.status());
      if (!index || *index >= lines.size()) return result.status();
      absl::string_view message = result.status().message();
      absl::ConsumePrefix(&message, absl::StrCat("event ", *index, ": "));
      return absl::Status(
          result.status().code(),
          absl::StrCat("line ", lines[*index], ": ", std::string(message),
                       " (lines before ", lines.front(),
                       " are imported; fix the line and run the import "
                       "again: stored events are skipped)"));
    }
    for (const auto& e : result->events) {
      ++(e.duplicate ? progress.duplicates : progress.appended);
    }
    lines.clear();
    if (options.progress) options.progress(progress);
    return absl::OkStatus();
  };
  while (true) {
    auto next = reader.Next();
    if (absl::IsOutOfRange(next.status())) break;
    if (!next.ok()) return next.status();
    progress.lines = next->line;
    if (next->event.event_id().empty()) {
      next->event.set_event_id(DerivedEventId(next->line, next->event));
    }
    batch.push_back(std::move(next->event));
    lines.push_back(next->line);
    if (batch.size() >= std::max<size_t>(options.batch_size, 1)) {
      CASELEDGER_RETURN_IF_ERROR(flush());
    }
  }
  CASELEDGER_RETURN_IF_ERROR(flush());
  progress.lines = reader.line();
  return progress;
}

}  // namespace caseledger
