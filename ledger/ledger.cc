#include "ledger/ledger.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "absl/algorithm/container.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "caseledger/v1/ledger.pb.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/util/time_util.h"
#include "ledger/event_validation.h"
#include "ledger/file_sync.h"
#include "ledger/internal/event_summary.h"
#include "ledger/internal/folder_lock.h"
#include "ledger/internal/kept_checkpoint.h"
#include "ledger/internal/key_in_message.h"
#include "ledger/internal/ledger_impl.h"
#include "ledger/internal/store.h"
#include "ledger/status_macros.h"
#include "ledger/string_view.h"
#include "ledger/timestamp.h"
#include "ledger/untrusted_text.h"

namespace caseledger {

namespace internal {

absl::StatusOr<CaseIndexValue> ParseCaseIndexValue(std::string_view value) {
  CaseIndexValue parts;
  if (value.size() >= 12) {
    const size_t n = *DecodeU32(value.substr(8, 4));
    if (value.size() - 12 >= n + kSaltSize) {
      parts.position = *DecodeU64(value.substr(0, 8));
      parts.entry_bytes = value.substr(12, n);
      parts.event_value = value.substr(12 + n);
      return parts;
    }
  }
  return absl::DataLossError(
      absl::StrCat("a case index value of ", value.size(),
                   " bytes is too short for its position, entry and event"));
}

}  // namespace internal

using internal::AppendCaseIndexValue;
using internal::AppendCaseKey;
using internal::AppendMerkleKey;
using internal::AppendSerialized;
using internal::Batch;
using internal::CaseKey;
using internal::CasePrefix;
using internal::DecodeU64;
using internal::EncodeU64;
using internal::Family;
using internal::IdRecord;
using internal::kEventIdsAsGiven;
using internal::kEventIdsInLowerCase;
using internal::kEventIndexPayload;
using internal::kFormatVersion;
using internal::kFormatVersionPositionsOnly;
using internal::kKeyFile;
using internal::kKeyTempFile;
using internal::kMetaEventIdSpelling;
using internal::kMetaFormatVersion;
using internal::kMetaOrigin;
using internal::kPartialStoreDir;
using internal::kSaltSize;
using internal::kStoreDir;
using internal::MerkleKey;
using internal::Overlay;
using internal::PendingAppend;
using internal::PreparedEvent;
using internal::RequestKey;
using internal::Store;

namespace {
// recorded_at as the ledger stamps it: to the microsecond. Its bytes are
// hashed into the entry and can never change.
google::protobuf::Timestamp ToProto(absl::Time t) {
  return ToTimestamp(absl::FromUnixMicros(absl::ToUnixMicros(t)));
}

absl::Status RandomBytes(uint8_t* out, size_t n) {
  if (RAND_bytes(out, static_cast<int>(n)) != 1) {
    return absl::InternalError("the system random generator failed");
  }
  return absl::OkStatus();
}

// Fills `out` with a fresh salt (kSaltSize bytes). Salts come from a
// per-thread pool of the system generator's output, refilled 64 salts at a
// time: OpenSSL's generator takes locks and looks itself up on every call,
// which cost about 5% of the append path with one call per event
// (docs/performance.md). Each salt is still used once.
absl::Status NewSalt(uint8_t* out) {
  constexpr size_t kPoolSize = 64 * kSaltSize;
  thread_local uint8_t pool[kPoolSize];
  thread_local size_t used = kPoolSize;
  if (used == kPoolSize) {
    CASELEDGER_RETURN_IF_ERROR(RandomBytes(pool, kPoolSize));
    used = 0;
  }
  std::memcpy(out, pool + used, kSaltSize);
  std::memset(pool + used, 0, kSaltSize);
  used += kSaltSize;
  return absl::OkStatus();
}

// For a folder without store/: what to do when it holds a ledger's key
// whose store went missing, or nullopt. Only an unfinished init leaves a
// key without a store, and it leaves store.partial/ beside it. A look that
// fails is an error, not "no key": init would replace the key (found by an
// audit).
absl::StatusOr<std::optional<std::string>> MissingStore(
    const std::string& dir) {
  namespace fs = std::filesystem;
  CASELEDGER_ASSIGN_OR_RETURN(const bool key,
                              PathExists(fs::path(dir) / kKeyFile));
  if (!key) return std::nullopt;
  CASELEDGER_ASSIGN_OR_RETURN(const bool unfinished,
                              PathExists(fs::path(dir) / kPartialStoreDir));
  if (unfinished) return std::nullopt;
  return absl::StrCat(
      "its store/ is missing (moved, deleted or not mounted). Put it back, "
      "or ",
      internal::kRestoreIntoANewFolder,
      "; 'caseledger init' will not replace the key its checkpoints are signed "
      "with (move ",
      dir, "/", kKeyFile, " and ", dir, "/", internal::kKeptCheckpointFile,
      " away yourself to start a new ledger there)");
}

// OK when init may make a ledger in `dir`: it does not exist, or holds at
// most what an init or restore that stopped part way left.
absl::Status TakesANewLedger(const std::string& dir) {
  namespace fs = std::filesystem;
  CASELEDGER_ASSIGN_OR_RETURN(const bool store,
                              PathExists(fs::path(dir) / kStoreDir));
  if (store) {
    // A restore's copy not yet checked is said to be one.
    CASELEDGER_RETURN_IF_ERROR(
        internal::RefuseUnfinishedCopy(dir, /*read_only=*/true));
    return absl::AlreadyExistsError(
        absl::StrCat(dir, " already holds a ledger"));
  }
  // Replacing the key of a ledger whose store is missing would lose the key
  // its checkpoints are signed with.
  CASELEDGER_ASSIGN_OR_RETURN(std::optional<std::string> missing,
                              MissingStore(dir));
  if (missing) {
    return absl::AlreadyExistsError(
        absl::StrCat(dir, " holds a signing key but no store: ", *missing));
  }
  std::error_code ec;
  // A file where the folder would be is the caller's input to mend, not the
  // machine's failure (it exited 4, "Not a directory"; found by an audit).
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) {
    return absl::InvalidArgumentError(absl::StrCat(
        dir, " is a file, not a folder: give a new folder's path"));
  }
  if (!fs::is_directory(dir, ec)) return absl::OkStatus();
  fs::directory_iterator listed(dir, ec);
  if (ec) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot read ", dir, ": ", ec.message()));
  }
  // Anything else in the folder is someone's data, which a ledger beside it
  // would mix with the key and, at a restore or a cleanup, put at risk.
  if (!internal::HoldsOnlyLedgerFiles(dir)) {
    const std::string example = listed == fs::directory_iterator()
                                    ? ""
                                    : listed->path().filename().string();
    return absl::AlreadyExistsError(
        absl::StrCat(dir, " is not empty and holds no ledger (it holds ",
                     example, "); give a new or empty folder"));
  }
  return absl::OkStatus();
}

// A C2SP signed-note key name (non-empty UTF-8 without Unicode spaces or
// '+') that also shows as what it is: a verifier reads it to know whose
// signature it checks, so control, bidirectional and invisible characters
// (U+202E would show "visa.gc.ca/regdel" as another name) are refused too.
bool IsKeyName(std::string_view name) { return IsOneWordOfText(name, "+"); }

// The error of every append after a failed write or sync, until the ledger
// is reopened; marked so that callers do not retry it before then.
absl::Status AppendsRefused(absl::StatusCode code, const std::string& message) {
  absl::Status refused(code, message);
  refused.SetPayload(kAppendsRefusedPayload, absl::Cord("1"));
  return refused;
}

// That error after the write that `failed`, an append's or another's.
absl::Status AppendsRefusedAfter(const absl::Status& failed) {
  return AppendsRefused(
      failed.code(),
      absl::StrCat(internal::kAppendNotWritten,
                   "the ledger refuses further appends until reopened, after "
                   "a failed write: ",
                   failed.message()));
}

// Names event `index` in an error about it: bad input or a conflict. A
// store error met while handling the event (a failed read, say) is not
// about the event, and naming it would send the caller to fix an event
// that is fine; it passes unchanged.
absl::Status WithEventIndex(absl::Status status, size_t index) {
  if (!absl::IsInvalidArgument(status) && !absl::IsAlreadyExists(status)) {
    return status;
  }
  return AboutEvent(status, index);
}
}  // namespace

absl::StatusOr<ExpectedVersion> ExpectedVersion::Parse(std::string_view text) {
  if (text == "any") return Any();
  if (text == "no-stream") return NoStream();
  if (text == "exists") return StreamExists();
  const bool digits = !text.empty() && text.find_first_not_of("0123456789") ==
                                           std::string_view::npos;
  uint64_t v;
  if (digits && absl::SimpleAtoi(std::string(text), &v)) {
    // Version 0 means "no events yet", which is what no-stream says.
    return v == 0 ? NoStream() : Exactly(v);
  }
  // Digits beyond 64 bits are a number all the same, as the other flags
  // that take one say (found by an outside reading).
  return absl::InvalidArgumentError(absl::StrCat(
      "--expected-version: '", Printable(text), "' ",
      digits ? "is more than 18446744073709551615, the largest version"
             : "is not a version number, 'any', 'no-stream' or 'exists'"));
}

std::string ExpectedVersion::ToString() const {
  switch (kind) {
    case Kind::kAny:
      return "any";
    case Kind::kNoStream:
      return "no-stream";
    case Kind::kStreamExists:
      return "exists";
    case Kind::kExact:
      return absl::StrCat(version);
  }
  return "?";
}

absl::Status AboutEvent(const absl::Status& status, size_t index) {
  absl::Status out(status.code(),
                   absl::StrCat("event ", index, ": ", status.message()));
  out.SetPayload(kEventIndexPayload, absl::Cord(absl::StrCat(index)));
  return out;
}

std::optional<size_t> FailedEventIndex(const absl::Status& status) {
  auto payload = status.GetPayload(kEventIndexPayload);
  size_t index;
  if (!payload || !absl::SimpleAtoi(std::string(*payload), &index)) {
    return std::nullopt;
  }
  return index;
}

merkle::NodeSource Ledger::Impl::Nodes() const {
  return [this](int level, uint64_t index) -> absl::StatusOr<merkle::Hash> {
    CASELEDGER_ASSIGN_OR_RETURN(
        auto value, store->Get(Family::kMerkle, MerkleKey(level, index)));
    // Callers ask only for nodes the tree of the ledger's size holds: one
    // not stored was removed. Named as the walk of verify names it, by the
    // position that completes it.
    if (!value) {
      return absl::DataLossError(absl::StrCat(
          "position ", (index + 1) << level, ": the stored Merkle node (level ",
          level, ", index ", index, ") is missing"));
    }
    std::optional<merkle::Hash> h = DigestFromBytes(*value);
    if (!h) {
      return absl::DataLossError(
          absl::StrCat("Merkle node (level ", level, ", index ", index,
                       ") has ", value->size(), " bytes, expected 32"));
    }
    return *h;
  };
}

namespace {

// kDataLoss: an index said `says`, but the log says otherwise (`why`).
absl::Status IndexDisagrees(absl::string_view says, absl::string_view why) {
  return absl::DataLossError(absl::StrCat(
      says, ", but ", why,
      ": the index was altered or damaged (caseledger verify finds it)"));
}

}  // namespace

