#include "ledger/internal/event_summary.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "ledger/event_json.h"
#include "ledger/internal/ledger_impl.h"
#include "tests/testing/test_util.h"

namespace caseledger::internal {
namespace {

// The summary as the parse of the whole event gives it.
std::string Parsed(std::string_view bytes) {
  google::protobuf::SetLogHandler(nullptr);  // each failed parse would log
  v1::Event event;
  if (!event.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return "does not parse";
  }
  return absl::StrCat(event.event_id(), "|", event.case_id(), "|",
                      event.payload_case(), "|",
                      event.has_document_request_sent()
                          ? event.document_request_sent().request_id()
                          : "");
}

std::string Summarized(std::string_view bytes) {
  v1::Event scratch;
  std::optional<EventSummary> s = SummarizeEvent(bytes, scratch);
  if (!s) return "does not parse";
  return absl::StrCat(std::string(s->event_id), "|", std::string(s->case_id),
                      "|", s->payload, "|", std::string(s->request_id));
}

// Whether the summary was read from the wire, leaving the scratch event
// untouched, rather than parsed.
bool ReadFromTheWire(std::string_view bytes) {
  v1::Event scratch;
  scratch.set_source("untouched");
  return SummarizeEvent(bytes, scratch) && scratch.source() == "untouched";
}

// As the ledger stores it.
std::string Stored(const v1::Event& event) {
  std::string bytes;
  event.ByteSizeLong();
  AppendSerialized(event, bytes);
  return bytes;
}

// The example histories' events, and one event of every payload kind.
std::vector<std::string> StoredForms() {
  std::vector<std::string> forms;
  for (const char* name :
       {"bounce-handled.jsonl", "transfer-then-refusal.jsonl"}) {
    const std::string text = testing::FileContents(
        absl::StrCat(testing::SharedDir(), "/examples/", name));
    for (absl::string_view line :
         absl::StrSplit(text, '\n', absl::SkipEmpty())) {
      auto event = ParseEventJson(std::string_view(line.data(), line.size()));
      EXPECT_TRUE(event.ok()) << event.status();
      if (event.ok()) forms.push_back(Stored(*event));
    }
  }
  EXPECT_GT(forms.size(), 10u);
  const auto* payload = v1::Event::descriptor()->FindOneofByName("payload");
  for (int i = 0; i < payload->field_count(); ++i) {
    v1::Event event;
    event.set_event_id("0b0e8d4e-6a53-4f4e-9a55-3c1d7f1e2a90");
    event.set_case_id("CASE-1");
    event.set_source("test");
    google::protobuf::Message* m =
        event.GetReflection()->MutableMessage(&event, payload->field(i));
    if (auto* request = dynamic_cast<v1::DocumentRequestSent*>(m)) {
      request->set_request_id("REQ-1");
      request->add_items("passport");
    }
    forms.push_back(Stored(event));
  }
  return forms;
}

TEST(EventSummaryTest, TheStoredFormIsReadFromTheWireAsAParseReadsIt) {
  int requests = 0;
  for (const std::string& bytes : StoredForms()) {
    EXPECT_EQ(Summarized(bytes), Parsed(bytes));
    EXPECT_TRUE(ReadFromTheWire(bytes)) << Parsed(bytes);
    const std::string summary = Summarized(bytes);
    if (summary.find("|27|") != std::string::npos && summary.back() != '|') {
      ++requests;
    }
  }
  EXPECT_EQ(requests, 4);  // three in the examples, one of every kind
}

// A length-delimited field: its tag as a varint, a one-byte length, the
// contents.
std::string Field(int number, std::string_view contents) {
  std::string out;
  for (uint32_t tag = static_cast<uint32_t>(number) << 3 | 2;; tag >>= 7) {
    out.push_back(static_cast<char>(tag < 0x80 ? tag : (tag & 0x7f) | 0x80));
    if (tag < 0x80) break;
  }
  out.push_back(static_cast<char>(contents.size()));
  out.append(contents);
  return out;
}

TEST(EventSummaryTest, OtherFormsGetWhatAParseGives) {
  const std::string request_a = Field(1, "REQ-A");
  const std::string request_b = Field(1, "REQ-B");
  const std::vector<std::pair<std::string, std::string>> forms = {
      {"a case id given twice: the last", Field(2, "C-1") + Field(2, "C-2")},
      {"two payloads: the last",
       Field(2, "C") + Field(27, request_a) + Field(20, "")},
      {"a request given twice: merged",
       Field(2, "C") + Field(27, request_a) + Field(27, Field(8, "x"))},
      {"its request id given twice", Field(27, request_a + request_b)},
      {"a case id as a varint: unknown", std::string("\x10\x05", 2)},
      {"a request as a varint: unknown", std::string("\xd8\x01\x05", 3)},
      {"an unknown group", std::string("\x0b\x08\x01\x0c", 4) + Field(2, "C")},
      {"a group not closed", std::string("\x0b\x08\x01", 3)},
      {"a length beyond the end", std::string("\x12\x05"
                                              "C",
                                              3)},
      {"field number 0", std::string("\x02\x00", 2)},
      {"wire type 7", std::string("\x0f\x00", 2)},
      {"a truncated varint", std::string("\x08\x80", 2)},
      // Field number 2^32 + 2: beyond 2^29 - 1, not case_id cut to 32 bits.
      {"a tag beyond 32 bits", std::string("\x92\x80\x80\x80\x80\x01\x01"
                                           "C",
                                           8)},
      {"a request whose bytes do not parse", Field(27, "\x0a\x09")},
      {"a case id that is not UTF-8, twice",
       Field(2, "\xff") + Field(2, "\xfe")},
  };
  for (const auto& [what, bytes] : forms) {
    EXPECT_EQ(Summarized(bytes), Parsed(bytes)) << what;
  }
  EXPECT_EQ(Parsed(forms[0].second), "|C-2|0|");
  EXPECT_EQ(Parsed(forms[2].second), "|C|27|REQ-A");
  EXPECT_EQ(Parsed(forms[3].second), "||27|REQ-B");
  EXPECT_FALSE(ReadFromTheWire(forms[0].second));
}

// What the summary does not promise: a nested message other than a
// request's is not read, so bytes a parse refuses there go unnoticed.
TEST(EventSummaryTest, NestedMessagesOtherThanARequestAreNotRead) {
  const std::string bytes = Field(2, "C") + Field(4, "\x0a\x09");  // actor
  EXPECT_EQ(Parsed(bytes), "does not parse");
  EXPECT_EQ(Summarized(bytes), "|C|0|");
}

// Random changes to stored events: wherever a parse succeeds the summary is
// the parse's, and a summary is refused only where a parse fails.
TEST(EventSummaryTest, AlteredBytesAreSummarizedAsTheyParse) {
  std::mt19937 random(20261205);
  const std::vector<std::string> forms = StoredForms();
  int parsed = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string bytes = forms[random() % forms.size()];
    for (int changes = 1 + random() % 3; changes > 0; --changes) {
      const size_t at = random() % bytes.size();
      switch (random() % 3) {
        case 0:
          bytes[at] = static_cast<char>(random());
          break;
        case 1:
          bytes.erase(at, 1 + random() % 4);
          break;
        default:
          bytes.insert(at, 1, static_cast<char>(random()));
      }
      if (bytes.empty()) bytes.push_back('x');
    }
    // Where the parse fails the summary may still be given (nested bytes
    // are not read); nothing is asserted there.
    const std::string expected = Parsed(bytes);
    if (expected == "does not parse") continue;
    ++parsed;
    ASSERT_EQ(Summarized(bytes), expected) << absl::CEscape(bytes);
  }
  EXPECT_GT(parsed, 1000);
}

}  // namespace
}  // namespace caseledger::internal
