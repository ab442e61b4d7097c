#include "projections/deadline_index.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "ledger/status_macros.h"
#include "ledger/timestamp.h"
#include "projections/case_model.h"
#include "projections/evaluation.h"

namespace caseledger::projections {
namespace {

// Writes are grouped so a long catch-up makes steady, resumable progress.
constexpr size_t kEventsPerWrite = 20000;
// The events that set a deadline: all KeysOf reads.
constexpr v1::Event::PayloadCase kPayloadsWithDeadlines[] = {
    v1::Event::kDocumentRequestSent, v1::Event::kDeadlineExtended};
// How often Verify reports progress.
constexpr uint64_t kEventsPerProgress = 20000;

std::string TimeKey(absl::Time t) {
  // Offset so that times before 1970 sort first.
  uint64_t v = static_cast<uint64_t>(absl::ToUnixSeconds(t)) ^ (1ull << 63);
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i, v >>= 8) out[i] = static_cast<char>(v & 0xff);
  return out;
}

std::string Key(absl::Time deadline, const std::string& case_id,
                const std::string& request_id) {
  std::string key = TimeKey(deadline);
  key.append(case_id);
  key.push_back('\0');
  key.append(request_id);
  return key;
}

// The case and request of a key of at least 8 bytes (one without the 0x00
// is read as all case id).
struct KeyParts {
  std::string_view case_id;
  std::string_view request_id;
};
KeyParts PartsOf(std::string_view key) {
  std::string_view rest = key.substr(8);
  const size_t end_of_case = rest.find('\0');
  return {rest.substr(0, end_of_case), end_of_case == std::string_view::npos
                                           ? std::string_view()
                                           : rest.substr(end_of_case + 1)};
}

// The deadline `event` sets, to the nanosecond (a key holds whole seconds).
std::optional<absl::Time> DeadlineSetBy(const v1::Event& event) {
  if (event.has_document_request_sent() &&
      event.document_request_sent().has_deadline()) {
    return FromTimestamp(event.document_request_sent().deadline());
  }
  if (event.has_deadline_extended() &&
      event.deadline_extended().has_new_deadline()) {
    return FromTimestamp(event.deadline_extended().new_deadline());
  }
  return std::nullopt;
}

// The position the stored index has applied. One past the ledger's end,
// or one that does not read, was not written by this log's catch-ups (a
// log file lost after the index's write, a damaged store), and an answer
// from it leaves out every deadline set since: `deadlines --status
// OVERDUE` answered from an index at position 1,000,000 of a 2-entry
// ledger (found by an adversarial test). Read before the size, which only
// grows, so that a catch-up beside the caller cannot seem to pass it.
absl::StatusOr<uint64_t> AppliedPosition(const Ledger& ledger) {
  auto applied = ledger.ProjectionPosition(DeadlineIndex::kName);
  if (!applied.ok()) {
    if (!absl::IsDataLoss(applied.status())) return applied.status();
    return absl::DataLossError(absl::StrCat(
        "the deadline index's stored position does not read (",
        applied.status().message(), "); run 'caseledger rebuild'"));
  }
  if (const uint64_t size = ledger.Size(); *applied > size) {
    return absl::DataLossError(
        absl::StrCat("the deadline index has applied position ", *applied,
                     " but the ledger has only ", size,
                     " entries; run 'caseledger rebuild'"));
  }
  return *applied;
}

}  // namespace

std::vector<std::string> DeadlineIndex::KeysOf(const RecordedEvent& e) {
  const v1::Event& event = e.event;
  const std::optional<absl::Time> deadline = DeadlineSetBy(event);
  if (!deadline) return {};
  return {Key(*deadline, event.case_id(),
              event.has_document_request_sent()
                  ? event.document_request_sent().request_id()
                  : event.deadline_extended().request_id())};
}