absl::StatusOr<RecordedEvent> Ledger::Impl::ReadIndexed(
    std::string_view value, const std::string& says) const {
  absl::StatusOr<uint64_t> position = DecodeU64(value);
  if (!position.ok())
    return IndexDisagrees(says, "its value names no position");
  absl::StatusOr<RecordedEvent> read = ReadAt(*position);
  // Only what was read can disagree with the index: a store that could not
  // read (a failed disk) says so in its own words, not as tampering.
  if (!read.ok() && !absl::IsDataLoss(read.status())) return read.status();
  if (!read.ok()) return IndexDisagrees(says, read.status().message());
  v1::LedgerEntry entry;
  if (!entry.ParseFromString(read->entry_bytes) ||
      entry.event_digest() !=
          DigestBytes(Sha256(read->salt, read->event_bytes))) {
    return IndexDisagrees(says,
                          absl::StrCat("the event at position ", *position,
                                       " does not match its entry's "
                                       "digest"));
  }
  return read;
}

absl::StatusOr<uint64_t> Ledger::Impl::StoredCaseVersion(
    std::string_view case_id) const {
  std::string prefix = CasePrefix(case_id);
  CASELEDGER_ASSIGN_OR_RETURN(
      auto last, store->LastWithPrefix(Family::kCaseIndex, prefix));
  if (!last) return 0;
  CASELEDGER_ASSIGN_OR_RETURN(
      uint64_t version,
      DecodeU64(std::string_view(last->first).substr(prefix.size())));
  const std::string says =
      absl::StrCat("the case index gives case ", Printable(case_id),
                   " version ", version, " as its last");
  CASELEDGER_ASSIGN_OR_RETURN(RecordedEvent at,
                              ReadIndexed(last->second, says));
  if (at.event.case_id() != case_id || at.case_version != version) {
    return IndexDisagrees(
        absl::StrCat(says, " at position ", at.position),
        absl::StrCat("the entry there is case ", Printable(at.event.case_id()),
                     " version ", at.case_version));
  }
  return version;
}

absl::StatusOr<std::optional<IdRecord>> Ledger::Impl::StoredId(
    std::string_view id) const {
  std::string_view key = id;
  CASELEDGER_ASSIGN_OR_RETURN(auto value, store->Get(Family::kEventIds, key));
  std::string upper;
  if (!value && ids_may_be_upper_case) {
    // Stored by an earlier build in the case it was given: found under the
    // same UUID in upper case, the spelling such clients use.
    upper = absl::AsciiStrToUpper(AbslView(id));
    if (upper != id) {
      key = upper;
      CASELEDGER_ASSIGN_OR_RETURN(value, store->Get(Family::kEventIds, key));
    }
  }
  if (!value) return std::nullopt;
  if (value->size() != 8 + 32) {
    return absl::DataLossError(
        absl::StrCat("event-id index entry for ", Printable(key), " has ",
                     value->size(), " bytes, expected 40"));
  }
  IdRecord r;
  CASELEDGER_ASSIGN_OR_RETURN(r.position, DecodeU64(*value));
  std::copy(value->begin() + 8, value->end(), r.content.begin());
  const std::string says =
      absl::StrCat("the event-id index puts event ", Printable(key),
                   " at position ", r.position);
  CASELEDGER_ASSIGN_OR_RETURN(RecordedEvent at, ReadIndexed(*value, says));
  if (at.event.event_id() != key || Sha256(at.event_bytes) != r.content) {
    return IndexDisagrees(
        says,
        absl::StrCat("the event there is ", Printable(at.event.event_id()),
                     at.event.event_id() == key ? " with other content" : ""));
  }
  if (key != id) {
    // The event as this build would have stored it, to compare with one
    // given again (Prepare spells its id in lower case).
    at.event.set_event_id(std::string(id));
    std::string bytes;
    at.event.ByteSizeLong();  // caches the sizes AppendSerialized writes
    AppendSerialized(at.event, bytes);
    r.content = Sha256(bytes);
  }
  r.case_version = at.case_version;
  return r;
}

absl::Status Ledger::Impl::LearnEventIdSpelling() {
  bool upper = false;
  CASELEDGER_RETURN_IF_ERROR(store->Scan(
      Family::kEventIds, "", "",
      [&](std::string_view key, std::string_view) -> absl::StatusOr<bool> {
        upper = absl::c_any_of(key, [](char c) {
          return absl::ascii_isupper(static_cast<unsigned char>(c));
        });
        return !upper;
      }));
  Batch batch(*store);
  batch.Put(Family::kMeta, kMetaEventIdSpelling,
            upper ? kEventIdsAsGiven : kEventIdsInLowerCase);
  CASELEDGER_RETURN_IF_ERROR(store->Write(batch, /*sync=*/true));
  ids_may_be_upper_case = upper;
  return absl::OkStatus();
}

absl::StatusOr<std::optional<RecordedEvent>> Ledger::Impl::StoredSend(
    std::string_view case_id, std::string_view request_id) const {
  CASELEDGER_ASSIGN_OR_RETURN(
      auto value,
      store->Get(Family::kRequests, RequestKey(case_id, request_id)));
  if (!value) return std::nullopt;
  const std::string says =
      absl::StrCat("the request index says request ", Printable(request_id),
                   " of case ", Printable(case_id), " was sent");
  CASELEDGER_ASSIGN_OR_RETURN(RecordedEvent at, ReadIndexed(*value, says));
  if (at.event.case_id() != case_id || !at.event.has_document_request_sent() ||
      at.event.document_request_sent().request_id() != request_id) {
    return IndexDisagrees(
        absl::StrCat(says, " at position ", at.position),
        absl::StrCat(
            "the event there is ", EventType(at.event),
            at.event.has_document_request_sent()
                ? absl::StrCat(
                      " of request ",
                      Printable(at.event.document_request_sent().request_id()))
                : "",
            " of case ", Printable(at.event.case_id())));
  }
  return at;
}

absl::Status Ledger::Impl::DecodeInto(std::string_view entry_bytes,
                                      std::string_view event_value,
                                      v1::LedgerEntry& entry,
                                      RecordedEvent& out) {
  CopyStored(entry_bytes, event_value, out);
  return ParseStored(entry, out);
}

void Ledger::Impl::CopyStored(std::string_view entry_bytes,
                              std::string_view event_value,
                              RecordedEvent& out) {
  const size_t salt = std::min(event_value.size(), kSaltSize);
  out.entry_bytes.assign(entry_bytes);
  out.salt.assign(event_value.substr(0, salt));
  out.event_bytes.assign(event_value.substr(salt));
}

absl::Status Ledger::Impl::ParseStored(v1::LedgerEntry& entry,
                                       RecordedEvent& out) {
  if (!entry.ParseFromString(out.entry_bytes)) {
    return absl::DataLossError("stored entry does not parse");
  }
  if (out.salt.size() < kSaltSize) {
    return absl::DataLossError(absl::StrCat("stored event at position ",
                                            entry.position(), " is truncated"));
  }
  out.position = entry.position();
  out.case_version = entry.case_version();
  out.recorded_at = FromTimestamp(entry.recorded_at());
  if (!out.event.ParseFromString(out.event_bytes)) {
    return absl::DataLossError(absl::StrCat(
        "stored event at position ", entry.position(), " does not parse"));
  }
  return absl::OkStatus();
}

absl::StatusOr<RecordedEvent> Ledger::Impl::ReadAt(uint64_t position) const {
  std::string key = EncodeU64(position);
  CASELEDGER_ASSIGN_OR_RETURN(auto entry_bytes,
                              store->Get(Family::kEntries, key));
  CASELEDGER_ASSIGN_OR_RETURN(auto event_value,
                              store->Get(Family::kEvents, key));
  RecordedEvent out;
  v1::LedgerEntry entry;
  CASELEDGER_RETURN_IF_ERROR(
      DecodeFound(position, entry_bytes, event_value, entry, out));
  return out;
}

absl::Status Ledger::Impl::DecodeFound(
    uint64_t position, std::optional<std::string_view> entry_bytes,
    std::optional<std::string_view> event_value, v1::LedgerEntry& entry,
    RecordedEvent& out) {
  if (!entry_bytes || !event_value) {
    return absl::DataLossError(absl::StrCat("position ", position, ": ",
                                            !entry_bytes ? "entry" : "event",
                                            " is missing"));
  }
  CopyStored(*entry_bytes, *event_value, out);
  return ParseStoredAt(position, entry, out);
}

absl::Status Ledger::Impl::ParseStoredAt(uint64_t position,
                                         v1::LedgerEntry& entry,
                                         RecordedEvent& out) {
  CASELEDGER_RETURN_IF_ERROR(ParseStored(entry, out));
  if (out.position != position) {
    return absl::DataLossError(
        absl::StrCat("position ", position,
                     ": the stored entry names position ", out.position));
  }
  return absl::OkStatus();
}

absl::Status Ledger::Impl::Load() {
  CASELEDGER_ASSIGN_OR_RETURN(auto version,
                              store->Get(Family::kMeta, kMetaFormatVersion));
  if (!version) {
    return absl::DataLossError(
        absl::StrCat(dir, ": the store has no format version; not a ledger"));
  }
  if (*version == kFormatVersionPositionsOnly) {
    case_index_holds_copies = false;
  } else if (*version != kFormatVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        dir, ": storage format version ", *version,
        " is not supported by this build (supports ",
        kFormatVersionPositionsOnly, " and ", kFormatVersion, ")"));
  }
  CASELEDGER_ASSIGN_OR_RETURN(auto spelling,
                              store->Get(Family::kMeta, kMetaEventIdSpelling));
  ids_may_be_upper_case = !spelling || *spelling != kEventIdsInLowerCase;
  if (!spelling && !options.read_only) {
    CASELEDGER_RETURN_IF_ERROR(LearnEventIdSpelling());
  }
  CASELEDGER_ASSIGN_OR_RETURN(auto name,
                              store->Get(Family::kMeta, kMetaOrigin));
  if (!name) return absl::DataLossError("the ledger has no origin name");
  origin = *name;
  CASELEDGER_ASSIGN_OR_RETURN(auto last,
                              store->LastWithPrefix(Family::kEntries, ""));
  if (last) {
    CASELEDGER_ASSIGN_OR_RETURN(uint64_t n, DecodeU64(last->first));
    v1::LedgerEntry entry;
    if (!entry.ParseFromString(last->second)) {
      return absl::DataLossError(
          absl::StrCat("the last entry (position ", n, ") is unreadable"));
    }
    // A moved entry parses: say so, where "unreadable" sent the reader to
    // the disk (found by an adversarial reading, two entries swapped).
    if (entry.position() != n) {
      return absl::DataLossError(absl::StrCat(
          "the last entry, stored at position ", n, ", says position ",
          entry.position(), ": entries were moved or replaced"));
    }
    size = n;
    last_recorded = FromTimestamp(entry.recorded_at());
  }
  if (!options.read_only) {
    CASELEDGER_ASSIGN_OR_RETURN(frontier,
                                merkle::MerkleFrontier::Load(size, Nodes()));
  }
  return absl::OkStatus();
}

