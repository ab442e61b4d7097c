#include "tools/server/wire.h"

#include "absl/strings/str_cat.h"

namespace caseledger::server {

v1::StoredEvent ToStoredEvent(const RecordedEvent& e) {
  v1::StoredEvent out;
  out.set_position(e.position);
  out.set_case_version(e.case_version);
  *out.mutable_recorded_at() = ToTimestamp(e.recorded_at);
  *out.mutable_event() = e.event;
  out.set_event_bytes(e.event_bytes);
  out.set_salt(e.salt);
  out.set_entry_bytes(e.entry_bytes);
  return out;
}

absl::StatusOr<RecordedEvent> FromStoredEvent(const v1::StoredEvent& s) {
  RecordedEvent e;
  e.position = s.position();
  e.case_version = s.case_version();
  e.recorded_at = FromTimestamp(s.recorded_at());
  if (!e.event.ParseFromString(s.event_bytes())) {
    return absl::DataLossError(absl::StrCat(
        "position ", s.position(), ": the stored event bytes do not parse"));
  }
  e.event_bytes = s.event_bytes();
  e.salt = s.salt();
  e.entry_bytes = s.entry_bytes();
  return e;
}

v1::ExpectedVersion ToWire(const ExpectedVersion& expected) {
  v1::ExpectedVersion out;
  switch (expected.kind) {
    case ExpectedVersion::Kind::kAny:
      out.set_kind(v1::ExpectedVersion::ANY);
      break;
    case ExpectedVersion::Kind::kNoStream:
      out.set_kind(v1::ExpectedVersion::NO_STREAM);
      break;
    case ExpectedVersion::Kind::kStreamExists:
      out.set_kind(v1::ExpectedVersion::STREAM_EXISTS);
      break;
    case ExpectedVersion::Kind::kExact:
      out.set_kind(v1::ExpectedVersion::EXACT);
      out.set_version(expected.version);
      break;
  }
  return out;
}

absl::StatusOr<ExpectedVersion> FromWire(const v1::ExpectedVersion& expected) {
  switch (expected.kind()) {
    case v1::ExpectedVersion::ANY:
      return ExpectedVersion::Any();
    case v1::ExpectedVersion::NO_STREAM:
      return ExpectedVersion::NoStream();
    case v1::ExpectedVersion::STREAM_EXISTS:
      return ExpectedVersion::StreamExists();
    case v1::ExpectedVersion::EXACT:
      return ExpectedVersion::Exactly(expected.version());
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("expected_version.kind: unknown value ",
                       static_cast<int>(expected.kind())));
  }
}

v1::BackupResponse ToWire(const Ledger::BackupSummary& info,
                          const std::string& path) {
  v1::BackupResponse out;
  out.set_path(path);
  out.set_origin(info.origin);
  out.set_tree_size(info.tree_size);
  out.set_root(DigestBytes(info.root));
  out.set_checkpoint_size(info.checkpoint_size);
  return out;
}

absl::StatusOr<Ledger::BackupSummary> FromWire(
    const v1::BackupResponse& backup) {
  std::optional<merkle::Hash> root = DigestFromBytes(backup.root());
  if (!root) {
    return absl::InternalError(absl::StrCat("the server sent a root ",
                                            backup.root().size(),
                                            " bytes long, not 32"));
  }
  Ledger::BackupSummary info;
  info.origin = backup.origin();
  info.tree_size = backup.tree_size();
  info.root = *root;
  info.checkpoint_size = backup.checkpoint_size();
  return info;
}

v1::BundleSummary ToWire(const bundle::ExportResult& exported) {
  v1::BundleSummary out;
  out.set_case_id(exported.case_id);
  out.set_purpose(exported.purpose);
  out.set_tree_size(exported.tree_size);
  out.set_events(exported.events);
  out.set_members(exported.members);
  out.set_bytes(exported.bytes.size());
  out.set_sha256(exported.sha256_hex);
  out.set_audit_position(exported.audit_position);
  return out;
}

}  // namespace caseledger::server