absl::StatusOr<uint64_t> DeadlineIndex::CatchUp(Ledger& ledger,
                                                const Progress& progress) {
  CASELEDGER_ASSIGN_OR_RETURN(uint64_t applied, AppliedPosition(ledger));
  const uint64_t target = ledger.Size();
  std::vector<Ledger::ProjectionChange> changes;
  uint64_t written = applied;
  // Every event up to `position` is applied once the changes are written:
  // the events passed over set no deadline.
  auto write = [&](uint64_t position) -> absl::Status {
    CASELEDGER_RETURN_IF_ERROR(
        ledger.WriteProjection(kName, changes, position));
    changes.clear();
    written = position;
    if (progress) progress(position, target);
    return absl::OkStatus();
  };
  // Our own stop at `target`, told apart from a kCancelled of the walk.
  bool reached = false;
  absl::Status s = ledger.ForEachOf(
      kPayloadsWithDeadlines, applied + 1, [&](const RecordedEvent& e) {
        if (e.position > target) {  // appended since
          reached = true;
          return absl::CancelledError();
        }
        for (std::string& key : KeysOf(e)) {
          changes.emplace_back(std::move(key), std::string());
        }
        if (e.position - written >= kEventsPerWrite) return write(e.position);
        return absl::OkStatus();
      });
  if (!s.ok() && !reached) return s;
  if (written != target) CASELEDGER_RETURN_IF_ERROR(write(target));
  return target - applied;
}

absl::StatusOr<uint64_t> DeadlineIndex::Rebuild(Ledger& ledger,
                                                const Progress& progress) {
  CASELEDGER_RETURN_IF_ERROR(ledger.DropProjection(kName));
  return CatchUp(ledger, progress);
}

absl::StatusOr<DeadlineIndex::Verified> DeadlineIndex::Verify(
    const Ledger& ledger, const Progress& progress) {
  Verified verified;
  CASELEDGER_ASSIGN_OR_RETURN(verified.position, AppliedPosition(ledger));
  uint64_t reported = 0;
  bool reached = false;  // our own stop, as in CatchUp
  absl::Status s =
      ledger.ForEachOf(kPayloadsWithDeadlines, 1, [&](const RecordedEvent& e) {
        if (e.position > verified.position) {
          reached = true;
          return absl::CancelledError();
        }
        for (const std::string& key : KeysOf(e)) {
          CASELEDGER_ASSIGN_OR_RETURN(std::optional<std::string> stored,
                                      ledger.ReadProjection(kName, key));
          if (!stored) {
            const KeyParts missing = PartsOf(key);
            return absl::DataLossError(absl::StrCat(
                "position ", e.position,
                ": the deadline index lacks the deadline ",
                FormatUtc(*DeadlineSetBy(e.event)), " that this ",
                EventType(e.event), " sets for request ",
                std::string(missing.request_id), " of case ",
                std::string(missing.case_id), "; run 'caseledger rebuild'"));
          }
          ++verified.deadlines;
        }
        if (progress && e.position - reported >= kEventsPerProgress) {
          progress(e.position, verified.position);
          reported = e.position;
        }
        return absl::OkStatus();
      });
  if (!s.ok() && !reached) return s;
  if (progress) progress(verified.position, verified.position);
  return verified;
}

absl::StatusOr<std::set<std::string>> DeadlineIndex::CasesWithDeadlineBefore(
    const Ledger& ledger, absl::Time before) {
  std::set<std::string> cases;
  // A superset is fine (callers evaluate each case exactly); the extra
  // second covers deadlines within the same second as `before`.
  std::string end = TimeKey(before + absl::Seconds(1));
  // The position first: a catch-up running beside this (serve's) may store
  // more keys and a later position between the two reads, and folding in
  // from the position read after the scan would skip what the scan missed.
  CASELEDGER_ASSIGN_OR_RETURN(uint64_t applied, AppliedPosition(ledger));
  CASELEDGER_RETURN_IF_ERROR(ledger.ScanProjection(
      kName, "", "",
      [&](std::string_view key, std::string_view) -> absl::StatusOr<bool> {
        // A key the index never writes (shorter than a time) is passed
        // over: it sorts first, and stopping at it hid every overdue
        // request (found by an adversarial reading).
        if (key.size() < 8) return true;
        if (key.substr(0, 8) >= end) return false;
        cases.insert(std::string(PartsOf(key).case_id));
        return true;
      }));
  CASELEDGER_RETURN_IF_ERROR(ledger.ForEachOf(
      kPayloadsWithDeadlines, applied + 1, [&](const RecordedEvent& e) {
        for (const std::string& key : KeysOf(e)) {
          if (key.substr(0, 8) < end) cases.insert(e.event.case_id());
        }
        return absl::OkStatus();
      }));
  return cases;
}

}  // namespace caseledger::projections