absl::Status Ledger::Impl::UpgradeCaseIndex() {
  auto cursors = store->NewCursors({Family::kEntries, Family::kEvents});
  internal::Cursor& entries = *cursors[0];
  internal::Cursor& events = *cursors[1];
  Batch batch(*store);
  v1::LedgerEntry entry;
  std::string key, value;
  // Unsynced batches of a few MiB; the last one, synced, makes them all
  // durable (RocksDB syncs its log in order).
  constexpr size_t kPerBatch = 4096;
  constexpr uint64_t kProgressEvery = 100000;
  const auto& progress = options.upgrade_progress;
  const uint64_t total = size.load();
  if (progress) progress(0, total);
  uint64_t done = 0;
  // The copies are made only of what the digests vouch for: damage copied
  // into the case index would be blamed on it by every later case read.
  auto cannot = [&](uint64_t position, absl::string_view what) {
    return absl::DataLossError(absl::StrCat(
        dir, ": cannot upgrade the case index to format ", kFormatVersion,
        ": position ", position, ": ", what, " (run 'caseledger verify')"));
  };
  for (entries.Seek(""), events.Seek(""); entries.Valid();
       entries.Next(), events.Next()) {
    if (progress && done > 0 && done % kProgressEvery == 0) {
      progress(done, total);
    }
    ++done;
    CASELEDGER_RETURN_IF_ERROR(events.status());
    const std::string position = EncodeU64(done);
    if (entries.key() != position) return cannot(done, "the entry is missing");
    if (!events.Valid() || events.key() != position) {
      return cannot(done, "the event bytes are missing");
    }
    const std::string_view stored = events.value();
    if (!entry.ParseFromArray(entries.value().data(),
                              static_cast<int>(entries.value().size()))) {
      return cannot(done, "the stored entry does not parse");
    }
    if (entry.position() != done) {
      return cannot(done,
                    absl::StrCat("the entry says position ", entry.position()));
    }
    if (stored.size() < kSaltSize ||
        entry.event_digest() != DigestBytes(Sha256(stored.substr(0, kSaltSize),
                                                   stored.substr(kSaltSize)))) {
      return cannot(done, "the event bytes do not match the entry's digest");
    }
    key.clear();
    AppendCaseKey(entry.case_id(), entry.case_version(), key);
    value.clear();
    AppendCaseIndexValue(entries.key(), entries.value(), events.value(), value);
    batch.Put(Family::kCaseIndex, key, value);
    if (batch.Count() == kPerBatch) {
      CASELEDGER_RETURN_IF_ERROR(store->Write(batch, /*sync=*/false));
      batch.Clear();
    }
  }
  CASELEDGER_RETURN_IF_ERROR(entries.status());
  batch.Put(Family::kMeta, kMetaFormatVersion, kFormatVersion);
  CASELEDGER_RETURN_IF_ERROR(store->Write(batch, /*sync=*/true));
  case_index_holds_copies = true;
  if (progress) progress(done, total);
  return absl::OkStatus();
}

// How long the sequencer waits for an append to sync an unsynced automatic
// checkpoint before it syncs the log itself.
constexpr absl::Duration kUnsyncedCheckpointWait = absl::Milliseconds(2);

void Ledger::Impl::SyncCheckpoint() {
  absl::Status s = store->SyncLog();
  if (s.ok()) {
    checkpoint_unsynced = false;
    return;
  }
  RefuseAppends(s.code(), absl::StrCat("the log could not be synced (the "
                                       "ledger refuses further appends until "
                                       "reopened): ",
                                       s.message()))
      .IgnoreError();  // the callers read `poisoned`
}

absl::Status Ledger::Impl::RefuseAppends(absl::StatusCode code,
                                         const std::string& message) {
  const absl::Status refused = AppendsRefused(code, message);
  {
    absl::MutexLock lock(&mu);
    if (!poisoned.ok()) return poisoned;
    poisoned = refused;
  }
  // No append met this failure to report it, and none is tried again: a
  // poisoned ledger writes and syncs nothing more.
  if (options.on_background_problem) {
    options.on_background_problem("appends", refused);
  }
  return refused;
}

absl::Status Ledger::Impl::WriteBesideAppends(internal::Batch& batch) {
  absl::Status written = store->Write(batch, options.sync);
  if (!written.ok()) {
    // Told at once, where the next append would meet it: with no append
    // after it, a server said SERVING and stopped with exit 0 over a disk
    // that failed its index (found by an audit).
    const absl::Status refused = AppendsRefusedAfter(written);
    RefuseAppends(refused.code(), std::string(refused.message())).IgnoreError();
  }
  return written;
}

void Ledger::Impl::RunSequencer() {
  std::vector<PendingAppend*> group;
  std::vector<internal::Outcome<absl::StatusOr<std::string>>*> waiters;
  // Wakes at least this often so that a time-based checkpoint is signed
  // even when appends stop.
  absl::Duration tick = options.checkpoint_every > absl::ZeroDuration()
                            ? options.checkpoint_every
                            : absl::Hours(1);
  if (KeepSignedWithin() > absl::ZeroDuration()) {
    tick = std::min(tick, KeepSignedWithin());
  }
  while (true) {
    bool stop = false;
    bool idle = false;
    {
      absl::MutexLock lock(&mu);
      idle = !mu.AwaitWithTimeout(
          absl::Condition(
              +[](Impl* impl) ABSL_EXCLUSIVE_LOCKS_REQUIRED(impl->mu) {
                // An appender sequencing its own append owns the state
                // until it is done.
                return !impl->sequencing &&
                       (impl->stopping || !impl->queue.empty() ||
                        !impl->checkpoint_waiters.empty() ||
                        impl->checkpoint_requested);
              },
              this),
          // A poisoned ledger syncs nothing more: its unsynced checkpoint
          // would wake the sequencer every 2 ms until reopened.
          checkpoint_unsynced && poisoned.ok() ? kUnsyncedCheckpointWait
          : kept_size < checkpoint_size        ? internal::kKeptCheckpointEvery
                                               : tick);
      if (sequencing) continue;  // the tick passed while an appender works
      sequencing = true;
      checkpoint_requested = false;
      stop = stopping && queue.empty();
      group.assign(queue.begin(), queue.end());
      queue.clear();
      waiters.swap(checkpoint_waiters);
    }
    if (!group.empty()) SequenceGroup(group);
    group.clear();
    bool poisoned_now;
    {
      absl::MutexLock lock(&mu);
      poisoned_now = !poisoned.ok();
    }
    if (!waiters.empty()) {
      absl::StatusOr<std::string> note = SignAndStoreCheckpoint(/*sync=*/true);
      for (auto* w : waiters) w->Set(note);
      waiters.clear();
    } else if (!poisoned_now && (CheckpointDue(clock->Now()) ||
                                 (stop && frontier.size() > checkpoint_size))) {
      // On close too, so that every session's appends end under a
      // signed checkpoint.
      // A failed automatic checkpoint is retried at the next opportunity;
      // appends stay durable without it, and verify reports the gap.
      // While appends go on, it rides on the next one's sync rather than
      // pay a sync of its own (docs/performance.md).
      absl::Status signed_now =
          SignAndStoreCheckpoint(/*sync=*/stop || !options.sync).status();
      // Signed and stored, it may still fail to be kept beside the store:
      // the kept checkpoint's problem, told below, not this one's.
      if (has_checkpoint && checkpoint_size == frontier.size()) {
        signed_now = absl::OkStatus();
      }
      // Its write failed on the disk: RocksDB refuses every write since,
      // appends included, and it is not tried again.
      if (!signed_now.ok() && !store->LogFailure().ok()) {
        signed_now = RefuseAppends(
            signed_now.code(),
            absl::StrCat("the automatic checkpoint could not be stored (the "
                         "ledger refuses further appends until reopened): ",
                         signed_now.message()));
      }
      TellBackground(automatic_checkpoint_problem, "the automatic checkpoint",
                     std::move(signed_now));
    }
    // The tree as it stands, over entries no checkpoint signs, within
    // keep_signed_within of their append (it covers the latest checkpoint
    // too); otherwise the latest checkpoint, once appends pause, or a second
    // after the last write, and at close. A failure is tried again at the
    // next pass: appends do not wait for the kept file, which only lets an
    // open find entries lost.
    if (!poisoned_now) {
      TellBackground(
          kept_checkpoint_problem, "the kept checkpoint (latest-checkpoint)",
          !stop && TreeKeepDue() ? KeepTheTreeSigned()
                                 : KeepLatestCheckpoint(/*now=*/idle || stop));
    }
    if (checkpoint_unsynced && (idle || stop) && !poisoned_now) {
      SyncCheckpoint();
    }
    {
      absl::MutexLock lock(&mu);
      sequencing = false;
    }
    if (stop) return;
  }
}

