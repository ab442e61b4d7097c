#include "projections/bundle/verify.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "caseledger/v1/ledger.pb.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "ledger/checkpoint.h"
#include "ledger/merkle.h"
#include "ledger/recorded_event.h"
#include "ledger/sha256.h"
#include "ledger/string_view.h"
#include "ledger/timestamp.h"
#include "ledger/untrusted_text.h"
#include "projections/bundle/bundle.h"
#include "projections/bundle/internal/layout.h"
#include "projections/bundle/internal/report.h"
#include "projections/bundle/internal/zip.h"
#include "projections/evaluation.h"
#include "projections/internal/json.h"

namespace caseledger::bundle {
namespace {

// Whether `bytes`, which `parsed` was decoded from, are the one encoding the
// ledger writes of it (docs/formats.md §1): protobuf's parser keeps the last
// of a field given twice and skips fields it does not know, so other bytes
// could mean one thing to this verifier and another to a reader that keeps
// the first (found by an audit: a case_id given twice passed). Unknown
// fields are dropped before encoding again, so that they differ too; the
// known fields, all the checks after it read, stay as decoded.
bool IsTheLedgersEncoding(google::protobuf::Message& parsed,
                          std::string_view bytes) {
  parsed.DiscardUnknownFields();
  std::string again;
  google::protobuf::io::StringOutputStream stream(&again);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  parsed.SerializeToCodedStream(&coded);
  coded.Trim();
  return again == bytes;
}

using internal::Manifest;
using Status = BundleCheck::Status;

static_assert(kMaxBundleBytes == internal::kMaxArchiveBytes);

constexpr size_t kMaxProblemsShown = 20;

std::string Short(const std::string& hex) { return hex.substr(0, 16); }

// The first line where two texts differ, for a message a person can act on.
std::string FirstDifference(std::string_view bundled,
                            std::string_view recomputed) {
  auto lines = [](std::string_view text) {
    std::vector<std::string_view> out;
    size_t start = 0;
    while (true) {
      size_t end = text.find('\n', start);
      out.push_back(text.substr(start, end == std::string_view::npos
                                           ? std::string_view::npos
                                           : end - start));
      if (end == std::string_view::npos) break;
      start = end + 1;
    }
    return out;
  };
  std::vector<std::string_view> a = lines(bundled), b = lines(recomputed);
  for (size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
    std::string_view x = i < a.size() ? a[i] : "(nothing)";
    std::string_view y = i < b.size() ? b[i] : "(nothing)";
    if (x != y) {
      auto cut = [](std::string_view s) {
        return std::string(s.substr(0, 120));
      };
      return absl::StrCat("line ", i + 1, " is `", cut(x), "` in the bundle, `",
                          cut(y), "` recomputed");
    }
  }
  return "they differ";
}

// The last check, run only against a checkpoint the reader kept.
constexpr char kKeptCheckpointCheck[] = "kept-checkpoint";

// A check that failed with one problem, found before the bundle's own
// checks could judge it.
BundleCheck FailedCheck(std::string name, std::string problem) {
  BundleCheck c;
  c.name = std::move(name);
  c.status = Status::kFail;
  c.detail = "1 problem";
  c.problems.push_back(std::move(problem));
  return c;
}

void SkipCheck(BundleVerdict& verdict, std::string name, std::string why) {
  BundleCheck c;
  c.name = std::move(name);
  c.status = Status::kSkipped;
  c.detail = std::move(why);
  verdict.checks.push_back(std::move(c));
}

// Skips `first` and every check after it, in the order checks run: the
// lists written out here once put events.json before policy, so a
// verdict's lines came in another order when the archive was unreadable.
void SkipChecksFrom(BundleVerdict& verdict, std::string_view first,
                    const std::string& why) {
  static constexpr const char* kChecks[] = {
      "archive",     "manifest", "signature",   "files",    "checkpoint",
      "events",      "proofs",   "consistency", "messages", "policy",
      "events.json", "state",    "deadlines",   "findings"};
  bool skipping = false;
  for (const char* name : kChecks) {
    skipping = skipping || first == name;
    if (skipping) SkipCheck(verdict, name, why);
  }
}

class Verifier {
 public:
  Verifier(std::string_view bundle, VerifierKey key, const Checkpoint* kept)
      : bundle_(bundle), key_(std::move(key)), kept_(kept) {}

  BundleVerdict Run() {
    RunBundleChecks();
    if (kept_ != nullptr) KeptCheckpointCheck();
    return std::move(verdict_);
  }

 private:
  // The checks of the bundle alone, in order; the ones that cannot run
  // skipped.
  void RunBundleChecks() {
    if (!Archive()) {
      SkipFrom("manifest", "the archive cannot be read");
      return;
    }
    const bool manifest_ok = ManifestCheck();
    SignatureCheck();
    if (!manifest_ok) {
      SkipFrom("files", "manifest.json cannot be used");
      return;
    }
    FilesCheck();
    checkpoint_ok_ = CheckpointCheck();
    const bool checkpoint_ok = checkpoint_ok_;
    const bool events_ok = EventsCheck();
    if (checkpoint_ok) {
      ProofsCheck();
      ConsistencyCheck();
    } else {
      Skip("proofs", "no verified checkpoint to prove against");
      Skip("consistency", "no verified checkpoint to prove against");
    }
    MessagesCheck(events_ok);
    const bool policy_ok = PolicyCheck();
    if (events_ok) {
      EventsJsonCheck();
    } else {
      Skip("events.json", "the events failed their check");
    }
    if (events_ok && policy_ok) {
      ProjectionChecks();
    } else {
      for (const char* name : {"state", "deadlines", "findings"}) {
        Skip(name, events_ok ? "policy.json failed its check"
                             : "the events failed their check");
      }
    }
  }

