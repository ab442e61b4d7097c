// The syntactic checks that every appended event passes through: each case
// names an address the check must accept or refuse, and why.
#include "ledger/event_validation.h"

#include <string>

#include "gtest/gtest.h"
#include "ledger/recorded_event.h"

namespace caseledger {
namespace {

struct AddressCase {
  std::string address;
  bool valid;
};

class EmailAddressTest : public testing::TestWithParam<AddressCase> {};

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
                    true}));

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