absl::Status Ledger::Impl::Sequence(PendingAppend& p, Overlay& group,
                                    Batch& batch, merkle::MerkleFrontier& tree,
                                    absl::Time recorded) {
  Overlay mine;
  auto case_version = [&](const std::string& c) -> absl::StatusOr<uint64_t> {
    if (auto it = mine.case_versions.find(c); it != mine.case_versions.end())
      return it->second;
    if (auto it = group.case_versions.find(c); it != group.case_versions.end())
      return it->second;
    if (auto it = durable_case_versions.find(c);
        it != durable_case_versions.end()) {
      return it->second;
    }
    CASELEDGER_ASSIGN_OR_RETURN(uint64_t stored, StoredCaseVersion(c));
    RememberCaseVersion(c, stored);
    return stored;
  };
  auto request_sent = [&](const std::string& c,
                          std::string_view r) -> absl::StatusOr<bool> {
    std::string key = RequestKey(c, r);
    if (mine.requests.contains(key) || group.requests.contains(key) ||
        durable_requests.contains(key)) {
      return true;
    }
    CASELEDGER_ASSIGN_OR_RETURN(auto sent, StoredSend(c, r));
    if (sent.has_value()) RememberRequest(key);
    return sent.has_value();
  };
  // When request `r` of case `c`, known to be sent, was sent (occurred_at),
  // for a resend by event i; nullopt when the send is in another append of
  // this group, not written yet and so not readable. This call's sends are
  // indexed when a resend first names one, so calls without resends pay
  // nothing; a stored send costs one read of its event.
  absl::flat_hash_map<std::string, const google::protobuf::Timestamp*>
      sent_in_call;
  size_t sent_indexed = 0;
  auto sent_at = [&](const std::string& c, std::string_view r, size_t i)
      -> absl::StatusOr<std::optional<google::protobuf::Timestamp>> {
    std::string key = RequestKey(c, r);
    if (mine.requests.contains(key)) {
      for (; sent_indexed < i; ++sent_indexed) {
        const v1::Event& e = *p.events[sent_indexed].event;
        if (e.has_document_request_sent()) {
          sent_in_call.try_emplace(
              RequestKey(e.case_id(), e.document_request_sent().request_id()),
              &e.occurred_at());
        }
      }
      if (auto it = sent_in_call.find(key); it != sent_in_call.end()) {
        return *it->second;
      }
    }
    if (group.requests.contains(key)) return std::nullopt;
    CASELEDGER_ASSIGN_OR_RETURN(auto sent, StoredSend(c, r));
    if (!sent.has_value()) return std::nullopt;
    return sent->event.occurred_at();
  };

  // Event i follows the send of request `r` of its case in business time
  // too, since the projections judge by it; `what` names event i in the
  // refusal.
  auto sent_before = [&](size_t i, std::string_view r, std::string_view field,
                         std::string_view what) -> absl::Status {
    const v1::Event& event = *p.events[i].event;
    auto original = sent_at(event.case_id(), r, i);
    if (!original.ok()) return original.status();
    if (original->has_value() &&
        FromTimestamp(**original) > FromTimestamp(event.occurred_at())) {
      using google::protobuf::util::TimeUtil;
      return absl::InvalidArgumentError(absl::StrCat(
          AbslView(field), ": request ", Printable(r), " was sent at ",
          TimeUtil::ToString(**original), ", after this ", AbslView(what), " (",
          TimeUtil::ToString(event.occurred_at()), ")"));
    }
    return absl::OkStatus();
  };

  // Idempotency comes first: an identical event already stored is skipped.
  const size_t n = p.events.size();
  std::vector<std::optional<IdRecord>> known(n);
  bool all_known = true;
  // The first event of this call with each id not stored yet, to find a
  // repeat with other content in one lookup rather than a scan of the
  // call (which made large calls quadratic).
  absl::flat_hash_map<std::string_view, size_t> first_new;
  // Sized for the call at once rather than grown by rehashing as it goes.
  if (n > 1) {
    first_new.reserve(n);
    mine.event_ids.reserve(n);
  }
  // Looks event i's id up: an identical event already stored is skipped, a
  // different one under the same id refused.
  auto check_id = [&](size_t i) -> absl::Status {
    const PreparedEvent& e = p.events[i];
    const std::string& id = e.event->event_id();
    std::optional<IdRecord> rec;
    if (auto it = group.event_ids.find(id); it != group.event_ids.end()) {
      rec = it->second;
    } else if (e.id_probed_after_writes == writes.load()) {
      rec = e.stored_id;
    } else {
      CASELEDGER_ASSIGN_OR_RETURN(rec, StoredId(id));
    }
    if (!rec) {
      // An earlier repeat of this id had the first one's content, or this
      // check failed then; so comparing with the first one is enough.
      auto [it, first] = first_new.try_emplace(id, i);
      if (!first && p.events[it->second].content_digest != e.content_digest) {
        return WithEventIndex(absl::AlreadyExistsError(absl::StrCat(
                                  "event_id ", id,
                                  " appears twice in this call with different "
                                  "content")),
                              i);
      }
    }
    if (rec && rec->content != e.content_digest) {
      return WithEventIndex(
          absl::AlreadyExistsError(
              absl::StrCat("event_id ", id, " is already stored at position ",
                           rec->position, " with different content")),
          i);
    }
    known[i] = rec;
    if (!rec) all_known = false;
    return absl::OkStatus();
  };
  // The caller's expected version of the case, checked once every id is
  // looked up (a call whose events are all stored already passes).
  auto check_expected_version = [&]() -> absl::Status {
    if (all_known || p.expected.kind == ExpectedVersion::Kind::kAny) {
      return absl::OkStatus();
    }
    const std::string& c = p.events[0].event->case_id();
    CASELEDGER_ASSIGN_OR_RETURN(uint64_t actual, case_version(c));
    bool holds = true;
    switch (p.expected.kind) {
      case ExpectedVersion::Kind::kNoStream:
        holds = actual == 0;
        break;
      case ExpectedVersion::Kind::kStreamExists:
        holds = actual > 0;
        break;
      case ExpectedVersion::Kind::kExact:
        holds = actual == p.expected.version;
        break;
      case ExpectedVersion::Kind::kAny:
        break;
    }
    if (!holds) {
      absl::Status s = absl::FailedPreconditionError(
          absl::StrCat("case ", c, ": expected version ", p.expected.ToString(),
                       ", actual version ", actual));
      s.SetPayload("caseledger.dev/expected-version",
                   absl::Cord(p.expected.ToString()));
      s.SetPayload("caseledger.dev/actual-version",
                   absl::Cord(absl::StrCat(actual)));
      return s;
    }
    return absl::OkStatus();
  };

  merkle::MerkleFrontier next_tree = tree;
  v1::LedgerEntry& entry = entry_scratch;
  const google::protobuf::Timestamp recorded_at = ToProto(recorded);
  std::string& entry_bytes = entry_bytes_scratch;
  std::string& case_value = case_value_scratch;
  std::string& id_value = id_value_scratch;
  std::string key;  // of the index entry being written
  // Records event i, whose id is looked up: its entry, index keys and
  // Merkle nodes go into the batch. Errors do not name the event yet.
  auto record = [&](size_t i) -> absl::Status {
    PreparedEvent& e = p.events[i];
    const std::string& id = e.event->event_id();
    if (!known[i]) {
      // A repeat of an event earlier in this same call.
      if (auto it = mine.event_ids.find(id); it != mine.event_ids.end()) {
        known[i] = it->second;
      }
    }
    if (known[i]) {
      p.result.events.push_back(
          {id, known[i]->position, known[i]->case_version, true});
      return absl::OkStatus();
    }
    const std::string& c = e.event->case_id();
    auto version_or = case_version(c);
    if (!version_or.ok()) return version_or.status();
    uint64_t version = *version_or;
    bool opening = e.event->has_case_opened();
    if (version == 0 && !opening) {
      return absl::InvalidArgumentError(
          absl::StrCat(*e.type, ": case ", c,
                       " does not exist; its first event must be case_opened"));
    }
    if (version > 0 && opening) {
      return absl::InvalidArgumentError(
          absl::StrCat("case_opened: case ", c, " is already open"));
    }
    if (e.event->has_document_request_sent()) {
      const auto& send = e.event->document_request_sent();
      auto sent = request_sent(c, send.request_id());
      if (!sent.ok()) return sent.status();
      if (*sent) {
        return absl::InvalidArgumentError(absl::StrCat(
            "document_request_sent.request_id: request ",
            Printable(send.request_id()), " was already sent in case ", c));
      }
      if (!send.resend_of().empty()) {
        auto earlier = request_sent(c, send.resend_of());
        if (!earlier.ok()) return earlier.status();
        if (!*earlier) {
          return absl::InvalidArgumentError(absl::StrCat(
              "document_request_sent.resend_of: no request ",
              Printable(send.resend_of()), " was sent earlier in case ", c));
        }
        CASELEDGER_RETURN_IF_ERROR(sent_before(
            i, send.resend_of(), "document_request_sent.resend_of", "resend"));
      }
    } else if (!e.request_id->empty() &&
               !e.event->has_recipient_address_verified()) {
      auto sent = request_sent(c, *e.request_id);
      if (!sent.ok()) return sent.status();
      if (!*sent) {
        return absl::InvalidArgumentError(
            absl::StrCat(*e.type, ".request_id: no request ",
                         Printable(*e.request_id), " was sent in case ", c));
      }
      // An extension dated before the send had nothing to extend, and made
      // a too-short deadline read as a reasonable one (found by an outside
      // reading).
      if (e.event->has_deadline_extended()) {
        CASELEDGER_RETURN_IF_ERROR(sent_before(
            i, *e.request_id, "deadline_extended.request_id", "extension"));
      }
    }

    uint64_t position = next_tree.size() + 1;
    entry.set_position(position);
    entry.set_case_id(c);
    entry.set_case_version(version + 1);
    *entry.mutable_recorded_at() = recorded_at;
    entry.set_event_type(*e.type);
    entry.set_event_digest(e.event_digest.data(), e.event_digest.size());
    entry.ByteSizeLong();  // caches sizes for SerializeWithCachedSizes
    entry_bytes.clear();
    AppendSerialized(entry, entry_bytes);

    char pos_bytes[8];
    EncodeU64(position, pos_bytes);
    const std::string_view pos_key(pos_bytes, sizeof pos_bytes);
    batch.Put(Family::kEntries, pos_key, entry_bytes);
    batch.Put(Family::kEvents, pos_key, e.stored);
    key.clear();
    AppendCaseKey(c, version + 1, key);
    case_value.clear();
    AppendCaseIndexValue(pos_key, entry_bytes, e.stored, case_value);
    batch.Put(Family::kCaseIndex, key, case_value);
    id_value.assign(pos_key).append(
        reinterpret_cast<const char*>(e.content_digest.data()),
        e.content_digest.size());
    batch.Put(Family::kEventIds, id, id_value);
    if (e.event->has_document_request_sent()) {
      std::string request_key = RequestKey(c, *e.request_id);
      batch.Put(Family::kRequests, request_key, pos_key);
      mine.requests.insert(std::move(request_key));
    }
    for (const auto& node : next_tree.Append(merkle::LeafHash(entry_bytes))) {
      key.clear();
      AppendMerkleKey(node.level, node.index, key);
      batch.Put(
          Family::kMerkle, key,
          std::string_view(reinterpret_cast<const char*>(node.hash.data()),
                           node.hash.size()));
    }
    mine.case_versions[c] = version + 1;
    mine.event_ids[id] = IdRecord{position, version + 1, e.content_digest};
    p.result.events.push_back({id, position, version + 1, false});
    return absl::OkStatus();
  };

  p.result.events.clear();
  p.result.events.reserve(n);
  if (p.await_prepared) {
    // Each event as soon as it is prepared, while the rest of the call is
    // still being prepared (ExpectedVersion::Any only: any other needs every
    // id looked up first). Looking an event's id up and recording it before
    // the next one's gives the same result as the passes below; on any
    // problem, everything is undone and the passes below run, so that the
    // call fails as they would have failed it.
    batch.SetSavePoint();
    for (size_t i = 0; i < n; ++i) {
      if (!p.await_prepared(i).ok() || !check_id(i).ok() || !record(i).ok()) {
        batch.RollbackToSavePoint();
        for (size_t j = 0; j < n; ++j) {
          absl::Status prepared = p.await_prepared(j);
          if (!prepared.ok()) return WithEventIndex(std::move(prepared), j);
        }
        p.await_prepared = nullptr;
        return Sequence(p, group, batch, tree, recorded);
      }
    }
  } else {
    for (size_t i = 0; i < n; ++i) {
      CASELEDGER_RETURN_IF_ERROR(check_id(i));
    }
    CASELEDGER_RETURN_IF_ERROR(check_expected_version());
    batch.SetSavePoint();
    for (size_t i = 0; i < n; ++i) {
      absl::Status s = record(i);
      if (!s.ok()) {
        batch.RollbackToSavePoint();
        return WithEventIndex(std::move(s), i);
      }
    }
  }
  tree = std::move(next_tree);
  group.MergeFrom(std::move(mine));
  return absl::OkStatus();
}

// A group stops taking late arrivals past this many writes (about 1 MiB).
constexpr size_t kGroupGrowthLimit = 8192;

