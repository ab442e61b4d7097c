#include "projections/bundle/internal/layout.h"

#include <algorithm>
#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/message_differencer.h"
#include "ledger/base64.h"
#include "ledger/event_json.h"
#include "ledger/sha256.h"
#include "ledger/status_macros.h"
#include "projections/bundle/bundle.h"
#include "projections/internal/json.h"
#include "projections/render.h"

namespace caseledger::bundle::internal {
namespace {

using projections::internal::AppendJsonString;
using projections::internal::JsonMember;
using projections::internal::JsonValue;
using projections::internal::JsonWriter;
using projections::internal::ParseJson;

constexpr char kFormatName[] = "caseledger-bundle";

absl::Status Invalid(std::string_view what) {
  return absl::InvalidArgumentError(std::string(what));
}

// A JSON number that is a whole number in canonical spelling (no sign,
// fraction, exponent or leading zero) and fits in 64 bits.
absl::StatusOr<uint64_t> U64Of(const JsonValue& v, std::string_view what) {
  uint64_t n = 0;
  const std::string& t = v.text;
  const bool canonical =
      v.kind == JsonValue::Kind::kNumber && !t.empty() &&
      std::all_of(t.begin(), t.end(),
                  [](char c) { return c >= '0' && c <= '9'; }) &&
      (t == "0" || t[0] != '0');
  if (!canonical) {
    return Invalid(absl::StrCat(std::string(what), " is not a whole number"));
  }
  // A whole number past 64 bits is out of range, not "not whole" (an
  // adversarial reading).
  if (!absl::SimpleAtoi(t, &n)) {
    return Invalid(absl::StrCat(std::string(what), " is ",
                                t.size() > 64 ? t.substr(0, 64) + "..." : t,
                                ", beyond 18446744073709551615"));
  }
  return n;
}

// Looks up the members of an object, insisting on exactly `keys`.
class Object {
 public:
  static absl::StatusOr<Object> Of(const JsonValue& v, std::string_view what,
                                   std::initializer_list<const char*> keys) {
    if (v.kind != JsonValue::Kind::kObject) {
      return Invalid(absl::StrCat(std::string(what), ": not a JSON object"));
    }
    Object o;
    for (const JsonMember& m : v.members) {
      if (std::find_if(keys.begin(), keys.end(), [&](const char* k) {
            return m.key == k;
          }) == keys.end()) {
        return Invalid(
            absl::StrCat(std::string(what), ": unknown key \"", m.key, "\""));
      }
      o.members_[m.key] = &m.value;
    }
    for (const char* k : keys) {
      if (!o.members_.count(k)) {
        return Invalid(
            absl::StrCat(std::string(what), ": missing key \"", k, "\""));
      }
    }
    o.what_ = std::string(what);
    return o;
  }

  const JsonValue& operator[](const std::string& key) const {
    return *members_.at(key);
  }

  absl::StatusOr<uint64_t> U64(const std::string& key) const {
    return U64Of((*this)[key], absl::StrCat(what_, ": \"", key, "\""));
  }

  absl::StatusOr<std::string> String(const std::string& key) const {
    const JsonValue& v = (*this)[key];
    if (v.kind != JsonValue::Kind::kString) {
      return Invalid(absl::StrCat(what_, ": \"", key, "\" is not a string"));
    }
    return v.text;
  }

  absl::StatusOr<absl::Time> Time(const std::string& key) const {
    CASELEDGER_ASSIGN_OR_RETURN(std::string text, String(key));
    auto t = projections::ParseEvaluationTime(text, key);
    if (!t.ok() || projections::FormatUtc(*t) != text) {
      return Invalid(absl::StrCat(what_, ": \"", key,
                                  "\" is not an RFC 3339 UTC time as "
                                  "caseledger writes them"));
    }
    return *t;
  }

  absl::StatusOr<const std::vector<JsonValue>*> Array(
      const std::string& key) const {
    const JsonValue& v = (*this)[key];
    if (v.kind != JsonValue::Kind::kArray) {
      return Invalid(absl::StrCat(what_, ": \"", key, "\" is not an array"));
    }
    return &v.elements;
  }

