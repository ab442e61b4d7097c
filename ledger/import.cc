#include "ledger/import.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "absl/algorithm/container.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "ledger/event_json.h"
#include "ledger/event_validation.h"
#include "ledger/status_macros.h"

namespace caseledger {

namespace {

std::string BytesWithoutId(const v1::Event& event) {
  v1::Event without_id = event;
  without_id.clear_event_id();
  std::string bytes;
  // Serialization is deterministic within one binary; an event whose bytes
  // changed with protobuf's version would get a new id, like an edited one.
  without_id.SerializeToString(&bytes);
  return bytes;
}

std::string IdOf(uint64_t occurrence, std::string_view bytes) {
  Sha256Digest d =
      Sha256(absl::StrCat("import occurrence ", occurrence, "\n"), bytes);
  return UuidText(DigestBytes(d), 8);
}

uint64_t First64Bits(const Sha256Digest& d) {
  uint64_t bits = 0;
  for (int i = 0; i < 8; ++i) bits = bits << 8 | d[i];
  return bits;
}

// Counts the identical events of one input. Keyed by 64 bits of their
// digest to keep ~16 bytes per line: two different events that share them
// (about one chance in 10^7 for 10^7 lines) only number the later one as a
// repeat, which the same input numbers the same way again.
class Occurrences {
 public:
  uint64_t Next(std::string_view bytes) {
    const uint64_t key = First64Bits(Sha256(bytes));
    if (seen_.insert(key).second) return 0;
    return ++repeats_[key];
  }

 private:
  absl::flat_hash_set<uint64_t> seen_;
  absl::flat_hash_map<uint64_t, uint64_t> repeats_;
};

// The event's id as the ledger stores it, and the digest of its content
// under that id: two lines the ledger would take for one event have equal
// ones.
std::pair<std::string, Sha256Digest> StoredIdAndContent(
    const v1::Event& event) {
  std::string id = CanonicalEventId(event.event_id());
  std::string bytes;
  if (id == event.event_id()) {
    event.SerializeToString(&bytes);
  } else {
    v1::Event canonical = event;
    canonical.set_event_id(id);
    canonical.SerializeToString(&bytes);
  }
  return {std::move(id), Sha256(bytes)};
}

// The event_ids an input gives, so that an id given twice with other
// content is refused by the check, before anything is written, as append
// refuses it within one call (the import's batches found it only when
// writing the second line's, with the first's stored). Kept as 64 bits of
// the id's digest, 64 of the content's and the line, 25 to 55 bytes per line
// that gives an id; two ids that share those 64 bits are told apart by
// reading both lines again (Confirm).
class GivenIds {
 public:
  void Add(const v1::Event& event, uint64_t line) {
    const auto [id, content] = StoredIdAndContent(event);
    const Given given{First64Bits(content), line};
    auto [it, first] = first_.try_emplace(First64Bits(Sha256(id)), given);
    if (!first && it->second.content != given.content &&
        suspects_.size() < kMostSuspects) {
      suspects_.push_back({it->second.line, line});
    }
  }

  // "line L: ..." for each line that gives the id of an earlier line with
  // other content, in line order: `in` is read again from its start, when
  // any pair of lines is suspected.
  absl::StatusOr<std::vector<std::pair<uint64_t, std::string>>> Confirm(
      std::istream& in) const {
    std::vector<std::pair<uint64_t, std::string>> conflicts;
    if (suspects_.empty()) return conflicts;
    absl::flat_hash_map<uint64_t, std::pair<std::string, Sha256Digest>> read;
    for (const auto& [earlier, later] : suspects_) {
      read[earlier];
      read[later];
    }
    in.clear();
    if (!in.seekg(0)) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot read the input again: ", std::strerror(errno)));
    }
    EventLineReader reader(in);
    while (true) {
      auto next = reader.Next();
      if (absl::IsOutOfRange(next.status())) break;
      if (!next.ok()) continue;  // refused already, or ends the input
      auto it = read.find(next->line);
      if (it != read.end()) it->second = StoredIdAndContent(next->event);
    }
    for (const auto& [earlier, later] : suspects_) {
      const auto& [id, content] = read.at(later);
      if (id != read.at(earlier).first || content == read.at(earlier).second) {
        continue;  // two ids sharing 64 bits, or a line changed meanwhile
      }
      conflicts.emplace_back(
          later,
          absl::StrCat("line ", later, ": event_id ", id, " is given on line ",
                       earlier, " too, with other content"));
    }
    return conflicts;
  }

