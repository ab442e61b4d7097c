#include "projections/bundle/bundle.h"

#include <algorithm>
#include <map>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "caseledger/v1/ledger.pb.h"
#include "ledger/checkpoint.h"
#include "ledger/proof_json.h"
#include "ledger/sha256.h"
#include "ledger/status_macros.h"
#include "ledger/timestamp.h"
#include "ledger/untrusted_text.h"
#include "projections/bundle/internal/document.h"
#include "projections/bundle/internal/layout.h"
#include "projections/bundle/internal/report.h"
#include "projections/bundle/internal/zip.h"

#ifndef CASELEDGER_VERSION
#define CASELEDGER_VERSION "unknown"
#endif

namespace caseledger::bundle {
namespace {

using internal::Manifest;
using internal::ManifestFile;

std::string DigestHex(const merkle::Hash& h) { return ToHex(h); }

// The bundle vouches for each event under the ledger's key, so each is
// checked here as verify-bundle checks it: an event that does not match its
// entry, or an entry its proof does not lead to the signed root from (a
// copy in the case index altered, found by an audit), fails the export
// before anything is recorded, not the court's check afterwards.
absl::Status CheckProven(const RecordedEvent& e, uint64_t size,
                         const std::vector<merkle::Hash>& proof,
                         const merkle::Hash& root) {
  v1::LedgerEntry entry;
  if (!entry.ParseFromString(e.entry_bytes) ||
      entry.event_digest() != DigestBytes(Sha256(e.salt, e.event_bytes))) {
    return absl::DataLossError(absl::StrCat(
        "position ", e.position,
        ": the stored event does not match its entry's digest; the ledger "
        "was altered or damaged (caseledger verify finds it)"));
  }
  if (absl::Status proven = merkle::VerifyInclusion(
          merkle::LeafHash(e.entry_bytes), e.position - 1, size, proof, root);
      !proven.ok()) {
    return absl::DataLossError(absl::StrCat(
        "position ", e.position,
        ": the stored entry is not the one the "
        "signed checkpoint of tree size ",
        size, " holds (", proven.message(),
        "); the ledger was altered or damaged (caseledger verify finds it)"));
  }
  return absl::OkStatus();
}

// Reads the checkpoint of the exported size: signs one of the current tree
// when `size` is 0, else the stored one of exactly `size`.
absl::StatusOr<std::string> ExportCheckpoint(Ledger& ledger, uint64_t size) {
  if (size == 0) return ledger.SignCheckpoint();
  if (size > ledger.Size()) {
    return absl::NotFoundError(absl::StrCat("--tree-size ", size,
                                            ": the ledger holds only ",
                                            ledger.Size(), " entries"));
  }
  auto note = ledger.CheckpointAt(size);
  if (note.ok() || note.status().code() != absl::StatusCode::kNotFound) {
    return note;
  }
  CASELEDGER_ASSIGN_OR_RETURN(std::vector<uint64_t> sizes,
                              ledger.CheckpointSizes());
  // The three stored sizes on each side of the one asked for (sizes
  // within 1,000 of it were listed: all 477 of a ledger fed by small
  // appends, each of which signs one; found by an outside test).
  constexpr size_t kNearOnEachSide = 3;
  const auto above = std::lower_bound(sizes.begin(), sizes.end(), size);
  const std::vector<uint64_t> near(
      above - std::min<ptrdiff_t>(above - sizes.begin(), kNearOnEachSide),
      above + std::min<ptrdiff_t>(sizes.end() - above, kNearOnEachSide));
  return absl::NotFoundError(absl::StrCat(
      "--tree-size ", size,
      ": the ledger stores no checkpoint of that size (a bundle is exported "
      "only at a checkpointed size; ",
      sizes.empty()
          ? "none is stored"
          : absl::StrCat(
                sizes.size(), sizes.size() == 1 ? " is stored" : " are stored",
                near.empty()
                    ? ""
                    : absl::StrCat(", nearby: ", absl::StrJoin(near, ", "))),
      ")"));
}

// The bundle's manifest, signed with the ledger's key, says the case's
// events are all there (docs/bundle-format.md §1); they come from the case
// index, which no Merkle tree covers. ReadCase finds a version missing
// among them; the log decides the rest: every entry of the case, from the
// start of the log up to the exported size, is one the index gives. An index
// that lost the case's last rows would otherwise give a bundle that
// verifies; one that lost rows, with the writer then giving their versions
// again to new events (version 1 too, to a new case_opened), gave a dense
// list of versions that left the lost events out, and verified too (found by
// an adversarial reading and two reviews). The walk reads entries alone,
// ~0.25 s per million.
absl::Status CheckCaseIsWhole(const Ledger& ledger, const std::string& case_id,
                              const std::vector<RecordedEvent>& events,
                              uint64_t size) {
  bool past_size = false;
  size_t next = 0;  // the first of `events` not yet met in the log
  absl::Status rest =
      ledger.ForEachEntry(1, [&](const v1::LedgerEntry& entry) -> absl::Status {
        if (entry.position() > size) {
          past_size = true;
          return absl::CancelledError("past the exported size");
        }
        if (entry.case_id() != case_id) return absl::OkStatus();
        if (next < events.size() && events[next].position == entry.position()) {
          ++next;
          return absl::OkStatus();
        }
        const auto given = std::find_if(
            events.begin(), events.end(), [&](const RecordedEvent& e) {
              return e.case_version == entry.case_version();
            });
        return absl::DataLossError(absl::StrCat(
            "case ", case_id, ": position ", entry.position(),
            " holds version ", entry.case_version(), " of the case, which ",
            given == events.end()
                ? "the case index does not give"
                : absl::StrCat("the case index gives at position ",
                               given->position, ": the log holds it twice"),
            "; the store was altered (run verify)"));
      });
  return past_size ? absl::OkStatus() : rest;
}

// "case C at tree size N has E events: ", which a refusal for the
// bundle's size begins with.
std::string CaseAtSize(const std::string& case_id, uint64_t size,
                       size_t events) {
  return absl::StrCat("case ", Printable(case_id), " at tree size ", size,
                      " has ", events, " events: ");
}

// The files every bundle gets once its events and messages are read.
constexpr const char* kFilesAfterTheEvents[] = {
    internal::kStateFile,     internal::kDeadlinesFile,
    internal::kFindingsFile,  internal::kEventsJsonFile,
    internal::kPolicyFile,    internal::kReportHtmlFile,
    internal::kReportPdfFile, internal::kReadmeFile,
    internal::kManifestFile,  internal::kManifestSigFile};

// The refusal of a case whose bundle would hold `at_least` (its files, and
// its bytes when known).
absl::Status TooLargeForABundle(const std::string& case_id, uint64_t size,
                                uint64_t events, const std::string& at_least) {
  return absl::InvalidArgumentError(absl::StrCat(
      CaseAtSize(case_id, size, events), "its bundle would hold at least ",
      at_least, ", and a bundle holds at most ", internal::kMaxMembers,
      " files (three per event, one per stored message) and ",
      internal::kMaxArchiveBytes,
      " bytes (docs/bundle-format.md §2); nothing was recorded"));
}

// How many files the bundle will hold: those in `files` so far, and those
// every bundle gets once its events and messages are read.
size_t FilesWithThoseToCome(const std::map<std::string, std::string>& files) {
  size_t members = files.size();
  for (const char* path : kFilesAfterTheEvents) {
    if (files.count(path) == 0) ++members;
  }
  return members;
}

// Refuses a case with more events than a bundle has room for, three files
// each, before they are read and proven: that took 14 s and 870 MB for a
// case of 225,004 events, to refuse it then.
absl::Status CheckEventsFitInABundle(
    const std::string& case_id, uint64_t size, uint64_t events,
    const std::map<std::string, std::string>& files) {
  const uint64_t members = 3 * events + FilesWithThoseToCome(files);
  if (members <= internal::kMaxMembers) return absl::OkStatus();
  return TooLargeForABundle(case_id, size, events,
                            absl::StrCat(members, " files"));
}

// Refuses a case whose bundle would pass the archive's limits as soon as
// its events and messages are read, before the projections and the report
// (a minute and 2 GiB for a case of 20,000 events) are built for nothing
// (found by an audit). It counts the files to come and their headers, so
// that only a bundle whose report and projections take it past the bytes
// is refused once built, by WriteZip's exact check (it counted the files
// read alone, and let cases of 21,842 to 21,844 events through; found by an
// adversarial test).
absl::Status CheckFitsInABundle(
    const std::string& case_id, uint64_t size, size_t events,
    const std::map<std::string, std::string>& files) {
  const size_t members = FilesWithThoseToCome(files);
  uint64_t bytes = internal::kZipEndBytes;
  for (const auto& [path, data] : files) {
    bytes += internal::ZipMemberBytes(path, data.size());
  }
  for (const char* path : kFilesAfterTheEvents) {
    if (files.count(path) == 0) bytes += internal::ZipMemberBytes(path, 0);
  }
  if (members <= internal::kMaxMembers && bytes <= internal::kMaxArchiveBytes) {
    return absl::OkStatus();
  }
  return TooLargeForABundle(
      case_id, size, events,
      absl::StrCat(members, " files and ", bytes, " bytes"));
}

}  // namespace

absl::StatusOr<v1::BundlePurpose::Value> ParsePurpose(std::string_view text) {
  const std::string t(text);
  if (t == "reconsideration" || t == "RECONSIDERATION") {
    return v1::BundlePurpose::RECONSIDERATION;
  }
  if (t == "judicial-review" || t == "JUDICIAL_REVIEW") {
    return v1::BundlePurpose::JUDICIAL_REVIEW;
  }
  if (t == "investigation" || t == "INVESTIGATION") {
    return v1::BundlePurpose::INVESTIGATION;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "--purpose: '", t,
      "' is not reconsideration, judicial-review or investigation (or "
      "RECONSIDERATION, JUDICIAL_REVIEW, INVESTIGATION)"));
}