  BundleCheck& Begin(std::string name) {
    BundleCheck c;
    c.name = std::move(name);
    verdict_.checks.push_back(std::move(c));
    return verdict_.checks.back();
  }
  void SkipFrom(std::string_view first, const std::string& why) {
    SkipChecksFrom(verdict_, first, why);
  }
  void Skip(std::string name, std::string why) {
    SkipCheck(verdict_, std::move(name), std::move(why));
  }
  // Sets the check's status from its problems; returns true when none.
  static bool Finish(BundleCheck& c, std::string ok_detail) {
    if (c.problems.empty()) {
      c.status = Status::kOk;
      c.detail = std::move(ok_detail);
      return true;
    }
    c.status = Status::kFail;
    c.detail = absl::StrCat(c.problems.size(),
                            c.problems.size() == 1 ? " problem" : " problems");
    return false;
  }

  // The member's bytes, or nullptr when the archive lacks it.
  const std::string_view* Member(const std::string& name) const {
    auto it = members_.find(name);
    return it == members_.end() ? nullptr : &it->second;
  }

  bool Archive() {
    BundleCheck& c = Begin("archive");
    auto members = internal::ReadZip(bundle_);
    if (!members.ok()) {
      c.problems.push_back(std::string(members.status().message()));
      return Finish(c, "");
    }
    for (const internal::ZipMember& m : *members) {
      members_[m.name] = m.data;
      if (!m.crc_ok) {
        c.problems.push_back(
            absl::StrCat(m.name,
                         ": its bytes do not match the archive's CRC-32 for it "
                         "(the member was altered)"));
      }
    }
    Finish(c, absl::StrCat(members->size(),
                           " members in the bundle's ZIP layout"));
    return true;  // readable: later checks run and name what was altered
  }

  bool ManifestCheck() {
    BundleCheck& c = Begin("manifest");
    const std::string_view* json = Member(internal::kManifestFile);
    if (json == nullptr) {
      c.problems.push_back("manifest.json is missing from the archive");
      return Finish(c, "");
    }
    auto manifest = internal::ParseManifest(*json);
    if (!manifest.ok()) {
      c.problems.push_back(std::string(manifest.status().message()));
      return Finish(c, "");
    }
    manifest_ = *std::move(manifest);
    verdict_.case_id = manifest_.case_id;
    verdict_.tree_size = manifest_.tree_size;
    if (manifest_.origin != key_.name) {
      c.problems.push_back(
          absl::StrCat("manifest.json: ledger origin \"", manifest_.origin,
                       "\" is not the key's name \"", key_.name, "\""));
    }
    Finish(c, absl::StrCat("case ", manifest_.case_id, ", purpose ",
                           internal::PurposeName(manifest_.purpose),
                           ", tree size ", manifest_.tree_size, ", ",
                           manifest_.positions.size(), " events, format ",
                           manifest_.format_version));
    return true;  // usable, even if its origin is wrong (reported)
  }

  // What manifest.sig's signed text `body` is, when it is not the statement
  // of `json`: another manifest's statement, or no statement at all (a
  // checkpoint signed by the same key, say), which read alike before.
  static std::string SignsAnotherThing(std::string_view body,
                                       std::string_view json) {
    const std::string ours = ToHex(Sha256(json));
    const std::string prefix = absl::StrCat(kManifestStatementLine, "\n");
    if (body.starts_with(prefix) && body.ends_with('\n')) {
      const std::string_view digest =
          body.substr(prefix.size(), body.size() - prefix.size() - 1);
      if (IsLowerHexSha256(digest)) {
        return absl::StrCat("manifest.sig signs another manifest (SHA-256 ",
                            AbslView(digest), ") than manifest.json (SHA-256 ",
                            ours, ")");
      }
    }
    const std::string_view first = body.substr(0, body.find('\n'));
    if (first == kManifestStatementLine) {
      std::string_view second = body.substr(first.size() + 1);
      second = second.substr(0, second.find('\n'));
      return absl::StrCat(
          "manifest.sig signs no bundle manifest: the line "
          "after \"",
          kManifestStatementLine,
          "\" is not a lowercase SHA-256 (manifest.json's is ", ours,
          ") but \"", Printable(second), "\"");
    }
    return absl::StrCat(
        "manifest.sig signs no bundle manifest: its signed text is not \"",
        kManifestStatementLine,
        "\" and a lowercase SHA-256 on the next line (manifest.json's is ",
        ours, "), but begins \"", Printable(first), "\"");
  }