void Ledger::Impl::SequenceGroup(std::vector<PendingAppend*>& group) {
  absl::Status poison;
  {
    absl::MutexLock lock(&mu);
    // A write other than an append (the deadline index's) failed: RocksDB
    // refuses every write since, and the append's own write was told as of
    // unknown outcome, where it was never made.
    if (absl::Status failed = store->LogFailure();
        poisoned.ok() && !failed.ok()) {
      poisoned = AppendsRefusedAfter(failed);
    }
    poison = poisoned;
  }
  if (!poison.ok()) {
    for (PendingAppend* p : group) p->done.Set(poison);
    return;
  }
  // recorded_at never decreases, even if the clock steps back.
  absl::Time recorded = std::max(clock->Now(), last_recorded);
  if (group_batch == nullptr) group_batch = std::make_unique<Batch>(*store);
  Batch& batch = *group_batch;
  batch.Clear();
  Overlay overlay;
  merkle::MerkleFrontier tree = frontier;
  std::vector<PendingAppend*> accepted;
  for (size_t i = 0; i < group.size(); ++i) {
    PendingAppend* p = group[i];
    absl::Status s = Sequence(*p, overlay, batch, tree, recorded);
    if (!s.ok()) {
      p->done.Set(std::move(s));
    } else {
      accepted.push_back(p);
    }
    if (i + 1 == group.size() && batch.Count() < kGroupGrowthLimit) {
      // Appends that arrived while this group was being sequenced share its
      // sync rather than wait a whole write for the next one: under load,
      // appenders acknowledged by the last write come back during this
      // one's sequencing (docs/performance.md).
      {
        absl::MutexLock lock(&mu);
        group.insert(group.end(), queue.begin(), queue.end());
        queue.clear();
      }
      // They were called after the clock was read for the group, and the
      // ledger cannot have recorded an event before it was given it.
      if (group.size() > i + 1) recorded = std::max(clock->Now(), recorded);
    }
  }
  if (batch.Count() > 0) {
    absl::Status s = store->Write(batch, options.sync);
    if (!s.ok()) {
      // The bytes may have reached the log before the write or its sync
      // failed: a reopen may find the whole batch (docs/reliability.md).
      absl::Status failure(
          s.code(),
          absl::StrCat("append outcome unknown: the write failed, and its "
                       "events may or may not be found after a reopen; the "
                       "ledger refuses further appends until reopened, then "
                       "a retry with the same event ids appends each once: ",
                       s.message()));
      {
        absl::MutexLock lock(&mu);
        poisoned = AppendsRefusedAfter(s);
      }
      for (PendingAppend* p : accepted) {
        absl::Status told = failure;
        std::string ids;
        for (const auto& e : p->result.events) {
          absl::StrAppend(&ids, e.event_id, "\n");
        }
        told.SetPayload(kEventIdsPayload, absl::Cord(std::move(ids)));
        p->done.Set(std::move(told));
      }
      return;
    }
    events_written.fetch_add(tree.size() - frontier.size());
    writes.fetch_add(1);
    if (options.sync) checkpoint_unsynced = false;
    for (const auto& [c, version] : overlay.case_versions) {
      RememberCaseVersion(c, version);
    }
    for (const auto& request : overlay.requests) RememberRequest(request);
    frontier = std::move(tree);
    last_recorded = recorded;
    size.store(frontier.size(), std::memory_order_release);
    // Releasing mu makes AwaitSize re-check its condition.
    absl::MutexLock wake(&mu);
  }
  appends.fetch_add(accepted.size());
  for (PendingAppend* p : accepted) {
    p->result.tree_size = frontier.size();
    p->done.Set(std::move(p->result));
  }
}

Ledger::Ledger(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Ledger::~Ledger() {
  if (impl_->sequencer.joinable()) {
    {
      absl::MutexLock lock(&impl_->mu);
      impl_->stopping = true;
    }
    impl_->sequencer.join();
    // What is acknowledged is already in the synced log; this only spares
    // the next opens a long replay, so a failure here loses nothing.
    impl_->store->FlushIfOver(internal::kReplayBytesAtOpen).IgnoreError();
  }
}

absl::Status Ledger::CanCreateIn(const std::string& dir) {
  return TakesANewLedger(dir);
}

absl::StatusOr<std::unique_ptr<Ledger>> Ledger::Create(
    const std::string& dir, const std::string& origin, LedgerOptions options) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path store_dir = fs::path(dir) / kStoreDir;
  // Another init (or restore) into the folder at the same moment would take
  // this one's store.partial and key for an unfinished init's and replace
  // them as they are written. Held until the store is in place. Taken
  // before the first look when the folder exists: looked at first, a
  // restore checking its copy was named as a writer (exit 4), where an
  // earlier look had named the restore (exit 3; found by an adversarial
  // test).
  const std::string busy = absl::StrCat("another init or restore into ", dir,
                                        " is running; wait for it to finish");
  internal::FolderLock filling;
  const bool existed = fs::is_directory(dir, ec);
  if (existed) {
    CASELEDGER_ASSIGN_OR_RETURN(filling, internal::FolderLock::Take(dir, busy));
  }
  CASELEDGER_RETURN_IF_ERROR(TakesANewLedger(dir));
  const fs::path unfinished = fs::path(dir) / kPartialStoreDir;
  if (!IsKeyName(origin)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ledger name '", Printable(origin),
        "' must be non-empty, without spaces or '+' (it is the checkpoint "
        "origin and key name), nor control, bidirectional or invisible "
        "characters"));
  }
  bool made = false;
  if (!fs::exists(dir, ec)) {
    CASELEDGER_ASSIGN_OR_RETURN(made, CreateFoldersDurably(dir));
  }
  // A folder made here is private, as restore makes one: it will hold the
  // key and applicants' personal data. One that was there keeps the modes
  // its owner chose (a group of investigators reading it, say).
  if (made) {
    fs::permissions(dir, fs::perms::owner_all, fs::perm_options::replace, ec);
    if (ec) {
      return absl::PermissionDeniedError(
          absl::StrCat("cannot make ", dir, " private: ", ec.message()));
    }
  }
  // A folder made here is locked now, and checked again under the lock,
  // since another run may have filled it meanwhile.
  if (!existed) {
    CASELEDGER_ASSIGN_OR_RETURN(filling, internal::FolderLock::Take(dir, busy));
    CASELEDGER_RETURN_IF_ERROR(TakesANewLedger(dir));
  }
  // The store is made under another name and renamed into place last: the
  // folder is a ledger once `store/` exists, and not before. An init that
  // stopped part way (killed, a full disk) leaves a key and an unfinished
  // store that never held an event, which this init replaces, instead of a
  // folder that neither opens nor can be initialised again.
  // What an unfinished restore left is replaced too, its mark first: left,
  // it refused the new ledger once made (found by an outside test).
  fs::remove(fs::path(dir) / internal::kUncheckedRestoreMark, ec);
  if (!ec) fs::remove_all(unfinished, ec);
  if (!ec) fs::create_directory(unfinished, ec);
  if (ec) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot make the unfinished store ", unfinished.string(),
                     " anew: ", ec.message()));
  }
  // store.partial/ exists on disk before the key does (see above).
  CASELEDGER_RETURN_IF_ERROR(SyncPath(dir));
  CASELEDGER_ASSIGN_OR_RETURN(SigningKey key, SigningKey::Generate(origin));
  CASELEDGER_ASSIGN_OR_RETURN(std::string pem, key.PrivateKeyText());
  {
    // Written with mode 0600 from the start: the key never sits readable.
    std::string key_path = (fs::path(dir) / kKeyFile).string();
    std::string tmp = (fs::path(dir) / kKeyTempFile).string();
    // A file made anew (O_EXCL), never one left there, which may belong to
    // someone else or be readable by others.
    fs::remove(tmp, ec);
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    bool written = fd >= 0;
    for (size_t done = 0; written && done < pem.size();) {
      ssize_t n = ::write(fd, pem.data() + done, pem.size() - done);
      if (n < 0 && errno == EINTR) continue;
      written = n > 0;
      if (written) done += static_cast<size_t>(n);
    }
    if (fd >= 0 && ::close(fd) != 0) written = false;
    if (!written) {
      return absl::PermissionDeniedError(absl::StrCat(
          "cannot write the signing key to ", tmp, ": ", std::strerror(errno)));
    }
    // The key's bytes reach the disk before its name does, and its name
    // before the store's: after a power loss the folder holds either no
    // store, which init replaces, or a store with its whole key.
    CASELEDGER_RETURN_IF_ERROR(SyncPath(tmp));
    fs::rename(tmp, key_path, ec);
    if (ec) {
      return absl::PermissionDeniedError(
          absl::StrCat("cannot install ", key_path, ": ", ec.message()));
    }
    CASELEDGER_RETURN_IF_ERROR(SyncPath(dir));
  }
  {
    CASELEDGER_ASSIGN_OR_RETURN(
        auto store,
        Store::Open(unfinished.string(), {.create_if_missing = true,
                                          .read_only = false,
                                          .faults = options.faults}));
    Batch batch(*store);
    batch.Put(Family::kMeta, kMetaFormatVersion, kFormatVersion);
    batch.Put(Family::kMeta, kMetaOrigin, origin);
    batch.Put(Family::kMeta, kMetaEventIdSpelling, kEventIdsInLowerCase);
    CASELEDGER_RETURN_IF_ERROR(store->Write(batch, /*sync=*/true));
  }
  fs::rename(unfinished, store_dir, ec);
  if (ec) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot rename ", unfinished.string(), " to ",
                     store_dir.string(), ": ", ec.message()));
  }
  CASELEDGER_RETURN_IF_ERROR(SyncPath(dir));
  return Open(dir, options);
}

absl::Status internal::CannotLookInto(const std::string& dir,
                                      const std::error_code& ec) {
  return absl::PermissionDeniedError(
      absl::StrCat("cannot look into ", dir, ": ", ec.message()));
}

absl::StatusOr<std::unique_ptr<Ledger>> Ledger::Open(const std::string& dir,
                                                     LedgerOptions options) {
  CASELEDGER_RETURN_IF_ERROR(
      internal::RefuseUnfinishedCopy(dir, options.read_only));
  return OpenCopy(dir, std::move(options));
}