 private:
  std::map<std::string, const JsonValue*> members_;
  std::string what_;
};

// Writes a parsed JSON value back as compact JSON text.
void ToJsonText(const JsonValue& v, std::string* out) {
  switch (v.kind) {
    case JsonValue::Kind::kNull:
      *out += "null";
      break;
    case JsonValue::Kind::kBool:
      *out += v.boolean ? "true" : "false";
      break;
    case JsonValue::Kind::kNumber:
      *out += v.text;
      break;
    case JsonValue::Kind::kString:
      AppendJsonString(v.text, out);
      break;
    case JsonValue::Kind::kArray:
      out->push_back('[');
      for (size_t i = 0; i < v.elements.size(); ++i) {
        if (i) out->push_back(',');
        ToJsonText(v.elements[i], out);
      }
      out->push_back(']');
      break;
    case JsonValue::Kind::kObject:
      out->push_back('{');
      for (size_t i = 0; i < v.members.size(); ++i) {
        if (i) out->push_back(',');
        AppendJsonString(v.members[i].key, out);
        out->push_back(':');
        ToJsonText(v.members[i].value, out);
      }
      out->push_back('}');
      break;
  }
}

}  // namespace

std::string EntryPath(uint64_t p) {
  return absl::StrCat("events/", p, ".entry");
}
std::string EventPath(uint64_t p) {
  return absl::StrCat("events/", p, ".event");
}
std::string ProofPath(uint64_t p) {
  return absl::StrCat("proofs/", p, ".json");
}
std::string MessagePath(std::string_view sha256_hex) {
  return absl::StrCat("messages/", std::string(sha256_hex), ".eml");
}

std::string PurposeName(v1::BundlePurpose::Value purpose) {
  return v1::BundlePurpose::Value_Name(purpose);
}

std::string ManifestJson(const Manifest& m) {
  JsonWriter w;
  w.BeginObject();
  w.Key("format");
  w.String(kFormatName);
  w.Key("format_version");
  w.Int(m.format_version);
  w.Key("case_id");
  w.String(m.case_id);
  w.Key("purpose");
  w.String(PurposeName(m.purpose));
  w.Key("origin");
  w.String(m.origin);
  w.Key("tree_size");
  w.Uint(m.tree_size);
  w.Key("root_hash");
  w.String(m.root_hash);
  w.Key("as_of");
  w.String(projections::FormatUtc(m.as_of));
  w.Key("known_at");
  w.String(projections::FormatUtc(m.known_at));
  w.Key("since_tree_size");
  if (m.since_tree_size) {
    w.Uint(*m.since_tree_size);
  } else {
    w.Null();
  }
  w.Key("include_after_decision");
  w.Bool(m.include_after_decision);
  w.Key("tool_version");
  w.String(m.tool_version);
  w.Key("positions");
  w.BeginInlineArray();
  for (uint64_t p : m.positions) w.Uint(p);
  w.EndArray();
  w.Key("messages");
  w.BeginArray();
  for (const std::string& h : m.messages) w.String(h);
  w.EndArray();
  w.Key("files");
  w.BeginArray();
  for (const ManifestFile& f : m.files) {
    w.BeginObject();
    w.Key("path");
    w.String(f.path);
    w.Key("sha256");
    w.String(f.sha256);
    w.Key("size");
    w.Uint(f.size);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::move(w).Finish();
}

absl::StatusOr<Manifest> ParseManifest(std::string_view json) {
  auto parsed = ParseJson(json);
  if (!parsed.ok()) {
    return Invalid(
        absl::StrCat("manifest.json is not JSON: ", parsed.status().message()));
  }
  CASELEDGER_ASSIGN_OR_RETURN(
      Object o,
      Object::Of(*parsed, "manifest.json",
                 {"format", "format_version", "case_id", "purpose", "origin",
                  "tree_size", "root_hash", "as_of", "known_at",
                  "since_tree_size", "include_after_decision", "tool_version",
                  "positions", "messages", "files"}));
  Manifest m;
  CASELEDGER_ASSIGN_OR_RETURN(std::string format, o.String("format"));
  if (format != kFormatName) {
    return Invalid(absl::StrCat("manifest.json: format is \"", format,
                                "\", not \"", kFormatName, "\""));
  }
  CASELEDGER_ASSIGN_OR_RETURN(uint64_t version, o.U64("format_version"));
  if (version != kBundleFormatVersion) {
    return Invalid(absl::StrCat("manifest.json: format_version ", version,
                                " is not supported (this verifier reads ",
                                kBundleFormatVersion, ")"));
  }
  m.format_version = kBundleFormatVersion;
  CASELEDGER_ASSIGN_OR_RETURN(m.case_id, o.String("case_id"));
  CASELEDGER_ASSIGN_OR_RETURN(std::string purpose, o.String("purpose"));
  if (!v1::BundlePurpose::Value_Parse(purpose, &m.purpose) ||
      m.purpose == v1::BundlePurpose::BUNDLE_PURPOSE_UNSPECIFIED) {
    return Invalid(
        absl::StrCat("manifest.json: unknown purpose \"", purpose, "\""));
  }
  CASELEDGER_ASSIGN_OR_RETURN(m.origin, o.String("origin"));
  CASELEDGER_ASSIGN_OR_RETURN(m.tree_size, o.U64("tree_size"));
  CASELEDGER_ASSIGN_OR_RETURN(m.root_hash, o.String("root_hash"));
  if (!IsLowerHexSha256(m.root_hash)) {
    return Invalid("manifest.json: root_hash is not 64 lowercase hex digits");
  }
  CASELEDGER_ASSIGN_OR_RETURN(m.as_of, o.Time("as_of"));
  CASELEDGER_ASSIGN_OR_RETURN(m.known_at, o.Time("known_at"));
  if (o["since_tree_size"].kind != JsonValue::Kind::kNull) {
    CASELEDGER_ASSIGN_OR_RETURN(m.since_tree_size, o.U64("since_tree_size"));
  }
  if (o["include_after_decision"].kind != JsonValue::Kind::kBool) {
    return Invalid("manifest.json: include_after_decision is not a boolean");
  }
  m.include_after_decision = o["include_after_decision"].boolean;
  CASELEDGER_ASSIGN_OR_RETURN(m.tool_version, o.String("tool_version"));

  CASELEDGER_ASSIGN_OR_RETURN(const auto* positions, o.Array("positions"));
  for (const JsonValue& p : *positions) {
    CASELEDGER_ASSIGN_OR_RETURN(uint64_t n,
                                U64Of(p, "manifest.json: a position"));
    if (n == 0 || n > m.tree_size ||
        (!m.positions.empty() && n <= m.positions.back())) {
      return Invalid(absl::StrCat("manifest.json: position ", n,
                                  " is out of range or out of order"));
    }
    m.positions.push_back(n);
  }
  CASELEDGER_ASSIGN_OR_RETURN(const auto* messages, o.Array("messages"));
  for (const JsonValue& h : *messages) {
    if (h.kind != JsonValue::Kind::kString || !IsLowerHexSha256(h.text) ||
        (!m.messages.empty() && h.text <= m.messages.back())) {
      return Invalid(
          "manifest.json: messages must be ascending lowercase SHA-256 hex");
    }
    m.messages.push_back(h.text);
  }
  CASELEDGER_ASSIGN_OR_RETURN(const auto* files, o.Array("files"));
  for (const JsonValue& f : *files) {
    CASELEDGER_ASSIGN_OR_RETURN(
        Object fo,
        Object::Of(f, "manifest.json files", {"path", "sha256", "size"}));
    ManifestFile mf;
    CASELEDGER_ASSIGN_OR_RETURN(mf.path, fo.String("path"));
    CASELEDGER_ASSIGN_OR_RETURN(mf.sha256, fo.String("sha256"));
    CASELEDGER_ASSIGN_OR_RETURN(mf.size, fo.U64("size"));
    if (!IsLowerHexSha256(mf.sha256)) {
      return Invalid(absl::StrCat("manifest.json: sha256 of ", mf.path,
                                  " is not 64 lowercase hex digits"));
    }
    if (!m.files.empty() && mf.path <= m.files.back().path) {
      return Invalid(
          absl::StrCat("manifest.json: files are not in ascending "
                       "order of path at ",
                       mf.path));
    }
    m.files.push_back(std::move(mf));
  }
  return m;
}

std::string ManifestStatement(std::string_view manifest_json) {
  return absl::StrCat(kManifestStatementLine, "\n",
                      ToHex(Sha256(manifest_json)), "\n");
}

absl::StatusOr<ParsedProof> ParseProofJson(std::string_view json,
                                           std::string_view first_key,
                                           std::string_view second_key) {
  auto parsed = ParseJson(json);
  if (!parsed.ok()) {
    return Invalid(absl::StrCat("not JSON: ", parsed.status().message()));
  }
  const std::string first(first_key), second(second_key);
  CASELEDGER_ASSIGN_OR_RETURN(
      Object o,
      Object::Of(*parsed, "proof", {first.c_str(), second.c_str(), "hashes"}));
  ParsedProof proof;
  CASELEDGER_ASSIGN_OR_RETURN(proof.first, o.U64(first));
  CASELEDGER_ASSIGN_OR_RETURN(proof.second, o.U64(second));
  CASELEDGER_ASSIGN_OR_RETURN(const auto* hashes, o.Array("hashes"));
  if (hashes->size() > 64) return Invalid("proof: more than 64 hashes");
  for (const JsonValue& h : *hashes) {
    if (h.kind != JsonValue::Kind::kString) {
      return Invalid("proof: a hash is not a string");
    }
    CASELEDGER_ASSIGN_OR_RETURN(std::string bytes,
                                Base64Decode(h.text, "proof hash"));
    std::optional<merkle::Hash> hash = DigestFromBytes(bytes);
    if (!hash) return Invalid("proof: a hash is not 32 bytes");
    proof.hashes.push_back(*hash);
  }
  return proof;
}

std::string ReadmeText(const Manifest& m) {
  std::string out = absl::StrCat(
      "caseledger evidence bundle (format caseledger-bundle, version ",
      m.format_version, ")\n\n", "Case        ", m.case_id, "\n",
      "Purpose     ", PurposeName(m.purpose), "\n", "Ledger      ", m.origin,
      "\n", "Tree size   ", m.tree_size, "\n", "Root hash   ", m.root_hash,
      "\n", "As of       ", projections::FormatUtc(m.as_of), "\n",
      "Known at    ", projections::FormatUtc(m.known_at), "\n", "Produced by ",
      m.tool_version, "\n");
  out += R"(
What is here
  report.pdf, report.html  the report for people: the record, the findings in
                           plain language, the deadlines, a timeline picture
  manifest.json            every other file with its SHA-256 and size
  manifest.sig             the ledger's signature (C2SP signed note, Ed25519)
                           over "caseledger-bundle/v1" and the SHA-256 of
                           manifest.json
  checkpoint.txt           the ledger's signed checkpoint at the tree size above
  events/P.entry           the ledger entry stored at position P, exact bytes
  events/P.event           16-byte salt, then the event exactly as appended
  proofs/P.json            inclusion proof of events/P.entry (RFC 9162)
  events.json              the same events as JSON, for reading
  messages/H.eml           each stored message or notice, named by its SHA-256
  state.json, deadlines.json, findings.json
                           the case's state, deadlines and findings, which
                           anyone can recompute from the events
  policy.json              the deadline policy they were evaluated with
)";
  if (m.since_tree_size) {
    out +=
        R"(  since-checkpoint.txt     an earlier checkpoint of the same ledger
  consistency.json         proof that checkpoint.txt extends it (RFC 9162)
)";
  }
  out += R"(
How to verify
  1. Get the ledger's public verifier key from a source you trust: the office
     publishes it, and `caseledger key` prints it. Never take it from the
     bundle itself.
  2. Run:  caseledger verify-bundle THIS-BUNDLE.zip --pubkey KEY.txt
     It needs nothing but the bundle and the key. It prints a verdict per
     check and exits 0 only when every check holds ("VERDICT: OK").
  3. Or check by hand, following docs/bundle-format.md of caseledger: the
     signature in manifest.sig, every file's SHA-256, the checkpoint's
     signature, each event's digest and inclusion proof, and the projections
     recomputed from the events.
)";
  return out;
}