  void SignatureCheck() {
    BundleCheck& c = Begin("signature");
    SkippedSignatures others;
    const std::string_view* json = Member(internal::kManifestFile);
    const std::string_view* sig = Member(internal::kManifestSigFile);
    if (sig == nullptr) {
      c.problems.push_back("manifest.sig is missing from the archive");
    } else {
      auto body = VerifyNote(*sig, key_, &others);
      if (!body.ok()) {
        // The note's own words: "no signature by K", or the line that
        // failed (a second line claiming K, the 101st signature), where "not
        // signed by K" misled when a valid line by K was there (found by an
        // audit).
        c.problems.push_back(
            absl::StrCat("manifest.sig: ", body.status().message()));
      } else if (json == nullptr) {
        // Signed, but nothing here to hold it against: an OK line said
        // "manifest.json is signed" of a manifest the archive lacks (found
        // by an adversarial reading).
        c.problems.push_back(
            "manifest.json is missing: manifest.sig signs a manifest the "
            "archive does not hold");
      } else if (*body != internal::ManifestStatement(*json)) {
        c.problems.push_back(SignsAnotherThing(*body, *json));
      }
    }
    std::string detail = absl::StrCat("manifest.json is signed by ", key_.name);
    // Lines of other keys are allowed (a co-signer's) but not checked; said,
    // so that a line claiming a court's name lends the bundle nothing
    // unseen. Such a line also changes the file's SHA-256 from the one the
    // export recorded (an adversarial reading).
    if (c.problems.empty() && others.lines > 0) {
      absl::StrAppend(&detail, "; ", others.lines,
                      others.lines == 1 ? " other signature line, not checked"
                                        : " other signature lines, not checked",
                      " (only the --pubkey key's is)");
      // One under the ledger's own name passes for the ledger's at a
      // glance: said so, where it was counted as any other (found by an
      // adversarial reading).
      if (others.under_its_name > 0) {
        absl::StrAppend(
            &detail, "; ",
            others.lines == 1
                ? "it claims"
                : absl::StrCat(others.under_its_name, " of them ",
                               others.under_its_name == 1 ? "claims" : "claim"),
            " the name ", key_.name, " with another key id");
      }
    }
    // Passed in silence, where a co-signer's line was said (found by an
    // adversarial test).
    if (c.problems.empty() && others.repeats_of_its_line > 0) {
      absl::StrAppend(&detail, "; its line is there ",
                      others.repeats_of_its_line + 1, " times");
    }
    Finish(c, detail);
  }

  void FilesCheck() {
    BundleCheck& c = Begin("files");
    // The names the layout requires for this manifest.
    std::set<std::string> expected = {
        internal::kReadmeFile,     internal::kCheckpointFile,
        internal::kEventsJsonFile, internal::kPolicyFile,
        internal::kStateFile,      internal::kDeadlinesFile,
        internal::kFindingsFile,   internal::kReportHtmlFile,
        internal::kReportPdfFile};
    if (manifest_.since_tree_size) {
      expected.insert(internal::kSinceCheckpointFile);
      expected.insert(internal::kConsistencyFile);
    }
    for (uint64_t p : manifest_.positions) {
      expected.insert(internal::EntryPath(p));
      expected.insert(internal::EventPath(p));
      expected.insert(internal::ProofPath(p));
    }
    for (const std::string& h : manifest_.messages) {
      expected.insert(internal::MessagePath(h));
    }
    std::set<std::string> listed;
    for (const internal::ManifestFile& f : manifest_.files) {
      listed.insert(f.path);
      if (!expected.count(f.path)) {
        c.problems.push_back(
            absl::StrCat(f.path,
                         ": listed in manifest.json but not part of the bundle "
                         "layout"));
      }
      const std::string_view* data = Member(f.path);
      if (data == nullptr) {
        failed_inputs_.insert(f.path);
        c.problems.push_back(absl::StrCat(
            f.path, ": listed in manifest.json but missing from the archive"));
        continue;
      }
      const std::string actual = ToHex(Sha256(*data));
      if (data->size() != f.size || actual != f.sha256) {
        failed_inputs_.insert(f.path);
        c.problems.push_back(absl::StrCat(f.path, ": SHA-256 ", Short(actual),
                                          "... and size ", data->size(),
                                          " differ from the manifest's ",
                                          Short(f.sha256), "... and ", f.size));
      }
    }
    for (const std::string& name : expected) {
      if (!listed.count(name)) {
        c.problems.push_back(
            absl::StrCat(name, ": required but not listed in manifest.json"));
      }
    }
    for (const auto& [name, data] : members_) {
      if (name == internal::kManifestFile ||
          name == internal::kManifestSigFile) {
        continue;
      }
      if (!listed.count(name)) {
        c.problems.push_back(absl::StrCat(
            name, ": in the archive but not listed in manifest.json"));
      }
    }
    Finish(c, absl::StrCat(manifest_.files.size(),
                           " files match their SHA-256 and size"));
  }

