// Evidence bundles (domain.md §5, docs/bundle-format.md): one case, for one
// purpose, as one deterministic ZIP that anyone can check offline with only
// the ledger's public key. It holds the exact stored bytes of every event of
// the case up to a checkpointed tree size, an inclusion proof of each against
// that signed checkpoint, the case's state, deadlines and findings as the
// ledger stood at that size, every stored message and notice the events
// refer to, a report for people (report.html, report.pdf), and a manifest of
// every file's SHA-256 signed with the ledger's key.
//
// Determinism: the bundle is a function of the ledger's first `tree_size`
// entries, the stored messages they refer to, the request (purpose, policy,
// evaluation times, options) and the caseledger version. Nothing in it comes
// from the wall clock: projections are evaluated at the recorded_at of entry
// `tree_size`. Exporting again at the same size gives the same bytes.
//
// Thread safety: safe to call concurrently on one Ledger.
#ifndef CASELEDGER_PROJECTIONS_BUNDLE_BUNDLE_H_
#define CASELEDGER_PROJECTIONS_BUNDLE_BUNDLE_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "caseledger/v1/events.pb.h"
#include "ledger/ledger.h"
#include "projections/policy.h"

namespace caseledger::bundle {

// docs/bundle-format.md: the version of the layout this code writes and the
// only one its verifier accepts.
inline constexpr int kBundleFormatVersion = 1;
// The first line of the manifest statement signed into manifest.sig; no
// checkpoint origin can be followed by a 64-hex-digit line alone, so the
// statement can never be taken for a checkpoint.
inline constexpr char kManifestStatementLine[] = "caseledger-bundle/v1";
// Where the PDF report's fonts come from (Debian fonts-dejavu-core).
inline constexpr char kDefaultFontDir[] = "/usr/share/fonts/truetype/dejavu";

// Parses `--purpose`: "reconsideration", "judicial-review", "investigation"
// or the enum names RECONSIDERATION, JUDICIAL_REVIEW, INVESTIGATION.
// kInvalidArgument listing them otherwise.
absl::StatusOr<v1::BundlePurpose::Value> ParsePurpose(std::string_view text);

// Cases of this many events or more report their export's progress.
inline constexpr size_t kProgressEvents = 1000;

struct ExportRequest {
  std::string case_id;
  v1::BundlePurpose::Value purpose =
      v1::BundlePurpose::BUNDLE_PURPOSE_UNSPECIFIED;
  // Export as of this tree size, which must have a stored checkpoint.
  // 0: sign a checkpoint of the current tree and export at its size.
  // Default: 0.
  uint64_t tree_size = 0;
  // A checkpoint signed earlier by this ledger (the signed note's text);
  // the bundle then also proves the exported tree consistent with it.
  // Default: none.
  std::optional<std::string> since_checkpoint;
  // Deadline policy for deadlines and findings; recorded in the bundle.
  // Default: the built-in policy.
  projections::DeadlinePolicy policy = projections::DefaultPolicy();
  // Evaluation times. Default (nullopt): the recorded_at of the last entry
  // of the exported tree size, for both.
  std::optional<absl::Time> as_of;
  std::optional<absl::Time> known_at;
  // For judicial review, also put records dated after the decision in the
  // tribunal record. Default: false.
  bool include_after_decision = false;
  // Fonts of the PDF report. Default: kDefaultFontDir.
  std::string font_dir = kDefaultFontDir;
  // Told each step of an export of kProgressEvents events or more, which
  // takes a while (a case of 20,000 events about a minute, mostly laying
  // out the PDF): a sentence such as "1000 events read, each proven ...".
  // May be null.
  std::function<void(std::string_view step)> progress;
  // While the report is laid out, `progress` is also told, this often,
  // how long it has taken so far ("laying out the report: 10 s so far").
  absl::Duration progress_every = absl::Seconds(10);
  // Asked between the steps of the build and every few pieces (table
  // rows, lines) of the report's layout: an error from it (the caller went
  // away, a server stopping) ends the build with that error, and nothing
  // is recorded. May be null.
  std::function<absl::Status()> still_wanted;

  // ---- The export's own audit event (ExportBundle only) ----
  // Who asked for the bundle (evidence_bundle_exported.requested_by).
  // Required by ExportBundle.
  std::string requested_by;
  // occurred_at of the audit event: the caller's clock, read once by the
  // caller (the bundle's bytes never depend on the wall clock, which the
  // export reads only to time its progress). Required by ExportBundle.
  absl::Time now = absl::InfinitePast();
  // Envelope of the audit event. Default: SYSTEM "caseledger-export",
  // source "caseledger export".
  v1::Actor actor;
  std::string source = "caseledger export";
};

struct ExportResult {
  // The ZIP archive.
  std::string bytes;
  // SHA-256 of `bytes`, lowercase hex (evidence_bundle_exported.bundle_sha256).
  std::string sha256_hex;
  std::string case_id;
  v1::BundlePurpose::Value purpose =
      v1::BundlePurpose::BUNDLE_PURPOSE_UNSPECIFIED;
  // The exported tree size and the number of the case's events in it.
  uint64_t tree_size = 0;
  uint64_t events = 0;
  // Files in the archive.
  uint64_t members = 0;
  // Position of the evidence_bundle_exported event; 0 from BuildBundle.
  uint64_t audit_position = 0;
};

// Builds the bundle of `request` without recording the export. For tests and
// dry runs; tools must use ExportBundle so that every disclosure is on
// record. Needs the ledger open for writing when request.tree_size is 0 (it
// signs a checkpoint). Errors:
//   kInvalidArgument: no case id or purpose; a since_checkpoint that does not
//     verify with the ledger's key or is larger than the exported size;
//   kNotFound: the case has no event at that size; no checkpoint is stored
//     at request.tree_size (the message lists the stored sizes);
//   kDataLoss: the ledger's stored tree disagrees with its checkpoints;
//   kFailedPrecondition: the PDF fonts are missing;
//   any other: the store failed.
absl::StatusOr<ExportResult> BuildBundle(Ledger& ledger,
                                         const ExportRequest& request);

// Builds the bundle, then appends evidence_bundle_exported (purpose, the
// bundle's SHA-256, tree size, requested_by) to the case, and returns the
// bundle. The event is appended before the caller writes or sends the bytes,
// so that a disclosure can never escape the record; a failed append returns
// the error and no bytes. `ready`, when given, is called with the built
// bundle before the append: an error from it is returned and nothing is
// recorded (the command line makes room for the file there, so that a full
// disk fails before the record rather than leave a disclosure on record and
// no bundle). Errors as BuildBundle, plus kInvalidArgument when requested_by
// or now is missing, and Ledger::Append's.
absl::StatusOr<ExportResult> ExportBundle(
    Ledger& ledger, const ExportRequest& request,
    const std::function<absl::Status(const ExportResult&)>& ready = nullptr);

}  // namespace caseledger::bundle

#endif  // CASELEDGER_PROJECTIONS_BUNDLE_BUNDLE_H_
