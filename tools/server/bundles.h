// The BundleExporter of `caseledger serve`: projections/bundle's
// ExportBundle, which appends the evidence_bundle_exported audit event before
// any byte leaves the server, then streams the archive in chunks.
//
// Thread safety: Export() may be called from many threads.
#ifndef CASELEDGER_TOOLS_SERVER_BUNDLES_H_
#define CASELEDGER_TOOLS_SERVER_BUNDLES_H_

#include <memory>

#include "ledger/clock.h"
#include "tools/server/service.h"

namespace caseledger::server {

// The audit event's occurred_at comes from `clock` (not owned).
std::unique_ptr<BundleExporter> NewBundleExporter(Clock* clock);

}  // namespace caseledger::server

#endif  // CASELEDGER_TOOLS_SERVER_BUNDLES_H_
