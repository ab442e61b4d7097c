// The ProjectionRenderer of `caseledger serve`: the same queries the CLI
// verbs run (projections/queries.h), so that client mode prints exactly what
// the local verbs print.
//
// Thread safety: Render() may be called from many threads.
#ifndef CASELEDGER_TOOLS_SERVER_PROJECTIONS_H_
#define CASELEDGER_TOOLS_SERVER_PROJECTIONS_H_

#include <memory>

#include "ledger/clock.h"
#include "tools/server/service.h"

namespace caseledger::server {

// Deadlines are judged at Evaluation::JudgedAt(), with `clock`'s now as the
// current time (so a known_at in the future is judged now). `clock` is not
// owned.
std::unique_ptr<ProjectionRenderer> NewProjectionRenderer(Clock* clock);

}  // namespace caseledger::server

#endif  // CASELEDGER_TOOLS_SERVER_PROJECTIONS_H_