absl::StatusOr<ExportResult> BuildBundle(Ledger& ledger,
                                         const ExportRequest& request) {
  if (request.case_id.empty()) {
    return absl::InvalidArgumentError("--case: a case id is required");
  }
  if (request.purpose != v1::BundlePurpose::RECONSIDERATION &&
      request.purpose != v1::BundlePurpose::JUDICIAL_REVIEW &&
      request.purpose != v1::BundlePurpose::INVESTIGATION) {
    return absl::InvalidArgumentError(
        "--purpose: reconsideration, judicial-review or investigation is "
        "required");
  }

  // The signed checkpoint of the exported size, checked against our own key
  // and our own tree before anything is built on it.
  CASELEDGER_ASSIGN_OR_RETURN(std::string note,
                              ExportCheckpoint(ledger, request.tree_size));
  CASELEDGER_ASSIGN_OR_RETURN(std::string key_text, ledger.VerifierKeyText());
  CASELEDGER_ASSIGN_OR_RETURN(VerifierKey key, ParseVerifierKey(key_text));
  CASELEDGER_ASSIGN_OR_RETURN(Checkpoint checkpoint,
                              VerifyCheckpoint(note, key));
  const uint64_t size = checkpoint.tree_size;
  if (size == 0) {
    return absl::NotFoundError(absl::StrCat("case ", Printable(request.case_id),
                                            " has no events: the ledger "
                                            "is empty"));
  }
  CASELEDGER_ASSIGN_OR_RETURN(merkle::Hash root, ledger.RootAt(size));
  if (root != checkpoint.root_hash) {
    return absl::DataLossError(
        absl::StrCat("tree size ", size, ": stored tree root ", DigestHex(root),
                     " differs from the signed checkpoint's ",
                     DigestHex(checkpoint.root_hash)));
  }

  std::map<std::string, std::string> files;
  Manifest manifest;
  manifest.format_version = kBundleFormatVersion;
  manifest.case_id = request.case_id;
  manifest.purpose = request.purpose;
  manifest.origin = checkpoint.origin;
  manifest.tree_size = size;
  manifest.root_hash = DigestHex(checkpoint.root_hash);
  manifest.include_after_decision = request.include_after_decision;
  manifest.tool_version = absl::StrCat("caseledger ", CASELEDGER_VERSION);
  files[internal::kCheckpointFile] = note;

  if (request.since_checkpoint) {
    auto since = VerifyCheckpoint(*request.since_checkpoint, key);
    if (!since.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--since-checkpoint: not a checkpoint signed by this "
                       "ledger's key: ",
                       since.status().message()));
    }
    // A key may sign for several ledgers; a bundle naming two origins
    // never verifies (found by an outside reading).
    if (since->origin != checkpoint.origin) {
      return absl::InvalidArgumentError(
          absl::StrCat("--since-checkpoint: a checkpoint of ", since->origin,
                       ", not of this ledger (", checkpoint.origin, ")"));
    }
    if (since->tree_size > size) {
      return absl::InvalidArgumentError(
          absl::StrCat("--since-checkpoint: its tree size ", since->tree_size,
                       " is larger than the exported size ", size));
    }
    std::vector<merkle::Hash> proof;
    if (since->tree_size > 0) {
      CASELEDGER_ASSIGN_OR_RETURN(merkle::Hash old_root,
                                  ledger.RootAt(since->tree_size));
      if (old_root != since->root_hash) {
        return absl::DataLossError(absl::StrCat(
            "--since-checkpoint: its root at tree size ", since->tree_size,
            " differs from the ledger's stored tree (", DigestHex(old_root),
            ")"));
      }
      CASELEDGER_ASSIGN_OR_RETURN(
          proof, ledger.ConsistencyProof(since->tree_size, size));
    }
    manifest.since_tree_size = since->tree_size;
    files[internal::kSinceCheckpointFile] = *request.since_checkpoint;
    files[internal::kConsistencyFile] =
        merkle::ConsistencyProofJson(since->tree_size, size, proof);
  }

  // The case's events up to the exported size, with their exact bytes, and
  // no more (an export at an earlier size of a case of 225,004 events read
  // them all, 410 MB for a bundle of 4).
  CASELEDGER_ASSIGN_OR_RETURN(const uint64_t count,
                              ledger.CaseVersionAt(request.case_id, size));
  auto none_at_size = [&] {
    return absl::NotFoundError(absl::StrCat("case ", Printable(request.case_id),
                                            " has no events at tree size ",
                                            size));
  };
  if (count == 0) return none_at_size();
  CASELEDGER_RETURN_IF_ERROR(
      CheckEventsFitInABundle(request.case_id, size, count, files));
  CASELEDGER_ASSIGN_OR_RETURN(std::vector<RecordedEvent> events,
                              ledger.ReadCase(request.case_id, 1, count));
  // An index that files a later event among these is found just below.
  std::erase_if(events,
                [&](const RecordedEvent& e) { return e.position > size; });
  if (events.empty()) return none_at_size();
  CASELEDGER_RETURN_IF_ERROR(
      CheckCaseIsWhole(ledger, request.case_id, events, size));
  // Projections are evaluated as the ledger stood at the exported size:
  // at the recorded_at of its last entry, never the wall clock.
  CASELEDGER_ASSIGN_OR_RETURN(std::vector<RecordedEvent> last,
                              ledger.ReadAll(size, 1));
  if (last.empty() || last[0].position != size) {
    return absl::DataLossError(
        absl::StrCat("tree size ", size, ": entry ", size, " cannot be read"));
  }
  const absl::Time stood_at = last[0].recorded_at;
  projections::Evaluation evaluation;
  evaluation.as_of = request.as_of.value_or(stood_at);
  evaluation.known_at = request.known_at.value_or(stood_at);
  evaluation.now = evaluation.known_at;
  manifest.as_of = evaluation.as_of;
  manifest.known_at = evaluation.known_at;
  // A bundle signs what `state` would print; before the case was opened,
  // `state` refuses rather than describe a case that did not exist.
  for (const RecordedEvent& e : events) {
    if (!e.event.has_case_opened()) continue;
    CASELEDGER_RETURN_IF_ERROR(projections::CheckOpenAt(
        evaluation, request.case_id, FromTimestamp(e.event.occurred_at()),
        e.recorded_at));
  }

  auto still_wanted = [&] {
    return request.still_wanted ? request.still_wanted() : absl::OkStatus();
  };
  // Each stored message is held once, in `files`; the report reads it
  // there. Messages past the archive's bytes are refused as soon as they
  // are (five of 230 MB were all read first: 5.5 s and 1.8 GB).
  std::set<std::string> stored;
  uint64_t message_bytes = 0;
  for (const RecordedEvent& e : events) {
    // Proving each event is most of an export but for the report's layout
    // (seconds for 20,000 events): a call cancelled meanwhile went on to
    // its end (found by an adversarial test).
    if (manifest.positions.size() % 64 == 0) {
      CASELEDGER_RETURN_IF_ERROR(still_wanted());
    }
    manifest.positions.push_back(e.position);
    files[internal::EntryPath(e.position)] = e.entry_bytes;
    files[internal::EventPath(e.position)] =
        absl::StrCat(e.salt, e.event_bytes);
    CASELEDGER_ASSIGN_OR_RETURN(std::vector<merkle::Hash> proof,
                                ledger.InclusionProof(e.position, size));
    CASELEDGER_RETURN_IF_ERROR(
        CheckProven(e, size, proof, checkpoint.root_hash));
    files[internal::ProofPath(e.position)] =
        merkle::InclusionProofJson(e.position - 1, size, proof);
    for (const std::string& sha : internal::MessageReferences(e.event)) {
      if (stored.count(sha)) continue;
      absl::StatusOr<std::string> blob = ledger.ReadMessage(sha);
      if (absl::IsNotFound(blob.status())) continue;
      if (!blob.ok()) return blob.status();
      message_bytes += blob->size();
      files[internal::MessagePath(sha)] = *std::move(blob);
      stored.insert(sha);
      if (message_bytes > internal::kMaxArchiveBytes) {
        return CheckFitsInABundle(request.case_id, size, count, files);
      }
    }
  }
  std::map<std::string, std::string_view> stored_bytes;
  for (const std::string& sha : stored) {
    manifest.messages.push_back(sha);
    stored_bytes[sha] = files[internal::MessagePath(sha)];
  }
  CASELEDGER_RETURN_IF_ERROR(
      CheckFitsInABundle(request.case_id, size, events.size(), files));
  auto progress = [&](const std::string& step) {
    if (request.progress && events.size() >= kProgressEvents) {
      request.progress(step);
    }
  };
  progress(absl::StrCat(events.size(), " events and ", stored.size(),
                        " stored messages read, each event proven included in "
                        "tree size ",
                        size, "; evaluating the projections"));
  CASELEDGER_RETURN_IF_ERROR(still_wanted());

  CASELEDGER_ASSIGN_OR_RETURN(
      internal::Derived derived,
      internal::Derive(events, request.case_id, size, evaluation,
                       request.policy, stored));
  files[internal::kStateFile] = derived.state_json;
  files[internal::kDeadlinesFile] = derived.deadlines_json;
  files[internal::kFindingsFile] = derived.findings_json;
  files[internal::kEventsJsonFile] = derived.events_json;
  files[internal::kPolicyFile] = derived.policy_json;

  internal::ReportInput report;
  report.case_id = request.case_id;
  report.purpose = request.purpose;
  report.origin = checkpoint.origin;
  report.tree_size = size;
  report.root_hash_hex = manifest.root_hash;
  report.checkpoint_note = note;
  report.since_tree_size = manifest.since_tree_size;
  report.include_after_decision = request.include_after_decision;
  report.tool_version = manifest.tool_version;
  report.model = &derived.model;
  report.evaluation = evaluation;
  report.policy = request.policy;
  report.state = derived.state;
  report.deadlines = derived.deadlines;
  report.findings = derived.findings;
  report.messages = std::move(stored_bytes);
  progress("state, deadlines and findings evaluated; laying out the report");
  CASELEDGER_RETURN_IF_ERROR(still_wanted());
  internal::Document doc = internal::BuildReport(report);
  files[internal::kReportHtmlFile] = internal::RenderHtml(doc);
  // The layout is about nine tenths of a large export (half a minute for
  // 20,000 events), and went by without a word (found by an adversarial
  // test): while it runs, the time so far is told now and then.
  const absl::Time laying_out = absl::Now();
  absl::Time next_told = laying_out + request.progress_every;
  auto still_wanted_and_told = [&]() -> absl::Status {
    if (const absl::Time now = absl::Now(); now >= next_told) {
      progress(absl::StrCat(
          "laying out the report: ", absl::ToInt64Seconds(now - laying_out),
          " s so far"));
      next_told = now + request.progress_every;
    }
    return still_wanted();
  };
  CASELEDGER_ASSIGN_OR_RETURN(
      files[internal::kReportPdfFile],
      internal::RenderPdf(doc, request.font_dir, still_wanted_and_told));
  progress(absl::StrCat("report laid out (PDF ",
                        files[internal::kReportPdfFile].size(),
                        " bytes); signing and writing the bundle"));
  files[internal::kReadmeFile] = internal::ReadmeText(manifest);

  for (const auto& [path, bytes] : files) {
    manifest.files.push_back(
        ManifestFile{path, ToHex(Sha256(bytes)), bytes.size()});
  }
  const std::string manifest_json = internal::ManifestJson(manifest);
  CASELEDGER_ASSIGN_OR_RETURN(
      std::string signature,
      ledger.SignNote(internal::ManifestStatement(manifest_json)));
  files[internal::kManifestFile] = manifest_json;
  files[internal::kManifestSigFile] = std::move(signature);

  const size_t members = files.size();
  absl::StatusOr<std::string> zip = internal::WriteZip(std::move(files));
  if (!zip.ok()) {
    return absl::Status(
        zip.status().code(),
        absl::StrCat(CaseAtSize(request.case_id, size, events.size()),
                     zip.status().message(),
                     " (docs/bundle-format.md §2); nothing was recorded"));
  }
  ExportResult result;
  result.sha256_hex = ToHex(Sha256(*zip));
  result.bytes = std::move(*zip);
  result.case_id = request.case_id;
  result.purpose = request.purpose;
  result.tree_size = size;
  result.events = events.size();
  result.members = members;
  return result;
}

