// The syntactic checks that every appended event passes through: each case
// names an address the check must accept or refuse, and why.
#include "ledger/event_validation.h"

#include <functional>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ledger/recorded_event.h"
#include "ledger/untrusted_text.h"

namespace caseledger {
namespace {

struct AddressCase {
  std::string address;
  bool valid;
};

class EmailAddressTest : public testing::TestWithParam<AddressCase> {};

std::string Repeated(const std::string& text, int times) {
  std::string out;
  for (int i = 0; i < times; ++i) out += text;
  return out;
}

TEST_P(EmailAddressTest, IsJudgedAsExpected) {
  EXPECT_EQ(IsValidEmailAddress(GetParam().address), GetParam().valid)
      << "'" << GetParam().address << "'";
}

INSTANTIATE_TEST_SUITE_P(
    Addresses, EmailAddressTest,
    testing::Values(
        AddressCase{"a@b.example", true},
        AddressCase{"first.last@mail.office.example", true},
        AddressCase{"x+tag@sub-domain.example", true},
        AddressCase{"o'brien!#$%&*/=?^_`{|}~-@b.example", true},
        AddressCase{"a@b.c", true}, AddressCase{"A1@B2.EXAMPLE", true},
        AddressCase{"a@xn--bcher-kva.example", true},
        AddressCase{"", false},                // nothing
        AddressCase{"plain", false},           // no @
        AddressCase{"@b.example", false},      // empty local part
        AddressCase{"bob@", false},            // empty domain
        AddressCase{"a@example", false},       // one label
        AddressCase{".a@b.example", false},    // leading dot
        AddressCase{"a.@b.example", false},    // trailing dot
        AddressCase{"a..b@b.example", false},  // empty atom
        AddressCase{"a b@b.example", false},   // space
        AddressCase{"a\"b@b.example", false},  // quote outside atext
        AddressCase{"a@b..example", false},    // empty label
        AddressCase{"a@.b.example", false},    // leading empty label
        AddressCase{"a@b.example.", false},    // trailing empty label
        AddressCase{"a@-b.example", false},    // label starts with '-'
        AddressCase{"a@b-.example", false},    // label ends with '-'
        AddressCase{"a@b_c.example", false},   // '_' in a label
        AddressCase{"a@b@c.example", false},   // '@' in the local part
        AddressCase{std::string(64, 'l') + "@b.example", true},
        AddressCase{std::string(65, 'l') + "@b.example", false},  // > 64
        AddressCase{"a@" + std::string(63, 'd') + ".example", true},
        AddressCase{"a@" + std::string(64, 'd') + ".example", false},
        // 254 characters in all, the domain at most 253.
        AddressCase{"a@" + std::string(63, 'd') + "." + std::string(63, 'd') +
                        "." + std::string(63, 'd') + "." + std::string(60, 'd'),
                    true},
        AddressCase{"ab@" + std::string(63, 'd') + "." + std::string(63, 'd') +
                        "." + std::string(63, 'd') + "." + std::string(60, 'd'),
                    false},  // 255 characters
        AddressCase{std::string(60, 'l') + "@" + std::string(63, 'd') + "." +
                        std::string(63, 'd') + "." + std::string(63, 'd'),
                    true},
        // Internationalized (RFC 6531): UTF-8 in the local part and in
        // domain labels, as applicants write them.
        AddressCase{"anna@m\u00fcller.de", true},
        AddressCase{"jos\u00e9.garc\u00eda@correo.example", true},
        AddressCase{"\u674e@\u4f8b\u5b50.\u4e2d\u56fd", true},
        AddressCase{"\u0438\u0432\u0430\u043d@\u043f\u043e\u0447\u0442\u0430."
                    "\u0440\u0444",
                    true},
        AddressCase{"a@m\u00fcller-b\u00e4cker.de", true},
        AddressCase{"a@-m\u00fcller.de", false},  // label starts with '-'
        AddressCase{"a@m\u00fcller..de", false},  // empty label
        AddressCase{"a@\u00fc", false},           // one label
        AddressCase{"\xc3@b.example", false},     // truncated UTF-8
        AddressCase{"a@\xff.example", false},     // not UTF-8
        AddressCase{"a\u202e@b.example", false},  // bidirectional override
        AddressCase{"a\u0085@b.example", false},  // C1 control
        AddressCase{"a@b\u2028.example", false},  // line separator
        // What shows as nothing or as a plain space: an address that prints
        // as another (found by a mutation audit: all five were taken).
        AddressCase{"a\u200b@b.example", false},        // zero-width space
        AddressCase{"a@exa\u200bmple.example", false},  // ... in a label
        AddressCase{"a\u00a0b@b.example", false},       // no-break space
        AddressCase{"a@b\u00ad.example", false},        // soft hyphen
        AddressCase{"\"a\u200b\"@b.example", false},    // quoted
        // A zero-width non-joiner between Persian letters is writing.
        AddressCase{"\u0645\u06cc\u200c\u0631\u0648\u0645@b.example", true},
        AddressCase{"a\u200c@b.example", false},  // ... beside ASCII is not
        AddressCase{"a@" + std::string(21, '\xe4') + ".example", false},
        // 21 three-byte characters: 63 bytes, a label's limit.
        AddressCase{"a@" + Repeated("\u4f8b", 21) + ".example", true},
        AddressCase{"a@" + Repeated("\u4f8b", 22) + ".example",
                    false},  // 66 bytes
        // Quoted local parts (RFC 5321 §4.1.2).
        AddressCase{"\"wei li\"@mail.example", true},
        AddressCase{"\"a@b\"@mail.example", true},
        AddressCase{"\"a\\\"b\"@mail.example", true},  // quoted pair
        AddressCase{"\"\u674e \u4f1f\"@mail.example", true},
        AddressCase{"\"a\"b\"@mail.example", false},  // bare quote inside
        AddressCase{"\"ab@mail.example", false},      // unterminated
        AddressCase{"\"@mail.example", false},        // lone quote
        AddressCase{"\"a\\\"@mail.example", false},   // pair eats the end
        AddressCase{"\"a\tb\"@mail.example", false},  // control inside
        AddressCase{"a@[192.0.2.1]", false}));        // address literal

TEST(EventTypeTest, NamesThePayloadAndIsEmptyWithoutOne) {
  v1::Event event;
  EXPECT_EQ(EventType(event), "");
  event.mutable_document_request_sent()->set_request_id("R-1");
  EXPECT_EQ(EventType(event), "document_request_sent");
  EXPECT_EQ(RequestIdOf(event), "R-1");
  event.mutable_officer_note_added()->set_text("note");
  EXPECT_EQ(EventType(event), "officer_note_added");
  EXPECT_EQ(RequestIdOf(event), "");
}

}  // namespace
}  // namespace caseledger

