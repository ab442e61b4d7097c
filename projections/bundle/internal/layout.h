// The files of a bundle and their formats (docs/bundle-format.md §3-§5),
// shared by the writer (bundle.cc) and the verifier (verify.cc) so that the
// two can never disagree on a name or a byte.
//
// Thread safety: pure functions, thread-safe.
#ifndef CASELEDGER_PROJECTIONS_BUNDLE_INTERNAL_LAYOUT_H_
#define CASELEDGER_PROJECTIONS_BUNDLE_INTERNAL_LAYOUT_H_

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "caseledger/v1/events.pb.h"
#include "ledger/merkle.h"
#include "ledger/recorded_event.h"
#include "projections/case_model.h"
#include "projections/case_state.h"
#include "projections/deadlines.h"
#include "projections/evaluation.h"
#include "projections/findings.h"
#include "projections/policy.h"

namespace caseledger::bundle::internal {

// File names, docs/bundle-format.md §3.
inline constexpr char kManifestFile[] = "manifest.json";
inline constexpr char kManifestSigFile[] = "manifest.sig";
inline constexpr char kReadmeFile[] = "README.txt";
inline constexpr char kCheckpointFile[] = "checkpoint.txt";
inline constexpr char kSinceCheckpointFile[] = "since-checkpoint.txt";
inline constexpr char kConsistencyFile[] = "consistency.json";
inline constexpr char kEventsJsonFile[] = "events.json";
inline constexpr char kPolicyFile[] = "policy.json";
inline constexpr char kStateFile[] = "state.json";
inline constexpr char kDeadlinesFile[] = "deadlines.json";
inline constexpr char kFindingsFile[] = "findings.json";
inline constexpr char kReportHtmlFile[] = "report.html";
inline constexpr char kReportPdfFile[] = "report.pdf";
inline constexpr size_t kSaltBytes = 16;

std::string EntryPath(uint64_t position);              // events/<p>.entry
std::string EventPath(uint64_t position);              // events/<p>.event
std::string ProofPath(uint64_t position);              // proofs/<p>.json
std::string MessagePath(std::string_view sha256_hex);  // messages/<h>.eml

struct ManifestFile {
  std::string path;
  std::string sha256;  // lowercase hex
  uint64_t size = 0;
};

// manifest.json, docs/bundle-format.md §4.
struct Manifest {
  int format_version = 0;
  std::string case_id;
  v1::BundlePurpose::Value purpose =
      v1::BundlePurpose::BUNDLE_PURPOSE_UNSPECIFIED;
  std::string origin;
  uint64_t tree_size = 0;
  std::string root_hash;  // lowercase hex
  absl::Time as_of;
  absl::Time known_at;
  std::optional<uint64_t> since_tree_size;
  bool include_after_decision = false;
  std::string tool_version;
  // The case's events in the bundle, ascending.
  std::vector<uint64_t> positions;
  // SHA-256 (lowercase hex) of each message in messages/, ascending.
  std::vector<std::string> messages;
  // Every file but manifest.json and manifest.sig, ascending by path.
  std::vector<ManifestFile> files;
};

std::string ManifestJson(const Manifest& manifest);
// Strict: every key present with its type, no other key, canonical numbers
// and times. kInvalidArgument naming the key otherwise.
absl::StatusOr<Manifest> ParseManifest(std::string_view json);

// The statement signed into manifest.sig:
// "caseledger-bundle/v1\n<sha256 hex of manifest.json>\n".
std::string ManifestStatement(std::string_view manifest_json);

// A proof as merkle::InclusionProofJson or ConsistencyProofJson writes it
// (ledger/proof_json.h).
struct ParsedProof {
  uint64_t first = 0;   // leaf_index or old_size
  uint64_t second = 0;  // tree_size or new_size
  std::vector<merkle::Hash> hashes;
};
// Parses either proof JSON; `first_key`/`second_key` name its two numbers.
absl::StatusOr<ParsedProof> ParseProofJson(std::string_view json,
                                           std::string_view first_key,
                                           std::string_view second_key);

// The README of a bundle.
std::string ReadmeText(const Manifest& manifest);

// What the bundle says the events mean, computed by one function for the
// writer and the verifier alike.
struct Derived {
  projections::CaseModel model;
  projections::CaseState state;
  std::vector<projections::DeadlineStatus> deadlines;
  projections::Findings findings;
  std::string state_json;
  std::string deadlines_json;
  std::string findings_json;
  std::string events_json;
  std::string policy_json;
};
// Folds `events` (the case's, in case_version order) and evaluates them with
// `evaluation` and `policy`; a message counts as stored when its SHA-256 is
// in `stored_messages`. Errors as FoldCase().
absl::StatusOr<Derived> Derive(absl::Span<const RecordedEvent> events,
                               const std::string& case_id, uint64_t tree_size,
                               const projections::Evaluation& evaluation,
                               const projections::DeadlinePolicy& policy,
                               const std::set<std::string>& stored_messages);

// Checks that `json` (events.json) says what `events` are: same positions,
// versions, times, types, and each "event" decodes to the same Event.
// kInvalidArgument saying what differed.
absl::Status CheckEventsJson(std::string_view json,
                             absl::Span<const RecordedEvent> events,
                             const std::string& case_id, uint64_t tree_size);

// A purpose's manifest spelling: "JUDICIAL_REVIEW", ...
std::string PurposeName(v1::BundlePurpose::Value purpose);

}  // namespace caseledger::bundle::internal

#endif  // CASELEDGER_PROJECTIONS_BUNDLE_INTERNAL_LAYOUT_H_