absl::StatusOr<Derived> Derive(absl::Span<const RecordedEvent> events,
                               const std::string& case_id, uint64_t tree_size,
                               const projections::Evaluation& evaluation,
                               const projections::DeadlinePolicy& policy,
                               const std::set<std::string>& stored_messages) {
  Derived d;
  CASELEDGER_ASSIGN_OR_RETURN(d.model, projections::FoldCase(events));
  d.state = projections::CaseStateFor(d.model, evaluation);
  d.deadlines = projections::DeadlinesFor(d.model, evaluation, policy);
  d.findings = projections::FindingsFor(
      d.model, evaluation, policy, [&](std::string_view sha) {
        return stored_messages.count(std::string(sha)) > 0
                   ? absl::OkStatus()
                   : absl::NotFoundError("not in the bundle");
      });
  d.state_json = projections::RenderStateJson(d.state);
  d.deadlines_json = projections::RenderDeadlinesJson(d.deadlines);
  d.findings_json = projections::RenderFindingsJson(d.findings);
  d.policy_json = projections::PolicyJson(policy);

  std::string& out = d.events_json;
  out = "{\"case_id\": ";
  AppendJsonString(case_id, &out);
  absl::StrAppend(&out, ", \"tree_size\": ", tree_size, ", \"events\": [\n");
  for (size_t i = 0; i < events.size(); ++i) {
    const RecordedEvent& e = events[i];
    absl::StrAppend(
        &out, "{\"position\": ", e.position,
        ", \"case_version\": ", e.case_version, ", \"recorded_at\": \"",
        projections::FormatUtc(e.recorded_at), "\", \"event_type\": \"",
        EventType(e.event), "\", \"event\": ", EventToJson(e.event), "}",
        i + 1 < events.size() ? "," : "", "\n");
  }
  out += "]}\n";
  return d;
}