 private:
  // Enough to name the first refusals; a file that gives more ids twice is
  // refused for those, and any beyond still when written.
  static constexpr size_t kMostSuspects = 100;
  struct Given {
    uint64_t content;
    uint64_t line;
  };
  absl::flat_hash_map<uint64_t, Given> first_;
  std::vector<std::pair<uint64_t, uint64_t>> suspects_;
};

constexpr char kReadTwice[] =
    "import reads its input twice, once to check every line and once to "
    "append; save it to a file first, or use append, which reads its input "
    "once";

absl::StatusOr<std::ifstream> OpenInput(const std::string& path) {
  // A folder opens as a stream that fails on its first read. A pipe would
  // be empty when read the second time (and a named pipe blocks the open
  // until a writer comes), so it is refused before it is opened.
  if (path == "-") {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot import standard input ('-'): ", kReadTwice));
  }
  std::error_code ec;
  const auto type = std::filesystem::status(path, ec).type();
  if (type == std::filesystem::file_type::directory) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read ", path, ": it is a folder"));
  }
  if (!ec && type != std::filesystem::file_type::regular) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot import ", path,
        ": it is not a regular file (a pipe or a device); ", kReadTwice));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read ", path, ": ", std::strerror(errno)));
  }
  return in;
}

constexpr uint64_t kLinesPerCheckReport = 100000;
constexpr size_t kMostRefusalsNamed = 20;

}  // namespace

std::string DerivedEventId(uint64_t occurrence, const v1::Event& event) {
  return IdOf(occurrence, BytesWithoutId(event));
}

ImportTarget IntoLedger(Ledger& ledger) {
  ImportTarget target;
  target.append = [&ledger](absl::Span<const v1::Event> batch) {
    return ledger.Append(batch);
  };
  target.stores = [&ledger](const std::string& event_id) {
    return ledger.ReadEvent(event_id).ok();
  };
  return target;
}

absl::StatusOr<ImportProgress> ImportEventLines(Ledger& ledger,
                                                const std::string& path,
                                                const ImportOptions& options) {
  return ImportEventLines(IntoLedger(ledger), path, options);
}