  bool CheckpointCheck() {
    BundleCheck& c = Begin("checkpoint");
    const std::string_view* note = Member(internal::kCheckpointFile);
    if (note == nullptr) {
      c.problems.push_back("checkpoint.txt is missing from the archive");
      return Finish(c, "");
    }
    auto checkpoint = VerifyCheckpoint(*note, key_);
    if (!checkpoint.ok()) {
      c.problems.push_back(
          absl::StrCat("checkpoint.txt: ", checkpoint.status().message()));
      return Finish(c, "");
    }
    if (checkpoint->origin != manifest_.origin) {
      c.problems.push_back(absl::StrCat("checkpoint.txt: origin \"",
                                        checkpoint->origin,
                                        "\" differs from the manifest's"));
    }
    if (checkpoint->tree_size != manifest_.tree_size) {
      c.problems.push_back(
          absl::StrCat("checkpoint.txt: tree size ", checkpoint->tree_size,
                       " differs from the manifest's ", manifest_.tree_size));
    }
    if (ToHex(checkpoint->root_hash) != manifest_.root_hash) {
      c.problems.push_back(absl::StrCat(
          "checkpoint.txt: root hash ", ToHex(checkpoint->root_hash),
          " differs from the manifest's ", manifest_.root_hash));
    }
    root_ = checkpoint->root_hash;
    return Finish(c, absl::StrCat("signed by ", key_.name, ", tree size ",
                                  checkpoint->tree_size, ", root ",
                                  ToHex(checkpoint->root_hash)));
  }

  bool EventsCheck() {
    BundleCheck& c = Begin("events");
    uint64_t version = 0;
    absl::Time previous = absl::InfinitePast();
    for (uint64_t p : manifest_.positions) {
      ++version;
      const std::string entry_path = internal::EntryPath(p);
      const std::string event_path = internal::EventPath(p);
      const std::string_view* entry_bytes = Member(entry_path);
      const std::string_view* event_file = Member(event_path);
      if (entry_bytes == nullptr || event_file == nullptr) {
        c.problems.push_back(
            absl::StrCat(entry_bytes == nullptr ? entry_path : event_path,
                         ": missing from the archive"));
        continue;
      }
      v1::LedgerEntry entry;
      if (!entry.ParseFromArray(entry_bytes->data(),
                                static_cast<int>(entry_bytes->size()))) {
        c.problems.push_back(
            absl::StrCat(entry_path, ": not a LedgerEntry (docs/formats.md)"));
        continue;
      }
      if (!IsTheLedgersEncoding(entry, *entry_bytes)) {
        c.problems.push_back(absl::StrCat(
            entry_path,
            ": not the one encoding docs/formats.md §1 gives its entry (a "
            "field repeated, out of order or unknown, or a number not in its "
            "shortest form)"));
      }
      if (event_file->size() < internal::kSaltBytes) {
        c.problems.push_back(absl::StrCat(event_path, ": shorter than its ",
                                          internal::kSaltBytes, "-byte salt"));
        continue;
      }
      RecordedEvent e;
      e.position = p;
      e.case_version = entry.case_version();
      e.recorded_at = FromTimestamp(entry.recorded_at());
      e.entry_bytes = std::string(*entry_bytes);
      e.salt = std::string(event_file->substr(0, internal::kSaltBytes));
      e.event_bytes = std::string(event_file->substr(internal::kSaltBytes));
      const std::string digest = DigestBytes(Sha256(e.salt, e.event_bytes));
      size_t before = c.problems.size();
      if (entry.position() != p) {
        c.problems.push_back(absl::StrCat(entry_path, ": holds position ",
                                          entry.position(), ", not ", p));
      }
      if (entry.case_id() != manifest_.case_id) {
        c.problems.push_back(absl::StrCat(entry_path, ": belongs to case \"",
                                          entry.case_id(), "\", not \"",
                                          manifest_.case_id, "\""));
      }
      if (entry.case_version() != version) {
        c.problems.push_back(
            absl::StrCat(entry_path, ": case version ", entry.case_version(),
                         " where the dense sequence needs ", version));
      }
      if (e.recorded_at < previous) {
        c.problems.push_back(
            absl::StrCat(entry_path, ": recorded_at goes backwards"));
      }
      previous = e.recorded_at;
      if (entry.event_digest() != digest) {
        // Which of the two was altered: an entry the checkpoint still signs
        // is not (the entry was blamed on the event, found by an
        // adversarial reading). Told only by a proof that is itself sound.
        const std::string proof_path = internal::ProofPath(p);
        const absl::Status proved =
            checkpoint_ok_ && !failed_inputs_.count(proof_path)
                ? ProveEntry(p)
                : absl::UnknownError("no proof to tell by");
        if (proved.ok()) {
          c.problems.push_back(
              absl::StrCat(event_path, ": SHA-256(salt || event) is ",
                           ToHex(digest), ", but the entry's event_digest is ",
                           ToHex(entry.event_digest())));
        } else if (absl::IsDataLoss(proved)) {
          c.problems.push_back(absl::StrCat(
              entry_path, ": its event_digest is ", ToHex(entry.event_digest()),
              ", but SHA-256(salt || event) of ", event_path, " is ",
              ToHex(digest), ", and the entry does not lead through ",
              proof_path,
              " to the checkpoint's root: the entry was altered (or the "
              "proof with it)"));
        } else {
          c.problems.push_back(absl::StrCat(
              event_path, " and ", entry_path,
              " disagree: SHA-256(salt || event) is ", ToHex(digest),
              ", but the entry's event_digest is ", ToHex(entry.event_digest()),
              "; which of the two was altered, ", proof_path, " cannot tell"));
        }
      }
      const bool parsed = e.event.ParseFromString(e.event_bytes);
      if (!parsed) {
        c.problems.push_back(
            absl::StrCat(event_path, ": the event bytes are not an Event"));
      } else if (!IsTheLedgersEncoding(e.event, e.event_bytes)) {
        c.problems.push_back(absl::StrCat(
            event_path,
            ": the event bytes are not the encoding the ledger writes of "
            "their event (a field or payload repeated, out of order or "
            "unknown to this version of caseledger)"));
      } else {
        if (e.event.case_id() != manifest_.case_id) {
          c.problems.push_back(absl::StrCat(event_path,
                                            ": the event's case_id is \"",
                                            e.event.case_id(), "\""));
        }
        if (EventType(e.event) != entry.event_type()) {
          c.problems.push_back(
              absl::StrCat(event_path, ": event type ", EventType(e.event),
                           " differs from the entry's ", entry.event_type()));
        }
      }
      if (c.problems.size() == before) {
        events_.push_back(std::move(e));
      } else if (parsed) {
        // The messages it names are not to blame for its failure: they were
        // reported as referred to by no event (found by an audit).
        for (const std::string& h : internal::MessageReferences(e.event)) {
          referenced_by_failed_events_.insert(h);
        }
      }
    }
    if (manifest_.positions.empty()) {
      c.problems.push_back("manifest.json lists no events");
    }
    return Finish(c,
                  absl::StrCat(events_.size(),
                               " events: each digest matches its entry; case "
                               "versions 1 to ",
                               events_.size(), " with none missing"));
  }