absl::Status CheckEventsJson(std::string_view json,
                             absl::Span<const RecordedEvent> events,
                             const std::string& case_id, uint64_t tree_size) {
  auto parsed = ParseJson(json);
  if (!parsed.ok()) {
    return Invalid(absl::StrCat("not JSON: ", parsed.status().message()));
  }
  CASELEDGER_ASSIGN_OR_RETURN(
      Object o,
      Object::Of(*parsed, "events.json", {"case_id", "tree_size", "events"}));
  CASELEDGER_ASSIGN_OR_RETURN(std::string c, o.String("case_id"));
  if (c != case_id) return Invalid("case_id differs from the manifest");
  CASELEDGER_ASSIGN_OR_RETURN(uint64_t n, o.U64("tree_size"));
  if (n != tree_size) return Invalid("tree_size differs from the manifest");
  CASELEDGER_ASSIGN_OR_RETURN(const auto* rows, o.Array("events"));
  if (rows->size() != events.size()) {
    return Invalid(
        absl::StrCat("holds ", rows->size(), " events, not ", events.size()));
  }
  for (size_t i = 0; i < events.size(); ++i) {
    const RecordedEvent& e = events[i];
    const std::string where = absl::StrCat("event at position ", e.position);
    CASELEDGER_ASSIGN_OR_RETURN(
        Object r, Object::Of((*rows)[i], where,
                             {"position", "case_version", "recorded_at",
                              "event_type", "event"}));
    CASELEDGER_ASSIGN_OR_RETURN(uint64_t p, r.U64("position"));
    CASELEDGER_ASSIGN_OR_RETURN(uint64_t v, r.U64("case_version"));
    CASELEDGER_ASSIGN_OR_RETURN(absl::Time t, r.Time("recorded_at"));
    CASELEDGER_ASSIGN_OR_RETURN(std::string type, r.String("event_type"));
    if (p != e.position || v != e.case_version || t != e.recorded_at ||
        type != EventType(e.event)) {
      return Invalid(
          absl::StrCat(where,
                       ": position, case_version, recorded_at or event_type "
                       "differs from the stored entry"));
    }
    std::string text;
    ToJsonText(r["event"], &text);
    auto event = ParseEventJson(text);
    if (!event.ok()) {
      return Invalid(absl::StrCat(where, ": ", event.status().message()));
    }
    if (!google::protobuf::util::MessageDifferencer::Equals(*event, e.event)) {
      return Invalid(absl::StrCat(
          where, ": the JSON event differs from the stored event bytes"));
    }
  }
  return absl::OkStatus();
}

}  // namespace caseledger::bundle::internal