absl::StatusOr<ImportProgress> ImportEventLines(const ImportTarget& target,
                                                const std::string& path,
                                                const ImportOptions& options) {
  // Pass 1: every line parses and is well formed, or nothing is written.
  // Idempotency comes first (domain.md §3): a line whose id is stored is
  // left to the append, which skips it or refuses it as a conflict.
  ImportProgress progress;
  // One open file for both passes: a file put in its place meanwhile is not
  // read, and one that grows or shrinks is noticed by its line count.
  CASELEDGER_ASSIGN_OR_RETURN(std::ifstream in, OpenInput(path));
  if (target.ready) {
    if (absl::Status ready = target.ready(); !ready.ok()) {
      return absl::Status(ready.code(),
                          absl::StrCat(ready.message(),
                                       " (nothing is imported; the input "
                                       "is not read)"));
    }
  }
  auto stop_requested = [&options] {
    return options.stop_requested && options.stop_requested();
  };
  {
    EventLineReader reader(in);
    uint64_t events = 0;
    // Every refused line up to kMostRefusalsNamed, so that a file with
    // several mistakes is not fixed one whole check pass at a time (found
    // by an outside reading).
    std::vector<std::pair<uint64_t, std::string>> refusals;
    GivenIds given_ids;
    bool read_to_the_end = false;
    while (refusals.size() < kMostRefusalsNamed) {
      auto next = reader.Next();
      if (absl::IsOutOfRange(next.status())) {
        read_to_the_end = true;
        break;
      }
      if (absl::IsInvalidArgument(next.status())) {
        refusals.emplace_back(reader.line(), next.status().message());
        continue;
      }
      if (!next.ok()) return next.status();
      if (stop_requested()) {
        return absl::CancelledError(absl::StrCat("stopped while checking line ",
                                                 next->line,
                                                 ": nothing is written"));
      }
      ++events;
      if (options.checked && next->line % kLinesPerCheckReport == 0) {
        options.checked(next->line, false);
      }
      if (absl::Status valid = ValidateEvent(next->event); !valid.ok()) {
        const std::string& id = next->event.event_id();
        if (id.empty() || !target.stores || !target.stores(id)) {
          refusals.emplace_back(
              next->line,
              absl::StrCat("line ", next->line, ": ", valid.message()));
        }
      } else {
        if (target.refuses) {
          if (absl::Status refused = target.refuses(next->event);
              !refused.ok()) {
            refusals.emplace_back(
                next->line,
                absl::StrCat("line ", next->line, ": ", refused.message()));
          }
        }
        if (!next->event.event_id().empty()) {
          given_ids.Add(next->event, next->line);
        }
      }
    }
    CASELEDGER_ASSIGN_OR_RETURN(auto conflicts, given_ids.Confirm(in));
    // An id reused with other content is a conflict (domain.md §6, exit 3),
    // as append says of it; with any malformed line, bad input comes first.
    const absl::StatusCode code = !conflicts.empty() && refusals.empty()
                                      ? absl::StatusCode::kAlreadyExists
                                      : absl::StatusCode::kInvalidArgument;
    if (!conflicts.empty()) {
      refusals.insert(refusals.end(), conflicts.begin(), conflicts.end());
      absl::c_stable_sort(refusals, [](const auto& a, const auto& b) {
        return a.first < b.first;
      });
      if (refusals.size() > kMostRefusalsNamed) {
        refusals.resize(kMostRefusalsNamed);
        read_to_the_end = false;
      }
    }
    if (refusals.size() == 1) return absl::Status(code, refusals[0].second);
    if (!refusals.empty()) {
      std::vector<std::string> named;
      for (auto& [line, refusal] : refusals) named.push_back(refusal);
      return absl::Status(
          code,
          absl::StrCat(read_to_the_end
                           ? absl::StrCat(refusals.size(), " lines are refused")
                           : absl::StrCat("the check stopped at ",
                                          kMostRefusalsNamed, " refused lines"),
                       ", and nothing is written:\n  ",
                       absl::StrJoin(named, "\n  ")));
    }
    if (events == 0) {
      return absl::InvalidArgumentError("the input holds no events");
    }
    progress.total_lines = reader.line();
    if (options.checked) options.checked(reader.line(), true);
  }
  // Pass 2: append in batches.
  in.clear();
  if (!in.seekg(0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read ", path, " again: ", std::strerror(errno)));
  }
  EventLineReader reader(in);
  Occurrences occurrences;
  bool first_batch = true;
  std::vector<v1::Event> batch;
  size_t batch_bytes = 0;
  std::vector<uint64_t> lines;
  // Whether the last batch written was stored already, every line of it: a
  // run again after a stop, still passing over what an earlier run stored.
  bool passing_over_stored = false;
  // What is stored once the batch in hand is not: every batch before it is,
  // and a batch is written whole or not at all. Lines after it may be too,
  // by an earlier run: "stopped before line 4001" read as the first line
  // not imported when 50,000 were (found by an adversarial reading).
  auto imported_before = [&](uint64_t first_unstored) -> std::string {
    if (first_batch) return "this run wrote nothing";
    return absl::StrCat("the lines before ", first_unstored, " are imported",
                        passing_over_stored
                            ? ", and later ones may be, by an earlier run"
                            : "");
  };
  auto flush = [&]() -> absl::Status {
    if (batch.empty()) return absl::OkStatus();
    if (stop_requested()) {
      return absl::CancelledError(
          absl::StrCat("stopped before line ", lines.front(), ": ",
                       imported_before(lines.front()),
                       "; run the same import again to resume"));
    }
    auto result = target.append(batch);
    if (result.ok() && options.appended) {
      for (size_t i = 0; i < batch.size(); ++i) {
        if (!result->events[i].duplicate) options.appended(lines[i], batch[i]);
      }
    }
    batch.clear();
    batch_bytes = 0;
    if (!result.ok()) {
      std::optional<size_t> index = FailedEventIndex(result.status());
      if (!index || *index >= lines.size()) {
        // The store failed (a full disk, say), or the server could not be
        // reached, not a line: say where to resume, keeping the status's
        // payloads. Only a write that was tried leaves its batch unknown:
        // "may or may not be" contradicted a call never sent.
        const bool unknown =
            result.status().GetPayload(kEventIdsPayload).has_value();
        absl::Status failed(
            result.status().code(),
            absl::StrCat(
                result.status().message(), " (", imported_before(lines.front()),
                unknown ? absl::StrCat("; lines ", lines.front(), " to ",
                                       lines.back(), " may or may not be")
                        : "",
                "; once the ledger takes appends again (its disk, or the "
                "server that holds it), run the same import again: it stores "
                "each line once)"));
        result.status().ForEachPayload(
            [&](absl::string_view url, const absl::Cord& payload) {
              failed.SetPayload(url, payload);
            });
        return failed;
      }
      absl::string_view message = result.status().message();
      absl::ConsumePrefix(&message, absl::StrCat("event ", *index, ": "));
      return absl::Status(
          result.status().code(),
          absl::StrCat(
              "line ", lines[*index], ": ", std::string(message), " (",
              imported_before(lines.front()),
              "; fix the line and run the import again: stored events are "
              "skipped)"));
    }
    first_batch = false;
    progress.ledger_size = result->tree_size;
    passing_over_stored = true;
    for (const auto& e : result->events) {
      ++(e.duplicate ? progress.duplicates : progress.appended);
      passing_over_stored = passing_over_stored && e.duplicate;
    }
    lines.clear();
    if (options.progress) options.progress(progress);
    return absl::OkStatus();
  };
  while (true) {
    auto next = reader.Next();
    if (absl::IsOutOfRange(next.status())) break;
    if (!next.ok()) {
      // Every line parsed when it was checked: one that does not now has
      // changed since. A read error comes after the line counted.
      const bool changed = absl::IsInvalidArgument(next.status());
      return absl::Status(
          next.status().code(),
          absl::StrCat(
              next.status().message(), " (",
              changed ? absl::StrCat(path, " changed while it was imported; ")
                      : "",
              imported_before(!lines.empty()
                                  ? lines.front()
                                  : reader.line() + (changed ? 0 : 1)),
              changed ? "; fix the line and run the import again)"
                      : "; run the import again)"));
    }
    if (next->line > progress.total_lines) {
      CASELEDGER_RETURN_IF_ERROR(flush());
      return absl::InvalidArgumentError(absl::StrCat(
          path, " grew while it was imported: line ", next->line,
          " was not there when its ", progress.total_lines,
          " lines were checked. Those lines are imported; run the import "
          "again to check and append the rest"));
    }
    progress.lines = next->line;
    if (next->event.event_id().empty()) {
      const std::string bytes = BytesWithoutId(next->event);
      next->event.set_event_id(IdOf(occurrences.Next(bytes), bytes));
    }
    if (options.batch_bytes != 0) {  // sized only where a call is bounded
      const size_t bytes = next->event.ByteSizeLong();
      if (!batch.empty() && batch_bytes + bytes > options.batch_bytes) {
        CASELEDGER_RETURN_IF_ERROR(flush());
      }
      batch_bytes += bytes;
    }
    batch.push_back(std::move(next->event));
    lines.push_back(next->line);
    if (batch.size() >= std::max<size_t>(options.batch_size, 1)) {
      CASELEDGER_RETURN_IF_ERROR(flush());
    }
  }
  // Blank lines after the last event are read too: the last progress
  // counts them, where it ended at "line 5 of 6 (83%)" (found by a probe).
  const uint64_t told = progress.lines;
  progress.lines = reader.line();
  if (!batch.empty()) {
    CASELEDGER_RETURN_IF_ERROR(flush());
  } else if (progress.lines != told && options.progress) {
    options.progress(progress);
  }
  if (reader.line() < progress.total_lines) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, " shrank while it was imported: it ends at line ", reader.line(),
        " of the ", progress.total_lines,
        " checked. The lines it still has are imported; check the file and "
        "run the import again"));
  }
  return progress;
}

}  // namespace caseledger