  // Whether events/P.entry leads through proofs/P.json to the verified
  // checkpoint's root; the problem, naming the proof, otherwise: kDataLoss
  // when a well-formed proof of the right leaf does not lead there.
  absl::Status ProveEntry(uint64_t p) const {
    const std::string path = internal::ProofPath(p);
    const std::string_view* json = Member(path);
    const std::string_view* entry = Member(internal::EntryPath(p));
    if (json == nullptr || entry == nullptr) {
      return absl::NotFoundError(absl::StrCat(
          path, ": cannot be checked, ",
          json == nullptr ? path : internal::EntryPath(p), " is missing"));
    }
    auto proof = internal::ParseProofJson(*json, "leaf_index", "tree_size");
    if (!proof.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": ", proof.status().message()));
    }
    if (proof->first != p - 1 || proof->second != manifest_.tree_size) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": proves leaf ", proof->first, " in tree size ", proof->second,
          ", not leaf ", p - 1, " in tree size ", manifest_.tree_size));
    }
    absl::Status s =
        merkle::VerifyInclusion(merkle::LeafHash(*entry), p - 1,
                                manifest_.tree_size, proof->hashes, root_);
    if (!s.ok()) {
      return absl::DataLossError(absl::StrCat(
          path, ": the leaf of ", internal::EntryPath(p),
          " does not lead through it to the checkpoint's root (the entry or "
          "the proof was altered): ",
          s.message()));
    }
    return absl::OkStatus();
  }

  void ProofsCheck() {
    BundleCheck& c = Begin("proofs");
    for (uint64_t p : manifest_.positions) {
      if (absl::Status proved = ProveEntry(p); !proved.ok()) {
        c.problems.emplace_back(proved.message());
      }
    }
    Finish(c, absl::StrCat(manifest_.positions.size(),
                           " inclusion proofs lead to the checkpoint's root"));
  }

  void ConsistencyCheck() {
    if (!manifest_.since_tree_size) {
      Skip("consistency", "the bundle holds no earlier checkpoint");
      return;
    }
    BundleCheck& c = Begin("consistency");
    const uint64_t old_size = *manifest_.since_tree_size;
    const std::string_view* note = Member(internal::kSinceCheckpointFile);
    const std::string_view* json = Member(internal::kConsistencyFile);
    if (note == nullptr || json == nullptr) {
      c.problems.push_back(absl::StrCat(note == nullptr
                                            ? internal::kSinceCheckpointFile
                                            : internal::kConsistencyFile,
                                        " is missing from the archive"));
      Finish(c, "");
      return;
    }
    auto since = VerifyCheckpoint(*note, key_);
    if (!since.ok()) {
      c.problems.push_back(
          absl::StrCat("since-checkpoint.txt: ", since.status().message()));
      Finish(c, "");
      return;
    }
    // The same key could sign for another log; a tree of another origin
    // extends nothing of this one's (found by an audit).
    if (since->origin != manifest_.origin) {
      c.problems.push_back(absl::StrCat("since-checkpoint.txt: origin \"",
                                        since->origin,
                                        "\" differs from the manifest's"));
    }
    auto proof = internal::ParseProofJson(*json, "old_size", "new_size");
    if (!proof.ok()) {
      c.problems.push_back(
          absl::StrCat("consistency.json: ", proof.status().message()));
    } else if (since->tree_size != old_size || proof->first != old_size ||
               proof->second != manifest_.tree_size) {
      c.problems.push_back(absl::StrCat(
          "consistency.json proves ", proof->first, " -> ", proof->second,
          "; since-checkpoint.txt has size ", since->tree_size,
          "; the manifest says ", old_size, " -> ", manifest_.tree_size));
    } else if (old_size == 0) {
      if (since->root_hash != merkle::EmptyRoot() || !proof->hashes.empty()) {
        c.problems.push_back(
            "since-checkpoint.txt: an empty tree must have the empty root "
            "and no proof");
      }
    } else {
      absl::Status s =
          merkle::VerifyConsistency(old_size, manifest_.tree_size,
                                    since->root_hash, root_, proof->hashes);
      if (!s.ok()) {
        c.problems.push_back(absl::StrCat("consistency.json: ", s.message()));
      }
    }
    if (Finish(c,
               absl::StrCat("the checkpoint of tree size ", manifest_.tree_size,
                            " extends the earlier one of size ", old_size,
                            ", root ", ToHex(since->root_hash)))) {
      extended_ = *since;
    }
  }

  // The bundle against a checkpoint the reader kept: the same tree, or one
  // the bundle proves extends it. Without it, a bundle exported at an older
  // size passed as current, and the earlier checkpoint of its consistency
  // proof was the exporter's choice (an adversarial reading).
  void KeptCheckpointCheck() {
    if (!checkpoint_ok_) {
      Skip(kKeptCheckpointCheck,
           "no verified checkpoint in the bundle to compare");
      return;
    }
    BundleCheck& c = Begin(kKeptCheckpointCheck);
    const Checkpoint& kept = *kept_;
    const uint64_t n = manifest_.tree_size;
    if (kept.origin != manifest_.origin) {
      c.problems.push_back(absl::StrCat("--checkpoint is of \"", kept.origin,
                                        "\", the bundle of \"",
                                        manifest_.origin, "\""));
    } else if (kept.tree_size == n) {
      if (kept.root_hash != root_) {
        c.problems.push_back(absl::StrCat(
            "--checkpoint of tree size ", n, " has root ",
            ToHex(kept.root_hash), ", the bundle's ", ToHex(root_),
            ": the key signed two different trees of that size (the log "
            "was forked or rewritten)"));
      }
    } else if (kept.tree_size > n) {
      c.problems.push_back(absl::StrCat(
          "the bundle is of tree size ", n, ", older than --checkpoint's ",
          kept.tree_size,
          ": events recorded after that size, of this case or any other, "
          "are not in it; ask for an export at tree size ",
          kept.tree_size, " or later"));
    } else if (!extended_ || extended_->tree_size != kept.tree_size) {
      c.problems.push_back(absl::StrCat(
          "the bundle does not prove that its tree of size ", n,
          " extends --checkpoint's of size ", kept.tree_size,
          extended_ ? absl::StrCat(" (it proves it extends one of size ",
                                   extended_->tree_size, ")")
                    : std::string(),
          "; ask for an export with --since-checkpoint of that checkpoint"));
    } else if (extended_->root_hash != kept.root_hash) {
      c.problems.push_back(absl::StrCat(
          "since-checkpoint.txt of tree size ", kept.tree_size, " has root ",
          ToHex(extended_->root_hash), ", --checkpoint's ",
          ToHex(kept.root_hash),
          ": the key signed two different trees of that size (the log was "
          "forked or rewritten)"));
    }
    Finish(c, kept.tree_size == n
                  ? absl::StrCat("the bundle's checkpoint is --checkpoint's, "
                                 "tree size ",
                                 n)
                  : absl::StrCat("the bundle's tree of size ", n,
                                 " extends --checkpoint's of size ",
                                 kept.tree_size));
  }

  // A message no event refers to is a problem only when every event was
  // read: one whose event is missing or unreadable was blamed for it,
  // authentic as it was (found by an adversarial reading).
  void MessagesCheck(bool events_ok) {
    BundleCheck& c = Begin("messages");
    size_t unjudged = 0;
    std::set<std::string> referenced;
    for (const RecordedEvent& e : events_) {
      for (const std::string& h : internal::MessageReferences(e.event)) {
        referenced.insert(h);
      }
    }
    for (const std::string& h : manifest_.messages) {
      const std::string path = internal::MessagePath(h);
      const std::string_view* data = Member(path);
      if (data == nullptr) {
        failed_inputs_.insert(path);
        c.problems.push_back(absl::StrCat(path, ": missing from the archive"));
        continue;
      }
      const std::string actual = ToHex(Sha256(*data));
      if (actual != h) {
        failed_inputs_.insert(path);
        c.problems.push_back(absl::StrCat(path, ": its SHA-256 is ", actual,
                                          ", not the name it is filed under"));
        continue;
      }
      if (!referenced.count(h) && !referenced_by_failed_events_.count(h)) {
        if (!events_ok) {
          ++unjudged;
          continue;
        }
        c.problems.push_back(
            absl::StrCat(path, ": no event of the case refers to it"));
        continue;
      }
      stored_.insert(h);
    }
    size_t missing = 0;
    for (const std::string& h : referenced) missing += !stored_.count(h);
    const size_t matched = stored_.size();
    std::string detail =
        matched == 1 ? "1 message matches the SHA-256 its event records"
                     : absl::StrCat(matched,
                                    " messages match the SHA-256 their events "
                                    "record");
    // Only a sent request's missing message is a finding's concern
    // (SENT_MESSAGE_PRESERVED); a notice or an applicant's email that was
    // never stored is no fault of the office's. Said of the export: a
    // message attached since is in a later export (an adversarial reading).
    if (missing > 0) {
      absl::StrAppend(&detail, "; ",
                      missing == 1
                          ? "1 message referred to was"
                          : absl::StrCat(missing, " messages referred to were"),
                      " not stored in the ledger at export "
                      "(SENT_MESSAGE_PRESERVED judges a sent request's)");
    }
    if (unjudged > 0) {
      absl::StrAppend(
          &detail, "; ",
          unjudged == 1
              ? "1 message no event read refers to"
              : absl::StrCat(unjudged, " messages no event read refers to"),
          ", not judged: the events failed their check");
    }
    Finish(c, detail);
  }

  bool PolicyCheck() {
    BundleCheck& c = Begin("policy");
    const std::string_view* text = Member(internal::kPolicyFile);
    if (text == nullptr) {
      c.problems.push_back("policy.json is missing from the archive");
      return Finish(c, "");
    }
    auto policy = projections::ParsePolicy(*text);
    if (!policy.ok()) {
      c.problems.push_back(
          absl::StrCat("policy.json: ", policy.status().message()));
      return Finish(c, "");
    }
    if (projections::PolicyJson(*policy) != *text) {
      c.problems.push_back(
          "policy.json: not in the canonical form caseledger writes");
    }
    policy_ = *policy;
    return Finish(c, absl::StrCat("deadline policy, default minimum ",
                                  policy_.default_minimum_days, " days"));
  }

  void EventsJsonCheck() {
    BundleCheck& c = Begin("events.json");
    const std::string_view* json = Member(internal::kEventsJsonFile);
    if (json == nullptr) {
      c.problems.push_back("events.json is missing from the archive");
    } else if (absl::Status s = internal::CheckEventsJson(
                   *json, events_, manifest_.case_id, manifest_.tree_size);
               !s.ok()) {
      c.problems.push_back(absl::StrCat("events.json: ", s.message()));
    }
    Finish(c, "says what the event files hold");
  }

  // The deadlines and findings are recomputed from the policy, and the
  // findings from the messages, as the bundle holds them: when those failed
  // a check above, an intact findings.json read as altered (found by an
  // adversarial reading). The state reads neither.
  std::string InputsInDoubt(bool reads_policy, bool reads_messages) const {
    std::vector<std::string> read;
    if (reads_policy && failed_inputs_.count(internal::kPolicyFile)) {
      read.push_back(internal::kPolicyFile);
    }
    const size_t messages =
        !reads_messages
            ? 0
            : std::count_if(failed_inputs_.begin(), failed_inputs_.end(),
                            [](const std::string& path) {
                              return path.starts_with("messages/");
                            });
    if (messages > 0) {
      read.push_back(messages == 1 ? "1 message"
                                   : absl::StrCat(messages, " messages"));
    }
    if (read.empty()) return "";
    return absl::StrCat(" (recomputed with ", absl::StrJoin(read, " and "),
                        " that failed a check above: the difference may "
                        "follow from that alone)");
  }

  void ProjectionChecks() {
    projections::Evaluation evaluation;
    evaluation.as_of = manifest_.as_of;
    evaluation.known_at = manifest_.known_at;
    evaluation.now = manifest_.known_at;
    auto derived =
        internal::Derive(events_, manifest_.case_id, manifest_.tree_size,
                         evaluation, policy_, stored_);
    const std::string when =
        absl::StrCat("recomputed from the events as of ",
                     projections::FormatUtc(manifest_.as_of), ", known at ",
                     projections::FormatUtc(manifest_.known_at));
    for (const auto& [name, file, recomputed] :
         std::vector<std::tuple<std::string, std::string, std::string>>{
             {"state", internal::kStateFile,
              derived.ok() ? derived->state_json : ""},
             {"deadlines", internal::kDeadlinesFile,
              derived.ok() ? derived->deadlines_json : ""},
             {"findings", internal::kFindingsFile,
              derived.ok() ? derived->findings_json : ""}}) {
      BundleCheck& c = Begin(name);
      const std::string_view* bundled = Member(file);
      if (!derived.ok()) {
        c.problems.push_back(absl::StrCat("the events cannot be folded: ",
                                          derived.status().message()));
      } else if (bundled == nullptr) {
        c.problems.push_back(
            absl::StrCat(file, " is missing from the archive"));
      } else if (*bundled != recomputed) {
        c.problems.push_back(
            absl::StrCat(file, " differs from the ", name, " ", when, ": ",
                         FirstDifference(*bundled, recomputed),
                         InputsInDoubt(/*reads_policy=*/name != "state",
                                       /*reads_messages=*/name == "findings")));
      }
      Finish(c, absl::StrCat(file, " matches the ", name, " ", when));
    }
  }

  std::string_view bundle_;
  VerifierKey key_;
  const Checkpoint* kept_;  // the reader's, or nullptr
  BundleVerdict verdict_;
  bool checkpoint_ok_ = false;
  // The earlier checkpoint the consistency check proved the tree extends.
  std::optional<Checkpoint> extended_;
  std::map<std::string, std::string_view> members_;
  // Members the files or messages check found missing or altered.
  std::set<std::string> failed_inputs_;
  Manifest manifest_;
  merkle::Hash root_{};
  std::vector<RecordedEvent> events_;
  // Messages named by events that failed their check (and are not in
  // events_).
  std::set<std::string> referenced_by_failed_events_;
  std::set<std::string> stored_;
  projections::DeadlinePolicy policy_;
};