absl::StatusOr<ExportResult> ExportBundle(
    Ledger& ledger, const ExportRequest& request,
    const std::function<absl::Status(const ExportResult&)>& ready) {
  if (request.requested_by.empty()) {
    return absl::InvalidArgumentError(
        "--requested-by: who asked for the bundle is required");
  }
  // It is recorded in the case and quoted in reports and timelines: a line
  // break there would read as a line of its own.
  if (!IsOneLineOfText(request.requested_by)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--requested-by: '", Printable(request.requested_by),
        "' holds a line break, another control character or bytes that are "
        "not UTF-8; give who asked on one line of text"));
  }
  // Only a judicial review's record leaves out what came after the decision;
  // a manifest of another purpose saying it includes it would claim a choice
  // that changed nothing.
  if (request.include_after_decision &&
      request.purpose != v1::BundlePurpose::JUDICIAL_REVIEW) {
    return absl::InvalidArgumentError(
        "--include-after-decision: only a judicial-review bundle leaves out "
        "records dated after the decision; a bundle for another purpose holds "
        "them all already");
  }
  if (request.now == absl::InfinitePast() ||
      request.now == absl::InfiniteFuture()) {
    return absl::InvalidArgumentError(
        "the export's time (ExportRequest::now) is required");
  }
  CASELEDGER_ASSIGN_OR_RETURN(ExportResult result,
                              BuildBundle(ledger, request));
  if (ready) CASELEDGER_RETURN_IF_ERROR(ready(result));
  v1::Event audit;
  audit.set_case_id(request.case_id);
  const int64_t seconds = absl::ToUnixSeconds(request.now);  // floors
  audit.mutable_occurred_at()->set_seconds(seconds);
  audit.mutable_occurred_at()->set_nanos(static_cast<int32_t>(
      absl::ToInt64Nanoseconds(request.now - absl::FromUnixSeconds(seconds))));
  if (request.actor.kind() != v1::ActorKind::ACTOR_KIND_UNSPECIFIED &&
      !request.actor.id().empty()) {
    *audit.mutable_actor() = request.actor;
  } else {
    audit.mutable_actor()->set_kind(v1::ActorKind::SYSTEM);
    audit.mutable_actor()->set_id("caseledger-export");
  }
  audit.set_source(request.source);
  auto* p = audit.mutable_evidence_bundle_exported();
  p->set_purpose(request.purpose);
  p->set_bundle_sha256(result.sha256_hex);
  p->set_tree_size(result.tree_size);
  p->set_requested_by(request.requested_by);
  CASELEDGER_ASSIGN_OR_RETURN(AppendResult appended,
                              ledger.Append({std::move(audit)}));
  if (appended.events.size() == 1) {
    result.audit_position = appended.events[0].position;
  }
  return result;
}

}  // namespace caseledger::bundle
