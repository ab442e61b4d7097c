// Conversions between the ledger's C++ types and the messages of
// proto/caseledger/v1/service.proto, shared by the server and the client.
//
// Thread safety: pure functions.
#ifndef CASELEDGER_TOOLS_SERVER_WIRE_H_
#define CASELEDGER_TOOLS_SERVER_WIRE_H_

#include "absl/status/statusor.h"
#include "caseledger/v1/service.pb.h"
#include "google/protobuf/timestamp.pb.h"
#include "ledger/ledger.h"
#include "ledger/recorded_event.h"
#include "ledger/timestamp.h"
#include "projections/bundle/bundle.h"

namespace caseledger::server {

v1::StoredEvent ToStoredEvent(const RecordedEvent& event);
// The event as the ledger holds it; `event` is parsed from the exact stored
// bytes (kDataLoss when they do not parse).
absl::StatusOr<RecordedEvent> FromStoredEvent(const v1::StoredEvent& stored);

v1::ExpectedVersion ToWire(const ExpectedVersion& expected);
absl::StatusOr<ExpectedVersion> FromWire(const v1::ExpectedVersion& expected);

// A backup made at `path` on the server's machine, and back; FromWire
// refuses a root that is not 32 bytes (kInternal: the server's answer is
// broken).
v1::BackupResponse ToWire(const Ledger::BackupSummary& info,
                          const std::string& path);
absl::StatusOr<Ledger::BackupSummary> FromWire(
    const v1::BackupResponse& backup);

v1::BundleSummary ToWire(const bundle::ExportResult& exported);

}  // namespace caseledger::server

#endif  // CASELEDGER_TOOLS_SERVER_WIRE_H_