const char* StatusWord(Status s) {
  switch (s) {
    case Status::kOk:
      return "OK";
    case Status::kFail:
      return "FAIL";
    case Status::kSkipped:
      return "SKIP";
  }
  return "?";
}

}  // namespace

bool BundleVerdict::ok() const {
  static const std::set<std::string> kRequired = {
      "archive",    "manifest", "signature", "files",
      "checkpoint", "events",   "proofs"};
  std::set<std::string> passed;
  for (const BundleCheck& c : checks) {
    if (c.status == BundleCheck::Status::kFail) return false;
    if (c.status == BundleCheck::Status::kOk) passed.insert(c.name);
  }
  for (const std::string& name : kRequired) {
    if (!passed.count(name)) return false;
  }
  return true;
}

absl::StatusOr<BundleVerdict> VerifyBundle(std::string_view bundle,
                                           std::string_view verifier_key_text) {
  auto key = ParseVerifierKey(verifier_key_text);
  if (!key.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--pubkey: ", key.status().message()));
  }
  return VerifyBundle(bundle, *key);
}

BundleVerdict VerifyBundle(std::string_view bundle,
                           const VerifierKey& verifier_key,
                           const Checkpoint* kept) {
  return Verifier(bundle, verifier_key, kept).Run();
}

BundleVerdict UnreadableBundle(std::string problem, bool kept_given) {
  BundleVerdict v;
  v.checks.push_back(FailedCheck("archive", std::move(problem)));
  // Every check is listed, as for a file that is no archive: a reader of
  // the JSON finds each check's line whatever stopped the rest.
  SkipChecksFrom(v, "manifest", "the archive cannot be read");
  if (kept_given) {
    SkipCheck(v, kKeptCheckpointCheck, "the archive cannot be read");
  }
  return v;
}

