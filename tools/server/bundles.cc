#include "tools/server/bundles.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "projections/bundle/bundle.h"
#include "projections/policy.h"
#include "tools/server/wire.h"

namespace caseledger::server {
namespace {

// Chunks well under the 8 MiB message limit.
constexpr size_t kChunkBytes = 1 << 20;

class LedgerBundleExporter final : public BundleExporter {
 public:
  explicit LedgerBundleExporter(Clock* clock) : clock_(clock) {}

  absl::StatusOr<v1::BundleSummary> Export(
      Ledger& ledger, const v1::ExportBundleRequest& r,
      const std::string& requested_by,
      const std::function<absl::Status()>& wanted,
      const std::function<bool(std::string_view)>& sink,
      const std::function<void(std::string_view step)>& progress) override {
    bundle::ExportRequest request;
    request.case_id = r.case_id();
    request.purpose = r.purpose();
    request.tree_size = r.tree_size();
    if (r.has_as_of()) request.as_of = FromTimestamp(r.as_of());
    if (r.has_known_at()) request.known_at = FromTimestamp(r.known_at());
    if (!r.policy_json().empty()) {
      auto policy = projections::ParseGivenPolicy(r.policy_json());
      if (!policy.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("policy_json: ", policy.status().message()));
      }
      request.policy = *policy;
    }
    if (!r.since_checkpoint().empty()) {
      request.since_checkpoint = r.since_checkpoint();
    }
    request.include_after_decision = r.include_after_decision();
    request.requested_by = requested_by;
    request.now = clock_->Now();
    request.actor.set_kind(v1::ActorKind::SERVICE);
    request.actor.set_id(requested_by);
    request.source = "caseledger serve";
    request.still_wanted = wanted;
    request.progress = progress;
    auto result = bundle::ExportBundle(
        ledger, request, [&](const bundle::ExportResult&) { return wanted(); });
    if (!result.ok()) return result.status();
    std::string_view bytes = result->bytes;
    for (size_t at = 0; at < bytes.size(); at += kChunkBytes) {
      if (!sink(bytes.substr(at, std::min(kChunkBytes, bytes.size() - at)))) {
        return absl::CancelledError("the client left during the export");
      }
    }
    return ToWire(*result);
  }

 private:
  Clock* const clock_;
};

}  // namespace

std::unique_ptr<BundleExporter> NewBundleExporter(Clock* clock) {
  return std::make_unique<LedgerBundleExporter>(clock);
}

}  // namespace caseledger::server
