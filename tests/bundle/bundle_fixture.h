// The fixture of the evidence bundle tests: a ledger on a fake clock holding
// the shared example cases (and their messages), plus helpers to take a
// bundle apart, alter it and put it back together.
#ifndef CASELEDGER_TESTS_BUNDLE_BUNDLE_FIXTURE_H_
#define CASELEDGER_TESTS_BUNDLE_BUNDLE_FIXTURE_H_

#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "ledger/event_json.h"
#include "ledger/ledger.h"
#include "projections/bundle/bundle.h"
#include "projections/bundle/internal/zip.h"
#include "projections/bundle/verify.h"
#include "tests/testing/test_util.h"

namespace caseledger::bundle {

inline constexpr char kBounceCase[] = "E2012-000417";
inline constexpr char kRefusalCase[] = "E2012-000952";
inline constexpr char kFrenchCase[] = "F2011-000123";

// A case in French: the standard note in French and an officer's note dated
// after the refusal (for the tribunal record's cut-off).
inline std::vector<std::string> FrenchCaseLines() {
  auto ev = [](const std::string& when, const std::string& payload) {
    return absl::StrCat(
        R"({"case_id": "F2011-000123", "occurred_at": ")", when,
        R"(", "actor": {"kind": "OFFICER", "id": "agent-3"}, "source": "test", )",
        payload, "}");
  };
  return {
      ev("2011-02-01T09:00:00Z",
         R"("case_opened": {"program": "RP", "office_id": "BV-PARIS", "office_mailbox": "bureau@office.example", "applicant_country": "FR", "language": "fr"})"),
      ev("2011-02-01T09:05:00Z",
         R"("email_consent_recorded": {"party": "APPLICANT", "address": "helene.cote@mail.example", "basis": "APPLICATION_FORM", "evidence_ref": "formulaire p.1"})"),
      ev("2011-02-02T10:00:00Z",
         R"("recipient_address_verified": {"request_id": "DOC-1", "address": "helene.cote@mail.example", "matches_address_on_file": true})"),
      ev("2011-02-02T10:01:00Z",
         R"("document_request_sent": {"request_id": "DOC-1", "channel": "EMAIL", "to": ["helene.cote@mail.example"], "from_mailbox": "bureau@office.example", "organizational_mailbox": true, "deadline": "2011-03-20T23:59:59Z", "items": ["certificat de police"], "refusal_warning_included": true, "subject": "Demande de documents"})"),
      ev("2011-03-25T09:00:00Z",
         R"("non_compliance_recorded": {"request_id": "DOC-1", "note": "Un courriel a été envoyé au demandeur dans le but d'obtenir des documents supplémentaires. Le demandeur a également été informé que le défaut de fournir les documents requis pouvait entraîner le rejet de sa demande. Le demandeur a omis de se conformer à la demande."})"),
      ev("2011-03-26T09:00:00Z",
         R"("case_decided": {"decision": "REFUSED", "ground": "NON_COMPLIANCE", "request_id": "DOC-1", "reasons": "Documents demandés non fournis à l'échéance."})"),
      ev("2011-04-02T09:00:00Z",
         R"("officer_note_added": {"text": "Appel reçu après la décision : la demanderesse dit n'avoir rien reçu."})"),
  };
}

class BundleFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    LedgerOptions options;
    options.clock = &clock_;
    options.sync = false;
    options.checkpoint_every_entries = 0;
    options.checkpoint_every = absl::Hours(24 * 365);
    auto ledger =
        Ledger::Create(dir_.Sub("ledger"), "bundle.example/log", options);
    ASSERT_TRUE(ledger.ok()) << ledger.status();
    ledger_ = *std::move(ledger);
    for (const char* eml :
         {"bounce-handled-DOC-1.eml", "bounce-handled-DOC-2.eml",
          "transfer-then-refusal-DOC-1.eml"}) {
      ASSERT_OK(ledger_->StoreMessage(testing::FileContents(Example(eml))));
    }
    AppendJsonLines(testing::FileContents(Example("bounce-handled.jsonl")));
    AppendJsonLines(
        testing::FileContents(Example("transfer-then-refusal.jsonl")));
    std::string french;
    for (const std::string& line : FrenchCaseLines()) french += line + "\n";
    AppendJsonLines(french);
    auto key = ledger_->VerifierKeyText();
    ASSERT_TRUE(key.ok()) << key.status();
    key_ = *key;
  }

  static std::string Example(const std::string& name) {
    return testing::SharedDir() + "/examples/" + name;
  }

  void AppendJsonLines(const std::string& text) {
    clock_.Advance(absl::Minutes(5));
    std::istringstream in(text);
    auto lines = ReadEventLines(in);
    ASSERT_TRUE(lines.ok()) << lines.status();
    std::vector<v1::Event> events;
    for (EventLine& l : *lines) events.push_back(std::move(l.event));
    ASSERT_OK(ledger_->Append(std::move(events)));
  }

  static ExportRequest Request(const std::string& case_id,
                               v1::BundlePurpose::Value purpose) {
    ExportRequest r;
    r.case_id = case_id;
    r.purpose = purpose;
    r.requested_by = "counsel@test";
    r.now = absl::FromUnixSeconds(1800000000);
    return r;
  }

  // Exports (recording the export) and returns the bundle.
  // A bundle of the bounce case with a consistency proof from a checkpoint
  // signed before an export grew the tree, which `old_note` receives.
  ExportResult ExportSinceAnEarlierCheckpoint(std::string* old_note) {
    auto note = ledger_->SignCheckpoint();
    EXPECT_TRUE(note.ok()) << note.status();
    *old_note = note.ok() ? *note : "";
    Export(kBounceCase, v1::BundlePurpose::INVESTIGATION);
    ExportRequest r = Request(kBounceCase, v1::BundlePurpose::RECONSIDERATION);
    r.since_checkpoint = *old_note;
    auto result = ExportBundle(*ledger_, r);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *std::move(result) : ExportResult{};
  }

  ExportResult Export(const std::string& case_id,
                      v1::BundlePurpose::Value purpose,
                      uint64_t tree_size = 0) {
    ExportRequest r = Request(case_id, purpose);
    r.tree_size = tree_size;
    auto result = ExportBundle(*ledger_, r);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *std::move(result) : ExportResult{};
  }

  BundleVerdict Verify(const std::string& bytes) const {
    return VerifyWith(bytes, key_);
  }
  static BundleVerdict VerifyWith(const std::string& bytes,
                                  const std::string& key) {
    auto verdict = VerifyBundle(bytes, key);
    EXPECT_TRUE(verdict.ok()) << verdict.status();
    return verdict.ok() ? *std::move(verdict) : BundleVerdict{};
  }

  // The archive's members by name.
  static std::map<std::string, std::string> Members(const std::string& zip) {
    std::map<std::string, std::string> out;
    auto members = internal::ReadZip(zip);
    EXPECT_TRUE(members.ok()) << members.status();
    if (!members.ok()) return out;
    for (const auto& m : *members) out[m.name] = std::string(m.data);
    return out;
  }
  static std::string Repack(const std::map<std::string, std::string>& files) {
    auto zip = internal::WriteZip(files);
    EXPECT_TRUE(zip.ok()) << zip.status();
    return zip.ok() ? *zip : "";
  }

  static std::set<std::string> FailedChecks(const BundleVerdict& v) {
    std::set<std::string> out;
    for (const BundleCheck& c : v.checks) {
      if (c.status == BundleCheck::Status::kFail) out.insert(c.name);
    }
    return out;
  }
  // True when some problem of a failed check names `text`.
  static bool Mentions(const BundleVerdict& v, const std::string& text) {
    for (const BundleCheck& c : v.checks) {
      for (const std::string& p : c.problems) {
        if (p.find(text) != std::string::npos) return true;
      }
    }
    return false;
  }
  static std::string Describe(const BundleVerdict& v) {
    return RenderVerdictText(v, "bundle.zip");
  }

  FakeClock clock_{absl::FromUnixSeconds(1700000000)};
  testing::TempFolder dir_;
  std::unique_ptr<Ledger> ledger_;
  std::string key_;
};

}  // namespace caseledger::bundle

#endif  // CASELEDGER_TESTS_BUNDLE_BUNDLE_FIXTURE_H_