void FailKeptCheckpoint(BundleVerdict& verdict, std::string problem) {
  verdict.checks.push_back(
      FailedCheck(kKeptCheckpointCheck, std::move(problem)));
}

std::optional<BundleVerdict> RefusedByItsEnd(std::string_view tail,
                                             uint64_t size, bool kept_given) {
  auto end = internal::ReadEndRecord(tail, size);
  if (end.ok()) return std::nullopt;
  return UnreadableBundle(std::string(end.status().message()), kept_given);
}

absl::Status CheckBundleStart(std::string_view head) {
  static_assert(kBundleStartBytes == internal::kZipEndBytes);
  return internal::CheckZipStart(head);
}

std::string RenderVerdictText(const BundleVerdict& verdict,
                              std::string_view file) {
  // Problems quote paths, ids and hashes from the bundle, which anyone may
  // have made: a line break or a terminal escape there could print a
  // "VERDICT: OK" of its own, or erase the real one.
  const auto shown = [](std::string_view text) {
    return Printable(text, std::string_view::npos, Quotes::kKeep);
  };
  std::string out;
  std::vector<std::string> failed;
  for (const BundleCheck& c : verdict.checks) {
    std::string name = c.name;
    name.resize(std::max<size_t>(name.size(), 12), ' ');
    absl::StrAppend(&out, StatusWord(c.status),
                    c.status == Status::kOk ? "   " : " ", name, " ",
                    shown(c.detail), "\n");
    for (size_t i = 0; i < c.problems.size() && i < kMaxProblemsShown; ++i) {
      absl::StrAppend(&out, "       - ", shown(c.problems[i]), "\n");
    }
    if (c.problems.size() > kMaxProblemsShown) {
      absl::StrAppend(&out, "       ... and ",
                      c.problems.size() - kMaxProblemsShown, " more\n");
    }
    if (c.status == Status::kFail) failed.push_back(c.name);
  }
  if (verdict.ok()) {
    absl::StrAppend(&out, "VERDICT: OK ", shown(file), " (case ",
                    shown(verdict.case_id), ", tree size ", verdict.tree_size,
                    ")\n");
  } else {
    absl::StrAppend(&out, "VERDICT: FAIL ", shown(file), " (", failed.size(),
                    failed.size() == 1 ? " check" : " checks",
                    " failed: ", absl::StrJoin(failed, ", "), ")\n");
  }
  return out;
}

std::string RenderVerdictJson(const BundleVerdict& verdict,
                              std::string_view file) {
  projections::internal::JsonWriter w;
  w.BeginObject();
  w.Key("file");
  w.String(file);
  w.Key("ok");
  w.Bool(verdict.ok());
  w.Key("case_id");
  w.String(verdict.case_id);
  w.Key("tree_size");
  w.Uint(verdict.tree_size);
  w.Key("checks");
  w.BeginArray();
  for (const BundleCheck& c : verdict.checks) {
    w.BeginObject();
    w.Key("check");
    w.String(c.name);
    w.Key("status");
    w.String(StatusWord(c.status));
    w.Key("detail");
    w.String(c.detail);
    w.Key("problems");
    w.BeginArray();
    for (const std::string& p : c.problems) w.String(p);
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::move(w).Finish();
}

}  // namespace caseledger::bundle