absl::StatusOr<std::unique_ptr<Ledger>> Ledger::OpenCopy(
    const std::string& dir, LedgerOptions options) {
  namespace fs = std::filesystem;
  auto impl = std::make_unique<Impl>();
  impl->dir = dir;
  impl->options = options;
  impl->clock = options.clock != nullptr ? options.clock : &SystemClock();
  std::error_code ec;
  if (!fs::exists(fs::path(dir) / kStoreDir, ec)) {
    if (ec) return internal::CannotLookInto(dir, ec);
    // A ledger whose entries are gone, not a wrong folder: verify fails
    // (exit 1) rather than take it for bad usage (found by an audit).
    CASELEDGER_ASSIGN_OR_RETURN(std::optional<std::string> missing,
                                MissingStore(dir));
    if (missing) {
      return absl::DataLossError(
          absl::StrCat("no ledger store at ", dir,
                       ", which holds a signing key: ", *missing));
    }
    if (internal::LeftUnfinished(dir)) {
      return absl::NotFoundError(absl::StrCat(
          "no ledger at ", dir,
          " yet: an init or restore into it stopped before its store was in "
          "place (store.partial); run that restore again, or init to start "
          "a new ledger there"));
    }
    // A backup builds DIR.partial beside DIR (a restore did until
    // 2026-12-04).
    if (fs::exists(absl::StrCat(dir, ".partial"), ec)) {
      return absl::NotFoundError(absl::StrCat(
          "no ledger at ", dir, " yet: ", dir,
          ".partial beside it is a backup into it that has not finished; if "
          "none is running, run that backup again (it starts the copy over)"));
    }
    return absl::NotFoundError(absl::StrCat(
        "no ledger at ", dir, " (create one with 'caseledger init')"));
  }
  // Read before the store: every entry it signs was durable before it was
  // written, so a reader beside a writer finds them all in the store it
  // opens next.
  CASELEDGER_ASSIGN_OR_RETURN(std::optional<std::string> kept,
                              internal::ReadKeptCheckpoint(dir));
  auto store = Store::Open((fs::path(dir) / kStoreDir).string(),
                           {.create_if_missing = false,
                            .read_only = options.read_only,
                            .faults = options.faults});
  if (absl::IsNotFound(store.status()) &&
      fs::exists(fs::path(dir) / kKeyFile, ec)) {
    return absl::DataLossError(
        absl::StrCat(store.status().message(), ", though ", dir,
                     " holds a signing key: the store's files were deleted; ",
                     internal::kRestoreIntoANewFolder));
  }
  if (!store.ok()) return store.status();
  impl->store = *std::move(store);
  CASELEDGER_RETURN_IF_ERROR(impl->Load());
  // Only signing needs the private key. A reader without a usable one opens
  // without it whether the file is missing or damaged, so that a damaged key
  // never hides the log, and the key's absence reaches Verify the same way.
  const bool need_key = !options.read_only || options.require_key;
  std::string key_path = (fs::path(dir) / kKeyFile).string();
  // A folder opens as a stream that reads as empty: "0 bytes" named
  // neither the folder nor the mistake.
  std::error_code is_folder_error;
  if (need_key && fs::is_directory(key_path, is_folder_error)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot read the signing key ", key_path, ": it is a folder"));
  }
  std::ifstream in(key_path, std::ios::binary);
  if (in) {
    std::stringstream pem;
    pem << in.rdbuf();
    auto key = SigningKey::FromPrivateKeyText(impl->origin, pem.str());
    if (key.ok()) {
      impl->key = *std::move(key);
    } else if (need_key) {
      return absl::Status(
          key.status().code(),
          absl::StrCat("the signing key ", key_path,
                       " is unusable: ", key.status().message()));
    }
  } else if (need_key) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot read the signing key ", key_path, ": ", std::strerror(errno)));
  }
  // Cheap at open: the last checkpoint's signature and root, and the entries
  // written after it. `verify` checks everything.
  CASELEDGER_RETURN_IF_ERROR(impl->CheckTail());
  CASELEDGER_RETURN_IF_ERROR(impl->CheckKeptCheckpoint(kept));
  if (!impl->has_checkpoint) impl->checkpoint_time = impl->clock->Now();
  if (!options.read_only && !impl->case_index_holds_copies) {
    // A write that fails part way (a full disk) leaves copies that format 1
    // does not read: nothing is lost, which the store's own words did not
    // say (found by an adversarial test: "writing: IO error: No space left
    // on device" alone). Damage the upgrade found names itself.
    if (absl::Status upgraded = impl->UpgradeCaseIndex();
        !upgraded.ok() && !absl::IsDataLoss(upgraded)) {
      return absl::Status(
          upgraded.code(),
          absl::StrCat(dir, ": the upgrade of the case index to format ",
                       kFormatVersion,
                       " stopped; it changes no entry or event, and the next "
                       "writable open finishes it: ",
                       upgraded.message()));
    } else if (!upgraded.ok()) {
      return upgraded;
    }
  }
  if (!options.read_only) {
    Impl* raw = impl.get();
    impl->sequencer = std::thread([raw] { raw->RunSequencer(); });
  }
  return std::unique_ptr<Ledger>(new Ledger(std::move(impl)));
}

absl::Status Ledger::CheckKeyIsPrivate() const {
  const std::string path =
      (std::filesystem::path(impl_->dir) / kKeyFile).string();
  // Execute bits on a key file give nobody the key.
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 || (st.st_mode & 066) == 0) {
    return absl::OkStatus();
  }
  const bool readable = (st.st_mode & 044) != 0;
  const bool writable = (st.st_mode & 022) != 0;
  return absl::FailedPreconditionError(absl::StrFormat(
      "the signing key %s has mode %04o: others than its owner can %s it%s "
      "(chmod 600 %s)",
      path, st.st_mode & 07777,
      readable && writable ? "read or change"
      : readable           ? "read"
                           : "change",
      readable ? ", and whoever reads it can sign checkpoints as this ledger"
               : ", and whoever changes it makes the ledger sign with "
                 "another key",
      path));
}

namespace {

// Calls of at least this many events are prepared on two threads, in pieces
// of this many events: below it, waking the second thread costs about as
// much as it saves.
constexpr size_t kSharedPreparationMin = 32;
constexpr size_t kSharedPreparationPiece = 8;
// The same for the events a case read parses.
constexpr size_t kSharedParsingMin = 32;
constexpr size_t kSharedParsingPiece = 8;

}  // namespace

void Ledger::Impl::TellBackground(absl::Status& last, std::string_view task,
                                  absl::Status now) {
  if (now.GetPayload(kAppendsRefusedPayload)) return;
  // Failing and working again are news; failing again is not.
  const bool news = now.ok() != last.ok();
  last = std::move(now);
  if (news && options.on_background_problem) {
    options.on_background_problem(task, last);
  }
}

internal::ParallelLoop& Ledger::Impl::SecondThread() const {
  std::call_once(second_thread_started, [this] {
    second_thread = std::make_unique<internal::ParallelLoop>();
  });
  return *second_thread;
}

absl::Status Ledger::Impl::Prepare(const v1::Event& given,
                                   const ExpectedVersion& expected,
                                   const std::string& first_case,
                                   PreparedEvent& out) const {
  // The id the event is stored under, when not the given one: a fresh one,
  // or a UUID given in upper case, in lower case.
  const std::string& given_id = given.event_id();
  std::string id;
  if (given_id.empty()) {
    CASELEDGER_ASSIGN_OR_RETURN(id, NewEventId());
  } else if (absl::c_any_of(given_id, [](char c) {
               return absl::ascii_isupper(static_cast<unsigned char>(c));
             })) {
    id = CanonicalEventId(given_id);
  }
  const v1::Event* chosen = &given;
  if (!id.empty() && id != given_id) {
    out.with_id = given;
    out.with_id.set_event_id(std::move(id));
    chosen = &out.with_id;
  }
  const v1::Event& event = *chosen;
  if (absl::Status valid = ValidateEvent(event); !valid.ok()) {
    // Idempotency comes first (domain.md §3): under an id already stored,
    // an event is a duplicate or a conflict whatever its content, and the
    // sequencer tells which.
    if (given_id.empty()) return valid;
    auto stored = StoredId(event.event_id());
    if (!stored.ok() || !stored->has_value()) return valid;
  }
  if (expected.kind != ExpectedVersion::Kind::kAny &&
      event.case_id() != first_case) {
    return absl::InvalidArgumentError(absl::StrCat(
        "case_id: an expected version applies to one case, but this call "
        "holds ",
        first_case, " and ", event.case_id()));
  }
  // The salt, then the event's bytes serialized straight after it.
  const size_t size = event.ByteSizeLong();  // caches sizes
  out.stored.reserve(kSaltSize + size);
  out.stored.resize(kSaltSize);
  CASELEDGER_RETURN_IF_ERROR(
      NewSalt(reinterpret_cast<uint8_t*>(out.stored.data())));
  AppendSerialized(event, out.stored);
  const std::string_view salt(out.stored.data(), kSaltSize);
  const std::string_view event_bytes =
      std::string_view(out.stored).substr(kSaltSize);
  out.content_digest = Sha256(event_bytes);
  out.event_digest = Sha256(salt, event_bytes);
  const uint64_t writes_before = writes.load();
  if (auto stored = StoredId(event.event_id()); stored.ok()) {
    out.stored_id = *std::move(stored);
    out.id_probed_after_writes = writes_before;
  }
  out.event = &event;
  out.type = &EventType(event);
  out.request_id = &RequestIdOf(event);
  return absl::OkStatus();
}

absl::StatusOr<AppendResult> Ledger::Append(absl::Span<const v1::Event> events,
                                            ExpectedVersion expected) {
  return AppendEvents(
      events.size(), [&](size_t i) -> const v1::Event& { return events[i]; },
      expected);
}

absl::StatusOr<AppendResult> Ledger::Append(
    const google::protobuf::RepeatedPtrField<v1::Event>& events,
    ExpectedVersion expected) {
  return AppendEvents(
      static_cast<size_t>(events.size()),
      [&](size_t i) -> const v1::Event& {
        return events.Get(static_cast<int>(i));
      },
      expected);
}

absl::StatusOr<AppendResult> Ledger::AppendEvents(
    size_t n, absl::FunctionRef<const v1::Event&(size_t)> event,
    ExpectedVersion expected) {
  if (impl_->options.read_only) {
    return absl::FailedPreconditionError(
        "the ledger is open read-only; appends need the writer");
  }
  if (n == 0) {
    return absl::InvalidArgumentError("append needs at least one event");
  }
  auto pending = std::make_unique<PendingAppend>();
  pending->expected = expected;
  pending->events.resize(n);
  const std::string first_case = event(0).case_id();
  // Everything that needs no ledger state happens here, in the caller's
  // thread (and for a large call also on a second one), so the single
  // sequencer does as little as possible.
  // Inline for one event, so that a single append allocates nothing here.
  absl::InlinedVector<absl::Status, 1> failures(n);
  // Set once event i is prepared (or failed to be), when the call is
  // sequenced while it is prepared.
  std::unique_ptr<std::atomic<bool>[]> prepared;
  auto prepare = [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      failures[i] =
          impl_->Prepare(event(i), expected, first_case, pending->events[i]);
      if (prepared) prepared[i].store(true, std::memory_order_release);
    }
  };
  const bool large = n >= kSharedPreparationMin;
  // Whether this thread may sequence its own append: when nothing is being
  // sequenced or waits to be, a lone appender then pays no hand-off to the
  // sequencer thread and back. Appends arriving meanwhile queue for the
  // sequencer thread as usual.
  auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(impl_->mu) {
    return !impl_->sequencing && impl_->queue.empty() &&
           impl_->checkpoint_waiters.empty() && !impl_->checkpoint_requested;
  };
  auto sequence_here = [&] {
    std::vector<PendingAppend*> group = {pending.get()};
    impl_->SequenceGroup(group);
    // The sequencer thread signs them; it is not woken by appends made here.
    bool checkpoint_due =
        impl_->CheckpointDue(impl_->clock->Now()) || impl_->TreeKeepDue();
    absl::MutexLock lock(&impl_->mu);
    if (checkpoint_due && impl_->poisoned.ok()) {
      impl_->checkpoint_requested = true;
    }
    impl_->sequencing = false;
  };

  // A large call to an idle ledger is sequenced while it is prepared: this
  // thread takes the sequencer first, the standing thread prepares, and
  // this thread records each event as soon as it is ready, preparing
  // pieces itself when it would otherwise wait (docs/performance.md).
  bool sequenced_while_prepared = false;
  if (large && expected.kind == ExpectedVersion::Kind::kAny) {
    absl::MutexLock lock(&impl_->mu);
    if (!impl_->stopping && impl_->poisoned.ok() && idle()) {
      impl_->sequencing = true;
      sequenced_while_prepared = true;
    }
  }
  if (sequenced_while_prepared) {
    prepared.reset(new std::atomic<bool>[n]());
    internal::ParallelLoop::Pieces pieces(n, kSharedPreparationPiece, prepare);
    impl_->SecondThread().Offer(pieces);
    pending->await_prepared = [&](size_t i) {
      while (!prepared[i].load(std::memory_order_acquire)) {
        if (!pieces.RunOne()) std::this_thread::yield();
      }
      return failures[i];
    };
    sequence_here();
    impl_->SecondThread().Finish(pieces);
  } else {
    if (large) {
      impl_->SecondThread().Run(n, kSharedPreparationPiece, prepare);
    } else {
      prepare(0, n);
    }
    // Each event's preparation is independent of the others', so the first
    // failure by index is the one to report, whichever thread found it.
    for (size_t i = 0; i < n; ++i) {
      if (!failures[i].ok()) return WithEventIndex(std::move(failures[i]), i);
    }
    bool here = false;
    {
      absl::MutexLock lock(&impl_->mu);
      if (impl_->stopping) {
        return absl::UnavailableError("the ledger is closing");
      }
      if (idle()) {
        impl_->sequencing = true;
        here = true;
      } else {
        impl_->queue.push_back(pending.get());
      }
    }
    if (here) sequence_here();
  }
  return pending->done.Take();
}

