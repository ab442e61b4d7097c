// The offline check of an evidence bundle (docs/bundle-format.md §8): needs
// nothing but the bundle's bytes and the ledger's verifier key text. No
// Ledger, no network, no clock.
//
// Every check is run that can be run, and each gets a verdict, so that a
// failed bundle says everything that is wrong with it, naming the file and
// what differed. A corrupt, truncated or hostile archive is a failed check,
// never an error or a crash: the verifier reads untrusted input and is
// fuzzed.
//
// Thread safety: pure functions, thread-safe.
#ifndef CASELEDGER_PROJECTIONS_BUNDLE_VERIFY_H_
#define CASELEDGER_PROJECTIONS_BUNDLE_VERIFY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "ledger/checkpoint.h"

namespace caseledger::bundle {

// The largest bundle the verifier reads (docs/bundle-format.md §2); larger
// files fail the archive check unread.
inline constexpr uint64_t kMaxBundleBytes = uint64_t{1} << 30;

struct BundleCheck {
  enum class Status { kOk, kFail, kSkipped };
  // One of: archive, manifest, signature, files, checkpoint, events, proofs,
  // consistency, messages, policy, events.json, state, deadlines, findings,
  // and kept-checkpoint when a kept checkpoint is given.
  std::string name;
  Status status = Status::kOk;
  // One line: what was checked, or why it was skipped.
  std::string detail;
  // For kFail: each problem, naming the file and what differed.
  std::vector<std::string> problems;
};

struct BundleVerdict {
  std::vector<BundleCheck> checks;
  // From the manifest, when it could be read.
  std::string case_id;
  uint64_t tree_size = 0;

  // True when no check failed and the archive, manifest, signature, files,
  // checkpoint, events and proofs checks all passed.
  bool ok() const;
};

// Checks `bundle` against the ledger key `verifier_key_text` (C2SP verifier
// key, as `caseledger key` prints). kInvalidArgument only when the key text
// is malformed; every problem of the bundle is in the verdict.
absl::StatusOr<BundleVerdict> VerifyBundle(std::string_view bundle,
                                           std::string_view verifier_key_text);
// The same with the key already parsed (so that a bad key is reported
// before the bundle is read). With `kept`, a checkpoint of the ledger the
// reader kept (its signature already checked), a last check,
// "kept-checkpoint", passes when the bundle's checkpoint is that one, or
// the bundle proves its tree extends it (exported with --since-checkpoint
// of it): a bundle older than it, or of another tree of its size, fails.
BundleVerdict VerifyBundle(std::string_view bundle,
                           const VerifierKey& verifier_key,
                           const Checkpoint* kept = nullptr);

// A verdict for a bundle that could not even be read (e.g. the file is
// missing): a failed "archive" check with `problem`, every other check
// skipped ("kept-checkpoint" too when `kept_given`).
BundleVerdict UnreadableBundle(std::string problem, bool kept_given = false);

// Adds the "kept-checkpoint" check, failed with `problem`, to a verdict
// reached without one: the checkpoint the reader kept is not one the key
// signed, so the bundle cannot be held to it. A failed check, not bad
// usage: it is another ledger's, or was altered, or the key given is not
// the one the reader kept it from.
void FailKeptCheckpoint(BundleVerdict& verdict, std::string problem);

// The verdict on a file refused by its last bytes, `tail` (at least its
// last 22 of `size`, or all of it), before the rest is read: a large file
// that is no bundle was read whole first (1 GB of zeros held 1.08 GB and
// took 4.6 s to refuse; an adversarial reading). nullopt when they may end
// a bundle.
std::optional<BundleVerdict> RefusedByItsEnd(std::string_view tail,
                                             uint64_t size,
                                             bool kept_given = false);

// Checks an input's first kBundleStartBytes (all of it, when shorter)
// before the rest is read: kInvalidArgument, in the words of the archive
// check's problem, when they cannot begin a bundle. Standard input or a
// pipe that is no bundle was read up to 1 GiB first.
inline constexpr size_t kBundleStartBytes = 22;
absl::Status CheckBundleStart(std::string_view head);

// "OK   name  detail" lines (problems indented under a FAIL), then
// "VERDICT: OK <file>" or "VERDICT: FAIL <file> (n checks failed)".
std::string RenderVerdictText(const BundleVerdict& verdict,
                              std::string_view file);
// {"file", "ok", "case_id", "tree_size",
//  "checks": [{"check", "status", "detail", "problems": [...]}]}
std::string RenderVerdictJson(const BundleVerdict& verdict,
                              std::string_view file);

}  // namespace caseledger::bundle

#endif  // CASELEDGER_PROJECTIONS_BUNDLE_VERIFY_H_