namespace caseledger {
namespace {

// A note of `text_bytes` bytes, otherwise valid.
v1::Event NoteOf(size_t text_bytes) {
  v1::Event e;
  e.set_case_id("E1");
  e.mutable_occurred_at()->set_seconds(1300000000);
  e.mutable_actor()->set_kind(v1::ActorKind::OFFICER);
  e.mutable_actor()->set_id("o");
  e.mutable_officer_note_added()->set_text(std::string(text_bytes, 'a'));
  e.set_event_id("0f8e3a52-7c1d-4b6e-9a2f-5d4c3b2a1908");
  return e;
}

// A 100 MiB note was appended, and its bundle took 21 GiB to export (found
// by an audit): an event holds at most 1 MiB encoded, and the refusal names
// the field that makes it large.
TEST(EventSizeTest, AnEventOfOneMebibyteIsTakenAndOneByteMoreIsNot) {
  size_t text = kMaxEventBytes - 128;
  while (NoteOf(text + 1).ByteSizeLong() <= kMaxEventBytes) ++text;
  ASSERT_EQ(NoteOf(text).ByteSizeLong(), kMaxEventBytes);
  EXPECT_TRUE(ValidateEvent(NoteOf(text)).ok());
  const absl::Status over = ValidateEvent(NoteOf(text + 1));
  EXPECT_EQ(over.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(over.message(),
            absl::StrCat("officer_note_added.text: the event comes to 1048577 "
                         "bytes, and an event holds at most 1048576 (1 MiB); "
                         "this field holds ",
                         text + 1,
                         ": keep documents out of events (caseledger attach "
                         "stores a message beside the log)"));
}

// An event without an id is stored with the one the ledger gives it, and
// measured so: measured without it, an event just under the bound passed
// import's check of a whole file, then failed at its append with half the
// file imported (found by an outside reading).
TEST(EventSizeTest, AnEventWithoutAnIdIsMeasuredWithTheOneItWillGet) {
  size_t text = kMaxEventBytes - 128;
  while (NoteOf(text + 1).ByteSizeLong() <= kMaxEventBytes) ++text;
  // With an id, one byte over the bound; without it, 37 bytes under.
  v1::Event without_id = NoteOf(text + 1);
  without_id.clear_event_id();
  ASSERT_EQ(without_id.ByteSizeLong(), kMaxEventBytes - 37);
  const absl::Status over = ValidateEvent(without_id);
  EXPECT_EQ(over.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(over.message()),
              ::testing::StartsWith(
                  "officer_note_added.text: the event comes to 1048577 "
                  "bytes"))
      << over;
  without_id.mutable_officer_note_added()->mutable_text()->resize(text);
  EXPECT_TRUE(ValidateEvent(without_id).ok());
}

// An event made large by a list of short entries was blamed on its 36-byte
// event id, the longest single string (found by an outside reading): a list
// is counted whole.
TEST(EventSizeTest, AListOfShortEntriesIsNamedAsAWhole) {
  v1::Event e = NoteOf(0);
  e.clear_officer_note_added();
  auto* sent = e.mutable_document_request_sent();
  sent->set_request_id("R-1");
  sent->set_channel(v1::Channel::POSTAL_MAIL);
  for (int i = 0; i < 100000; ++i) sent->add_to("a@b.example");
  const absl::Status over = ValidateEvent(e);
  EXPECT_EQ(over.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(over.message()),
              ::testing::MatchesRegex(
                  "document_request_sent.to: the event comes to [0-9]+ bytes, "
                  "and an event holds at most 1048576 \\(1 MiB\\); this "
                  "field holds 100000 entries, 1100000 bytes in all: keep "
                  "documents out of events .*"))
      << over;
}

// A request sent without an id was refused as "a resend of itself" on its
// resend_of, both being empty (found by an audit): the id is what lacks.
TEST(RequestIdTest, ARequestWithoutAnIdIsRefusedOnItsId) {
  for (const char* resend_of : {"", "R-0"}) {
    v1::Event e = NoteOf(4);
    auto* request = e.mutable_document_request_sent();
    request->set_channel(v1::Channel::POSTAL_MAIL);
    request->set_resend_of(resend_of);
    const absl::Status refused = ValidateEvent(e);
    EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument) << resend_of;
    EXPECT_EQ(refused.message(),
              "document_request_sent.request_id: is required")
        << resend_of;
  }
  v1::Event itself = NoteOf(4);
  itself.mutable_document_request_sent()->set_channel(v1::Channel::POSTAL_MAIL);
  itself.mutable_document_request_sent()->set_request_id("R-1");
  itself.mutable_document_request_sent()->set_resend_of("R-1");
  EXPECT_THAT(std::string(ValidateEvent(itself).message()),
              ::testing::HasSubstr("resend of itself"));
}

// A request by another channel than email names its recipients as that
// channel reaches them, unchecked; the office's mailbox it was sent from is
// a mailbox whatever the channel ("bob@" was stored for a portal request's,
// found by an outside reading).
TEST(RequestAddressTest, TheOfficesMailboxIsCheckedWhateverTheChannel) {
  for (v1::Channel::Value channel :
       {v1::Channel::PORTAL, v1::Channel::POSTAL_MAIL, v1::Channel::EMAIL}) {
    v1::Event e = NoteOf(4);
    auto* request = e.mutable_document_request_sent();
    request->set_request_id("R-1");
    request->set_channel(channel);
    request->add_to(channel == v1::Channel::EMAIL ? "a@b.example"
                                                  : "12 rue Principale");
    EXPECT_TRUE(ValidateEvent(e).ok()) << channel << ValidateEvent(e);
    request->set_from_mailbox("bob@");
    const absl::Status refused = ValidateEvent(e);
    EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument) << channel;
    EXPECT_EQ(refused.message(),
              "document_request_sent.from_mailbox: 'bob@' is not a valid email "
              "address")
        << channel;
  }
}

// An address holding what shows as nothing is refused by the character
// and its byte, as an identifier is: the email went to another mailbox
// than the one it reads as.
TEST(RequestAddressTest, AnAddressShowsEveryCharacterItHolds) {
  v1::Event e = NoteOf(4);
  auto* request = e.mutable_document_request_sent();
  request->set_request_id("R-1");
  request->set_channel(v1::Channel::EMAIL);
  request->add_to("maria\u200b.santos@mail.example");
  EXPECT_EQ(ValidateEvent(e),
            absl::InvalidArgumentError(
                "document_request_sent.to[0]: 'maria\\u200b.santos@mail."
                "example' holds U+200B (byte 6), which shows as nothing or as "
                "a plain space; an address shows every character it holds"));
  // Bytes that are not UTF-8 make no address, wherever they are.
  for (const char* address : {"\xc3@b.example", "a@\xff.example"}) {
    request->set_to(0, address);
    EXPECT_EQ(ValidateEvent(e),
              absl::InvalidArgumentError(absl::StrCat(
                  "document_request_sent.to[0]: '", Printable(address),
                  "' is not a valid email address")));
  }
  request->set_to(0, "maria.santos@mail.example");
  EXPECT_TRUE(ValidateEvent(e).ok()) << ValidateEvent(e);
}

// An address past one of SMTP's lengths looks like any other: its refusal
// says which length (found by a probe: "not a valid email address" alone).
// At each limit the address is taken (EmailAddressTest).
TEST(RequestAddressTest, AnAddressTooLongSaysWhichLengthItPasses) {
  v1::Event e = NoteOf(4);
  auto* request = e.mutable_document_request_sent();
  request->set_request_id("R-1");
  request->set_channel(v1::Channel::EMAIL);
  const std::string label(63, 'd');
  const struct {
    std::string address;
    std::string why;
  } cases[] = {
      {std::string(65, 'l') + "@b.example",
       "its local part, before the '@', is 65 bytes long, and SMTP takes at "
       "most 64"},
      {"a@b." + std::string(64, 'd') + ".example",
       absl::StrCat("its domain's label '", Printable(std::string(64, 'd')),
                    "' is 64 bytes long, and a label holds at most 63")},
      {"ab@" + label + "." + label + "." + label + "." + std::string(60, 'd'),
       "it is 255 bytes long, and SMTP takes at most 254"},
  };
  for (const auto& c : cases) {
    request->clear_to();
    request->add_to(c.address);
    EXPECT_EQ(ValidateEvent(e),
              absl::InvalidArgumentError(absl::StrCat(
                  "document_request_sent.to[0]: '", Printable(c.address),
                  "' is not a valid email address: ", c.why)));
  }
}

// A deadline, when present, is after occurred_at (domain.md §2.3): not at
// the same instant, nor a nanosecond before it.
TEST(DeadlineTest, ADeadlineIsStrictlyAfterOccurredAt) {
  v1::Event e = NoteOf(4);
  e.mutable_occurred_at()->set_nanos(500);
  auto* request = e.mutable_document_request_sent();
  request->set_request_id("R-1");
  request->set_channel(v1::Channel::POSTAL_MAIL);
  for (int nanos : {500, 499}) {
    *request->mutable_deadline() = e.occurred_at();
    request->mutable_deadline()->set_nanos(nanos);
    EXPECT_EQ(ValidateEvent(e),
              absl::InvalidArgumentError(
                  "document_request_sent.deadline: must be after occurred_at"))
        << nanos;
  }
  request->mutable_deadline()->set_nanos(501);
  EXPECT_TRUE(ValidateEvent(e).ok()) << ValidateEvent(e);
  // A later second, however few its nanoseconds.
  request->mutable_deadline()->set_seconds(e.occurred_at().seconds() + 1);
  request->mutable_deadline()->set_nanos(0);
  EXPECT_TRUE(ValidateEvent(e).ok()) << ValidateEvent(e);
}

// Unknown fields and enum numbers come only by the binary (gRPC) form; an
// event is refused with them, at any depth, naming where they are.
TEST(UnknownTest, UnknownFieldsAndEnumNumbersAreRefusedWhereTheyAre) {
  v1::Event e = NoteOf(4);
  e.GetReflection()->MutableUnknownFields(&e)->AddVarint(99, 1);
  EXPECT_EQ(ValidateEvent(e),
            absl::InvalidArgumentError("event: has unknown fields"));
  e = NoteOf(4);
  v1::Actor* actor = e.mutable_actor();
  actor->GetReflection()->MutableUnknownFields(actor)->AddVarint(99, 1);
  EXPECT_EQ(ValidateEvent(e),
            absl::InvalidArgumentError("actor: has unknown fields"));
  e = NoteOf(4);
  e.mutable_actor()->set_kind(static_cast<v1::ActorKind::Value>(99));
  EXPECT_EQ(ValidateEvent(e),
            absl::InvalidArgumentError("actor.kind: unknown enum value 99"));
  e = NoteOf(4);
  e.mutable_document_request_sent()->set_request_id("R-1");
  e.mutable_document_request_sent()->set_channel(
      static_cast<v1::Channel::Value>(77));
  EXPECT_EQ(ValidateEvent(e),
            absl::InvalidArgumentError(
                "document_request_sent.channel: unknown enum value 77"));
}

// Rules of one payload that no address or identifier check makes
// (domain.md §2.3).
TEST(PayloadTest, RulesOfOnePayloadAreKept) {
  v1::Event e = NoteOf(4);
  auto* request = e.mutable_document_request_sent();
  request->set_request_id("R-1");
  request->set_channel(v1::Channel::EMAIL);
  EXPECT_EQ(ValidateEvent(e),
            absl::InvalidArgumentError(
                "document_request_sent.to: an EMAIL request needs at least "
                "one recipient"));
  request->add_to("a@b.example");
  request->add_cc("bob@");
  EXPECT_EQ(ValidateEvent(e),
            absl::InvalidArgumentError("document_request_sent.cc[0]: 'bob@' is "
                                       "not a valid email address"));
  request->set_cc(0, "c@d.example");
  EXPECT_TRUE(ValidateEvent(e).ok()) << ValidateEvent(e);

  v1::Event decided = NoteOf(4);
  decided.mutable_case_decided()->set_decision(v1::Decision::REFUSED);
  decided.mutable_case_decided()->set_ground(
      v1::DecisionGround::NON_COMPLIANCE);
  EXPECT_EQ(ValidateEvent(decided),
            absl::InvalidArgumentError("case_decided.request_id: is required "
                                       "when ground is NON_COMPLIANCE"));
  decided.mutable_case_decided()->set_request_id("R-1");
  EXPECT_TRUE(ValidateEvent(decided).ok()) << ValidateEvent(decided);
}

// A case id matches ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$, and occurred_at is a
// time a protobuf Timestamp holds (domain.md §2).
TEST(EnvelopeTest, CaseIdAndOccurredAtAreBounded) {
  v1::Event e = NoteOf(4);
  e.set_case_id(std::string(64, 'C'));
  EXPECT_TRUE(ValidateEvent(e).ok()) << ValidateEvent(e);
  e.set_case_id(std::string(65, 'C'));
  EXPECT_EQ(ValidateEvent(e),
            absl::InvalidArgumentError(absl::StrCat(
                "case_id: '", std::string(64, 'C'),
                "...' does not match ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")));
  e = NoteOf(4);
  for (int nanos : {-1, 1000000000}) {
    e.mutable_occurred_at()->set_nanos(nanos);
    EXPECT_EQ(ValidateEvent(e),
              absl::InvalidArgumentError(
                  "occurred_at: has nanoseconds outside 0 to 999999999"))
        << nanos;
  }
  e.mutable_occurred_at()->set_nanos(999999999);
  EXPECT_TRUE(ValidateEvent(e).ok()) << ValidateEvent(e);
}

// Each refusal of ValidateEvent, made on an otherwise valid note, names its
// field and why (domain.md §2.3).
TEST(ValidateEventTest, EachRefusalNamesItsField) {
  const struct {
    std::function<void(v1::Event&)> change;
    std::string message;
  } cases[] = {
      {[](v1::Event& e) { e.set_event_id("not-a-uuid"); },
       "event_id: 'not-a-uuid' is not a UUID"},
      {[](v1::Event& e) { e.clear_case_id(); }, "case_id: is required"},
      {[](v1::Event& e) { e.clear_occurred_at(); }, "occurred_at: is required"},
      {[](v1::Event& e) {
         e.mutable_actor()->set_kind(v1::ActorKind::ACTOR_KIND_UNSPECIFIED);
       },
       "actor.kind: is required"},
      {[](v1::Event& e) { e.mutable_actor()->clear_id(); },
       "actor.id: is required"},
      {[](v1::Event& e) { e.clear_officer_note_added(); },
       "payload: exactly one payload is required"},
      {[](v1::Event& e) {
         e.mutable_email_consent_recorded()->set_address("a@b.example");
         e.mutable_email_consent_recorded()->set_basis(
             v1::ConsentBasis::APPLICATION_FORM);
       },
       "email_consent_recorded.party: is required"},
      {[](v1::Event& e) {
         auto* request = e.mutable_document_request_sent();
         request->set_request_id("R-1");
         request->set_channel(v1::Channel::POSTAL_MAIL);
         request->set_body_sha256("ABC");
       },
       "document_request_sent.body_sha256: must be 64 lowercase hex digits "
       "(SHA-256)"},
      {[](v1::Event& e) { e.mutable_case_opened()->set_language("de"); },
       "case_opened.language: must be \"en\" or \"fr\""},
      {[](v1::Event& e) {
         e.mutable_case_opened()->set_applicant_country("Phil");
       },
       "case_opened.applicant_country: must be an ISO 3166-1 alpha-2 code "
       "such as \"PH\""},
  };
  for (const auto& c : cases) {
    v1::Event e = NoteOf(4);
    ASSERT_TRUE(ValidateEvent(e).ok()) << ValidateEvent(e);
    c.change(e);
    EXPECT_EQ(ValidateEvent(e), absl::InvalidArgumentError(c.message));
  }
}

// Every character of an identifier shows: what shows as nothing or as a
// plain space is refused, so that two request ids cannot look alike. A
// zero-width (non-)joiner passes where a script joins letters with it.
TEST(IdentifierTest, EveryCharacterOfAnIdentifierShows) {
  auto with_actor = [](const std::string& id) {
    v1::Event e = NoteOf(4);
    e.mutable_actor()->set_id(id);
    return ValidateEvent(e);
  };
  for (const char* taken :
       {"off-17", "Zoë", "علی\u200cرضا",  // Persian, a non-joiner
        "\U0001F468\u200D\U0001F469",     // an emoji sequence
        "a b"}) {
    EXPECT_TRUE(with_actor(taken).ok()) << taken << with_actor(taken);
  }
  for (const char* refused :
       {"off\u200d-17", "\u200doff", "off\u200c", "o\u061cff", "of\ufe0ff",
        "o\u2800ff", "o\u3164ff", "o\u00a0ff", "o\U000E0041ff", "off\u200b",
        "\u0639\u200cx"}) {  // a non-joiner before ASCII joins nothing
    const absl::Status s = with_actor(refused);
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << refused;
    EXPECT_THAT(std::string(s.message()),
                ::testing::HasSubstr("which shows as nothing or as a plain "
                                     "space"))
        << refused;
  }
  EXPECT_THAT(std::string(with_actor("of\u202ef").message()),
              ::testing::HasSubstr("holds a control character (byte 3)"));
}

// Every identifier of an event is held to the rule actor.id is: the
// correlation and causation ids and the ids a payload names.
TEST(IdentifierTest, EveryIdentifierOfAnEventIsChecked) {
  const std::string id = "R\u200b-1";  // a zero-width space
  const std::string problem =
      ": 'R\\u200b-1' holds U+200B (byte 2), which shows as nothing or as a "
      "plain space; an identifier shows every character it holds";
  v1::Event e = NoteOf(4);
  e.set_correlation_id(id);
  EXPECT_EQ(ValidateEvent(e),
            absl::InvalidArgumentError("correlation_id" + problem));
  e = NoteOf(4);
  e.set_causation_id(id);
  EXPECT_EQ(ValidateEvent(e),
            absl::InvalidArgumentError("causation_id" + problem));
  e = NoteOf(4);
  auto* request = e.mutable_document_request_sent();
  request->set_channel(v1::Channel::POSTAL_MAIL);
  request->set_request_id(id);
  EXPECT_EQ(
      ValidateEvent(e),
      absl::InvalidArgumentError("document_request_sent.request_id" + problem));
  request->set_request_id("R-2");
  request->set_resend_of(id);
  EXPECT_EQ(ValidateEvent(e), absl::InvalidArgumentError(
                                  "document_request_sent.resend_of" + problem));
}

// Codes some country has, Kosovo's user-assigned XK among them; the table
// is searched by halves, so its ends and a code between two are tried.
TEST(CountryCodeTest, OnlyCodesSomeCountryHasAreTaken) {
  for (const char* code : {"AD", "GB", "PH", "SN", "XK", "ZW"}) {
    EXPECT_TRUE(CheckCountryCode(code).ok()) << code;
  }
  for (const char* code : {"UK", "EU", "XX", "AA", "ZZ", "gb", "G", ""}) {
    EXPECT_EQ(CheckCountryCode(code).code(), absl::StatusCode::kInvalidArgument)
        << code;
  }
  EXPECT_EQ(CheckCountryCode("UK").message(),
            "\"UK\" is no country's ISO 3166-1 alpha-2 code (the United "
            "Kingdom's is \"GB\")");
}

// An identifier in another form than NFC spells the same name in other
// bytes: two request ids that look the same (found by an outside reading).
// What NFC itself keeps apart, a mark no character composes with, passes:
// Yoruba's Ọ̀ (U+1ECC U+0300), a syllabic m with a grave, Navajo's ą́.
TEST(IdentifierTest, AnIdentifierIsWrittenInNfc) {
  v1::Event e = NoteOf(4);
  for (const char* taken :
       {"Zo\u00eb", "\u1ecc\u0300\u1e63un-Ad\u00e9\u1ecd\u0300l\u00e1",
        "m\u0300", "\u0105\u0301", "\ud55c", "q\u0323\u0302", "\u1eb9\u0301",
        // A mark after another of its class is blocked from the letter.
        "a\u0346\u0301",
        // A syllable that ends in a consonant takes no other; U+11A7 is
        // no final consonant.
        "\ud55c\u11a8", "\uac00\u11a7"}) {
    e.mutable_actor()->set_id(taken);
    EXPECT_TRUE(ValidateEvent(e).ok()) << taken << " " << ValidateEvent(e);
  }
  const struct {
    const char* id;
    const char* from;
  } refused[] = {
      // Where NFC first differs: the letter it joins an accent to.
      {"Zoe\u0308", "U+0065 (byte 3)"},
      {"e\u0323\u0302", "U+0065 (byte 1)"},
      {"\u1112\u1161\u11ab", "U+1112 (byte 1)"},
      {"\uac00\u11a8", "U+AC00 (byte 1)"},
      {"q\u0302\u0323", "U+0302 (byte 2)"},
      {"\u1ecc\u0328", "U+1ECC (byte 1)"},  // NFC: U+01EA U+0323
      {"\u00e9\u0323", "U+00E9 (byte 1)"},  // NFC: U+1EB9 U+0301
      {"x\u212b", "U+212B (byte 2)"},
  };
  for (const auto& r : refused) {
    e.mutable_actor()->set_id(r.id);
    const absl::Status s = ValidateEvent(e);
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << r.id;
    EXPECT_THAT(std::string(s.message()),
                ::testing::HasSubstr(absl::StrCat(
                    "' is not in Unicode NFC from ", r.from,
                    " on (NFC writes a letter and an accent written apart as "
                    "one character, puts marks in one order and replaces a "
                    "few characters); an identifier is written in NFC, as "
                    "most keyboards write it, so that it has one spelling")))
        << s;
  }
}

}  // namespace
}  // namespace caseledger