uint64_t Ledger::Size() const {
  return impl_->size.load(std::memory_order_acquire);
}

absl::Status Ledger::AcceptsAppends() const {
  absl::MutexLock lock(&impl_->mu);
  return impl_->poisoned;
}

uint64_t Ledger::AwaitSize(uint64_t known_size, absl::Time deadline) const {
  struct Waiting {
    const Impl* impl;
    uint64_t known;
  } waiting{impl_.get(), known_size};
  absl::MutexLock lock(&impl_->mu);
  impl_->mu.AwaitWithDeadline(
      absl::Condition(
          +[](Waiting* w) ABSL_NO_THREAD_SAFETY_ANALYSIS {
            return w->impl->size.load() > w->known || w->impl->stopping;
          },
          &waiting),
      deadline);
  return impl_->size.load();
}

Ledger::Stats Ledger::GetStats() const {
  return {impl_->writes.load(), impl_->appends.load(),
          impl_->events_written.load()};
}

const std::string& Ledger::origin() const { return impl_->origin; }

absl::StatusOr<std::vector<RecordedEvent>> Ledger::ReadCase(
    std::string_view case_id, uint64_t from_version, uint64_t limit) const {
  const std::string prefix = CasePrefix(case_id);
  const std::string from =
      CaseKey(case_id, std::max<uint64_t>(from_version, 1));
  std::vector<RecordedEvent> out;
  // Each event is the one the case index files it as: an index altered to
  // point at another case's event must not put it in this case.
  auto filed_as = [&](const v1::LedgerEntry& stored, const RecordedEvent& e,
                      uint64_t version) -> absl::Status {
    if (stored.case_id() == case_id && e.case_version == version) {
      return absl::OkStatus();
    }
    return absl::DataLossError(absl::StrCat(
        "position ", e.position, ": the case index files it as case ",
        std::string(case_id), " version ", version, " but its entry is case ",
        stored.case_id(), " version ", e.case_version));
  };
  // Versions run 1, 2, 3...: a row deleted from the index must not leave a
  // case read, and so the case's state and findings, without its event.
  uint64_t expected_version = std::max<uint64_t>(from_version, 1);
  auto in_turn = [&](uint64_t version) -> absl::Status {
    if (version == expected_version++) return absl::OkStatus();
    return absl::DataLossError(absl::StrCat(
        "case ", std::string(case_id), ": the case index gives version ",
        version, " where version ", expected_version - 1,
        " belongs; the store was altered or damaged (caseledger verify finds "
        "it)"));
  };
  // RocksDB's scan goes on past a table block it cannot read, its status OK
  // (docs/reliability.md, "Corruption"): a case whose last rows sat in one
  // ended early without a word. A point read of the next version reads that
  // block, and fails on it; a row appended since the read began is past
  // `size`.
  const uint64_t size = impl_->size.load();
  auto nothing_past_the_scan = [&]() -> absl::Status {
    CASELEDGER_ASSIGN_OR_RETURN(
        std::optional<std::string> next,
        impl_->store->Get(Family::kCaseIndex,
                          CaseKey(case_id, expected_version)));
    if (!next) return absl::OkStatus();
    absl::StatusOr<uint64_t> position = DecodeU64(next->substr(0, 8));
    if (position.ok() && *position > size) return absl::OkStatus();
    return absl::DataLossError(absl::StrCat(
        "case ", std::string(case_id), ": the case index holds version ",
        expected_version,
        ", which a scan of it did not give: a block of the store could not "
        "be read (caseledger verify names the file)"));
  };
  if (impl_->case_index_holds_copies) {
    // The case's keys are adjacent, and each holds its entry and event: one
    // short scan copies the whole case out (docs/storage.md), then its
    // events are parsed.
    std::vector<std::pair<uint64_t, uint64_t>> filed;  // position, version
    CASELEDGER_RETURN_IF_ERROR(impl_->store->Scan(
        Family::kCaseIndex, from, prefix,
        [&](std::string_view key,
            std::string_view value) -> absl::StatusOr<bool> {
          CASELEDGER_ASSIGN_OR_RETURN(internal::CaseIndexValue parts,
                                      internal::ParseCaseIndexValue(value));
          CASELEDGER_ASSIGN_OR_RETURN(uint64_t version,
                                      DecodeU64(key.substr(prefix.size())));
          CASELEDGER_RETURN_IF_ERROR(in_turn(version));
          filed.emplace_back(parts.position, version);
          Impl::CopyStored(parts.entry_bytes, parts.event_value,
                           out.emplace_back());
          return limit == 0 || out.size() < limit;
        }));
    if (limit == 0 || out.size() < limit) {
      CASELEDGER_RETURN_IF_ERROR(nothing_past_the_scan());
    }
    // Parsing is most of a long read's time; a second core halves it.
    std::vector<absl::Status> failures(out.size());
    auto parse = [&](size_t begin, size_t end) {
      v1::LedgerEntry stored;
      for (size_t i = begin; i < end; ++i) {
        const auto [position, version] = filed[i];
        failures[i] = Impl::ParseStoredAt(position, stored, out[i]);
        if (failures[i].ok()) failures[i] = filed_as(stored, out[i], version);
      }
    };
    if (out.size() >= kSharedParsingMin) {
      impl_->SecondThread().Run(out.size(), kSharedParsingPiece, parse);
    } else {
      parse(0, out.size());
    }
    for (absl::Status& failure : failures) {
      if (!failure.ok()) return std::move(failure);
    }
    return out;
  }
  // Format 1: the case's positions first, then its entries and events in
  // one batched read per family. A value's first 8 bytes are its position;
  // an upgrade stopped part way may have written more after them.
  std::vector<uint64_t> positions, versions;
  std::vector<std::string> keys;
  CASELEDGER_RETURN_IF_ERROR(impl_->store->Scan(
      Family::kCaseIndex, from, prefix,
      [&](std::string_view key,
          std::string_view value) -> absl::StatusOr<bool> {
        CASELEDGER_ASSIGN_OR_RETURN(uint64_t position,
                                    DecodeU64(value.substr(0, 8)));
        CASELEDGER_ASSIGN_OR_RETURN(uint64_t version,
                                    DecodeU64(key.substr(prefix.size())));
        CASELEDGER_RETURN_IF_ERROR(in_turn(version));
        positions.push_back(position);
        versions.push_back(version);
        keys.push_back(EncodeU64(position));
        return limit == 0 || keys.size() < limit;
      }));
  if (limit == 0 || keys.size() < limit) {
    CASELEDGER_RETURN_IF_ERROR(nothing_past_the_scan());
  }
  out.resize(keys.size());
  // One entry message reused, and each event decoded straight from
  // RocksDB's blocks into the results.
  v1::LedgerEntry entry;
  CASELEDGER_RETURN_IF_ERROR(impl_->store->MultiGet(
      {Family::kEntries, Family::kEvents}, keys,
      [&](size_t i, const std::vector<std::optional<std::string_view>>& found) {
        CASELEDGER_RETURN_IF_ERROR(impl_->DecodeFound(positions[i], found[0],
                                                      found[1], entry, out[i]));
        return filed_as(entry, out[i], versions[i]);
      }));
  return out;
}

absl::Status Ledger::ForEach(
    uint64_t from_position,
    const std::function<absl::Status(const RecordedEvent&)>& visit) const {
  return ForEachOf({}, from_position, visit);
}

namespace {

// OK when a scan of the log that ended before position `expected` met
// every entry of the `size` the ledger held when it began.
absl::Status ScannedToTheEnd(uint64_t expected, uint64_t size) {
  if (expected > size) return absl::OkStatus();
  return absl::DataLossError(
      absl::StrCat("position ", expected, ": missing: the ledger holds ", size,
                   " entries, the scan ended at position ", expected - 1));
}

}  // namespace

absl::Status Ledger::Impl::BlameDamagedTable(absl::Status found) const {
  if (found.ok()) return found;
  // RocksDB's own report of the damage names it already.
  if (absl::StrContains(found.message(), "Corruption:")) return found;
  absl::Status tables = store->VerifyChecksums();
  if (tables.ok()) return found;
  return absl::DataLossError(absl::StrCat(
      tables.message(),
      " (a scan of the store, which goes on past a block it cannot read, "
      "found: ",
      found.message(), ")"));
}

absl::Status Ledger::ForEachOf(
    absl::Span<const v1::Event::PayloadCase> payloads, uint64_t from_position,
    const std::function<absl::Status(const RecordedEvent&)>& visit) const {
  // Read before the scan's snapshot, which holds at least these entries.
  const uint64_t size = impl_->size.load();
  bool visit_failed = false;
  absl::Status scanned =
      ScanFrom(payloads, from_position, size, [&](const RecordedEvent& e) {
        absl::Status s = visit(e);
        visit_failed = !s.ok();
        return s;
      });
  if (!visit_failed && absl::IsDataLoss(scanned)) {
    return impl_->BlameDamagedTable(scanned);
  }
  return scanned;
}

absl::Status Ledger::ScanFrom(
    absl::Span<const v1::Event::PayloadCase> payloads, uint64_t from_position,
    uint64_t size,
    const std::function<absl::Status(const RecordedEvent&)>& visit) const {
  auto cursors = impl_->store->NewCursors({Family::kEntries, Family::kEvents});
  internal::Cursor& entries = *cursors[0];
  internal::Cursor& events = *cursors[1];
  std::string start = EncodeU64(std::max<uint64_t>(from_position, 1));
  entries.Seek(start);
  events.Seek(start);
  uint64_t expected = std::max<uint64_t>(from_position, 1);
  // One event and entry reused for the whole walk: `visit` sees each event
  // only for the duration of its call.
  RecordedEvent e;
  v1::LedgerEntry entry;
  v1::Event scratch;
  for (; entries.Valid(); entries.Next(), events.Next(), ++expected) {
    if (!events.Valid() || events.key() != entries.key()) {
      // A cursor that stopped on a read error reports that error, not a gap.
      CASELEDGER_RETURN_IF_ERROR(events.status());
      return absl::DataLossError(
          absl::StrCat("position ", expected, ": the event bytes are missing"));
    }
    const std::string_view event_value = events.value();
    if (!payloads.empty() && event_value.size() >= kSaltSize) {
      // Bytes that do not parse are decoded below, which reports them.
      std::optional<internal::EventSummary> summary =
          internal::SummarizeEvent(event_value.substr(kSaltSize), scratch);
      if (summary && !absl::c_linear_search(payloads, summary->payload)) {
        char key[8];
        EncodeU64(expected, key);
        if (entries.key() != std::string_view(key, sizeof key)) {
          auto found = DecodeU64(entries.key());
          return absl::DataLossError(absl::StrCat(
              "expected position ", expected, ", found ",
              found.ok() ? absl::StrCat(*found) : "a key that is no position"));
        }
        continue;
      }
    }
    CASELEDGER_RETURN_IF_ERROR(
        impl_->DecodeInto(entries.value(), event_value, entry, e));
    if (e.position != expected) {
      return absl::DataLossError(
          absl::StrCat("expected position ", expected, ", found ", e.position));
    }
    CASELEDGER_RETURN_IF_ERROR(visit(e));
  }
  CASELEDGER_RETURN_IF_ERROR(entries.status());
  CASELEDGER_RETURN_IF_ERROR(events.status());
  return ScannedToTheEnd(expected, size);
}

absl::Status Ledger::ForEachEntry(
    uint64_t from_position,
    const std::function<absl::Status(const v1::LedgerEntry&)>& visit) const {
  // As ForEachOf: what the scan finds wrong is blamed on a damaged table
  // when one is, and a scan that ends short of the ledger's size fails.
  const uint64_t size = impl_->size.load();
  auto cursors = impl_->store->NewCursors({Family::kEntries});
  internal::Cursor& entries = *cursors[0];
  uint64_t expected = std::max<uint64_t>(from_position, 1);
  entries.Seek(EncodeU64(expected));
  v1::LedgerEntry entry;
  for (; entries.Valid(); entries.Next(), ++expected) {
    const std::string_view bytes = entries.value();
    if (!entry.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      return impl_->BlameDamagedTable(absl::DataLossError(absl::StrCat(
          "position ", expected, ": the stored entry does not parse")));
    }
    if (entry.position() != expected) {
      return impl_->BlameDamagedTable(absl::DataLossError(absl::StrCat(
          "expected position ", expected, ", found ", entry.position())));
    }
    CASELEDGER_RETURN_IF_ERROR(visit(entry));
  }
  CASELEDGER_RETURN_IF_ERROR(entries.status());
  return impl_->BlameDamagedTable(ScannedToTheEnd(expected, size));
}

absl::StatusOr<std::vector<RecordedEvent>> Ledger::ReadAll(
    uint64_t from_position, uint64_t limit) const {
  std::vector<RecordedEvent> out;
  // Our own stop, told apart from a kCancelled the scan itself might give.
  bool enough = false;
  absl::Status s = ForEach(from_position, [&](const RecordedEvent& e) {
    if (limit != 0 && out.size() >= limit) {
      enough = true;
      return absl::CancelledError();
    }
    out.push_back(e);
    return absl::OkStatus();
  });
  if (!s.ok() && !enough) return s;
  return out;
}

absl::StatusOr<RecordedEvent> Ledger::ReadEvent(
    std::string_view event_id) const {
  CASELEDGER_ASSIGN_OR_RETURN(auto rec,
                              impl_->StoredId(CanonicalEventId(event_id)));
  if (!rec) {
    return absl::NotFoundError(
        absl::StrCat("no event with id ", std::string(event_id)));
  }
  return impl_->ReadAt(rec->position);
}

absl::StatusOr<uint64_t> Ledger::CaseVersion(std::string_view case_id) const {
  return impl_->StoredCaseVersion(case_id);
}

absl::StatusOr<uint64_t> Ledger::CaseVersionAt(std::string_view case_id,
                                               uint64_t size) const {
  auto within_size = [&](uint64_t version) -> absl::StatusOr<bool> {
    CASELEDGER_ASSIGN_OR_RETURN(std::vector<RecordedEvent> event,
                                ReadCase(case_id, version, 1));
    return !event.empty() && event[0].position <= size;
  };
  CASELEDGER_ASSIGN_OR_RETURN(uint64_t latest, CaseVersion(case_id));
  if (latest == 0) return 0;
  CASELEDGER_ASSIGN_OR_RETURN(bool all, within_size(latest));
  if (all) return latest;
  uint64_t within = 0;     // a version at or before `size` (0: none)
  uint64_t past = latest;  // a version after it
  while (past - within > 1) {
    const uint64_t middle = within + (past - within) / 2;
    CASELEDGER_ASSIGN_OR_RETURN(bool in, within_size(middle));
    (in ? within : past) = middle;
  }
  return within;
}

absl::Status Ledger::ForEachCase(
    std::string_view from,
    const std::function<absl::StatusOr<bool>(const std::string&)>& visit)
    const {
  auto cursors = impl_->store->NewCursors({Family::kCaseIndex});
  internal::Cursor& cursor = *cursors[0];
  // Each case's keys share "case_id 0x00"; seeking to "case_id 0x01" skips
  // the rest of them, so this costs one seek per case.
  for (cursor.Seek(from); cursor.Valid();) {
    std::string_view key = cursor.key();
    size_t nul = key.find('\0');
    if (nul == std::string_view::npos) {
      return absl::DataLossError("case index key without a separator");
    }
    std::string case_id(key.substr(0, nul));
    CASELEDGER_ASSIGN_OR_RETURN(bool more, visit(case_id));
    if (!more) return absl::OkStatus();
    cursor.Seek(case_id + '\x01');
  }
  return cursor.status();
}

namespace {
// Projection keys: name 0x00 key; the position lives under name 0x01, which
// sorts after every key of the projection.
std::string ProjectionKey(std::string_view name, std::string_view key) {
  std::string out(name);
  out.push_back('\0');
  out.append(key);
  return out;
}
std::string ProjectionPositionKey(std::string_view name) {
  std::string out(name);
  out.push_back('\x01');
  return out;
}
}  // namespace

absl::Status Ledger::WriteProjection(
    std::string_view name, const std::vector<ProjectionChange>& changes,
    uint64_t applied_position) {
  if (impl_->options.read_only) {
    return absl::FailedPreconditionError("the ledger is open read-only");
  }
  Batch batch(*impl_->store);
  for (const auto& [key, value] : changes) {
    if (value) {
      batch.Put(Family::kProjections, ProjectionKey(name, key), *value);
    } else {
      batch.Delete(Family::kProjections, ProjectionKey(name, key));
    }
  }
  batch.Put(Family::kProjections, ProjectionPositionKey(name),
            EncodeU64(applied_position));
  return impl_->WriteBesideAppends(batch);
}

absl::StatusOr<uint64_t> Ledger::ProjectionPosition(
    std::string_view name) const {
  CASELEDGER_ASSIGN_OR_RETURN(
      auto value,
      impl_->store->Get(Family::kProjections, ProjectionPositionKey(name)));
  if (!value) return 0;
  // Exactly 8 bytes: a longer value was read by its first 8 (found by an
  // adversarial test, a 9-byte position taken as 16).
  if (value->size() != 8) {
    return absl::DataLossError(
        absl::StrCat("the stored position has ", value->size(),
                     value->size() == 1 ? " byte" : " bytes", ", not 8"));
  }
  return DecodeU64(*value);
}

absl::Status Ledger::ScanProjection(
    std::string_view name, std::string_view from, std::string_view prefix,
    const std::function<absl::StatusOr<bool>(std::string_view,
                                             std::string_view)>& visit) const {
  std::string full_prefix = ProjectionKey(name, prefix);
  std::string start = ProjectionKey(name, from);
  if (start < full_prefix) start = full_prefix;
  size_t strip = name.size() + 1;
  return impl_->store->Scan(Family::kProjections, start, full_prefix,
                            [&](std::string_view key, std::string_view value) {
                              return visit(key.substr(strip), value);
                            });
}

absl::StatusOr<std::optional<std::string>> Ledger::ReadProjection(
    std::string_view name, std::string_view key) const {
  return impl_->store->Get(Family::kProjections, ProjectionKey(name, key));
}

absl::Status Ledger::DropProjection(std::string_view name) {
  // A read-only store refuses the write (kFailedPrecondition).
  // One range tombstone over the keys, "name 0x00 ..." up to the position
  // at "name 0x01". Deleting key by key read every key first and held them
  // all in one batch, which for a 10M-event ledger's index is millions of
  // keys, and left a tombstone per key for later scans to step over.
  Batch batch(*impl_->store);
  batch.DeleteRange(Family::kProjections, ProjectionKey(name, ""),
                    ProjectionPositionKey(name));
  batch.Delete(Family::kProjections, ProjectionPositionKey(name));
  return impl_->WriteBesideAppends(batch);
}

absl::Status Ledger::CheckForKey(std::string_view bytes) const {
  // A stored message may go into a bundle, to anyone: the ledger's own
  // private key, attached by mistake (the key file is beside the store),
  // would go with it, as itself or attached to an email (found by a raw
  // gRPC client: only the PEM's own lines were looked for).
  if (!impl_->key) return absl::OkStatus();
  CASELEDGER_ASSIGN_OR_RETURN(std::string pem, impl_->key->PrivateKeyText());
  if (internal::CarriesPrivateKey(bytes, pem)) {
    return absl::InvalidArgumentError(
        "the message holds this ledger's private signing key; it is "
        "never stored (a bundle would disclose it)");
  }
  return absl::OkStatus();
}

absl::StatusOr<Ledger::CheckedMessage> Ledger::CheckMessage(
    std::string_view bytes) const {
  const Sha256Digest digest = Sha256(bytes);
  // Bytes stored already were searched for the key when they were stored
  // (the search was 2 of the 3.6 s of attaching 230 MB again).
  CASELEDGER_ASSIGN_OR_RETURN(bool present, HasMessage(ToHex(digest)));
  if (!present) CASELEDGER_RETURN_IF_ERROR(CheckForKey(bytes));
  return CheckedMessage(impl_->instance, digest);
}

absl::StatusOr<std::string> Ledger::StoreMessage(std::string_view bytes) {
  return StoreMessage(bytes, CheckedMessage(0, Sha256Digest{}));
}

absl::StatusOr<std::string> Ledger::StoreMessage(
    std::string_view bytes, const CheckedMessage& checked) {
  if (impl_->options.read_only) {
    return absl::FailedPreconditionError("the ledger is open read-only");
  }
  Sha256Digest digest = Sha256(bytes);
  std::string hex = ToHex(digest);
  // Bytes stored already were searched for the key when they were stored,
  // and nothing is written now (as in CheckMessage).
  CASELEDGER_ASSIGN_OR_RETURN(bool present, HasMessage(hex));
  if (present) return hex;
  if (checked.ledger_ != impl_->instance || checked.sha256_ != digest) {
    CASELEDGER_RETURN_IF_ERROR(CheckForKey(bytes));
  }
  Batch batch(*impl_->store);
  batch.Put(Family::kBlobs, DigestBytes(digest), bytes);
  CASELEDGER_RETURN_IF_ERROR(impl_->WriteBesideAppends(batch));
  return hex;
}

absl::StatusOr<std::string> Ledger::ReadMessage(
    std::string_view sha256_hex) const {
  CASELEDGER_ASSIGN_OR_RETURN(Sha256Digest digest,
                              DigestFromHex(sha256_hex, "sha256"));
  CASELEDGER_ASSIGN_OR_RETURN(
      auto value, impl_->store->Get(Family::kBlobs, DigestBytes(digest)));
  if (!value) {
    return absl::NotFoundError(absl::StrCat("no stored message with SHA-256 ",
                                            std::string(sha256_hex)));
  }
  if (Sha256(*value) != digest) {
    absl::Status altered = absl::DataLossError(
        absl::StrCat("stored message ", std::string(sha256_hex),
                     " no longer has that SHA-256"));
    altered.SetPayload(kAlteredMessagePayload, absl::Cord("1"));
    return altered;
  }
  return *std::move(value);
}

absl::StatusOr<bool> Ledger::HasMessage(std::string_view sha256_hex) const {
  CASELEDGER_ASSIGN_OR_RETURN(Sha256Digest digest,
                              DigestFromHex(sha256_hex, "sha256"));
  return impl_->store->Holds(Family::kBlobs, DigestBytes(digest));
}

}  // namespace caseledger
