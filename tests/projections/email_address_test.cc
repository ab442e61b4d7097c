// Addresses compare as one mailbox whatever the spelling of an
// internationalized domain: the office records what the applicant wrote,
// mail software may carry the ASCII form.
#include "projections/internal/email_address.h"

#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "projections/internal/lower_case.h"

namespace caseledger::projections::internal {
namespace {

using ::testing::Optional;

TEST(PunycodeTest, EncodesAsRfc3492) {
  // RFC 3492 §7.1, samples (A), (B), (J) and (L); basic code points keep
  // their case.
  EXPECT_THAT(Punycode("\u0644\u064a\u0647\u0645\u0627\u0628\u062a\u0643"
                       "\u0644\u0645\u0648\u0634\u0639\u0631\u0628\u064a"
                       "\u061f"),
              Optional(std::string("egbpdaj6bu4bxfgehfvwxn")));
  EXPECT_THAT(Punycode("\u4ed6\u4eec\u4e3a\u4ec0\u4e48\u4e0d\u8bf4\u4e2d"
                       "\u6587"),
              Optional(std::string("ihqwcrb4cv8a8dqg056pqjye")));
  EXPECT_THAT(
      Punycode("Porqu\u00e9nopuedensimplementehablarenEspa\u00f1ol"),
      Optional(std::string("PorqunopuedensimplementehablarenEspaol-fmd56a")));
  EXPECT_THAT(Punycode("3\u5e74B\u7d44\u91d1\u516b\u5148\u751f"),
              Optional(std::string("3B-ww4c5e180e575a65lsy2b")));
  // Domains: müller, münchen, and IANA's test domain 例子.测试.
  EXPECT_THAT(Punycode("m\u00fcller"), Optional(std::string("mller-kva")));
  EXPECT_THAT(Punycode("m\u00fcnchen"), Optional(std::string("mnchen-3ya")));
  EXPECT_THAT(Punycode("\u4f8b\u5b50"), Optional(std::string("fsqu00a")));
  EXPECT_THAT(Punycode("\u6d4b\u8bd5"), Optional(std::string("0zwm56d")));
  EXPECT_THAT(Punycode("ascii"), Optional(std::string("ascii-")));
  EXPECT_EQ(Punycode("m\xfcller"), std::nullopt);  // Latin-1, not UTF-8
}

TEST(NormalizeAddressTest, GivesOneFormForEachMailbox) {
  EXPECT_EQ(NormalizeAddress("  Maria <Maria.Santos@Mail.Example> "),
            "maria.santos@mail.example");
  EXPECT_EQ(NormalizeAddress("anna@m\u00fcller.de"), "anna@xn--mller-kva.de");
  EXPECT_EQ(NormalizeAddress("Anna@M\u00fcller.DE"), "anna@xn--mller-kva.de");
  EXPECT_EQ(NormalizeAddress("anna@XN--MLLER-KVA.de"), "anna@xn--mller-kva.de");
  EXPECT_EQ(NormalizeAddress("\u674e@\u4f8b\u5b50.\u6d4b\u8bd5"),
            "\u674e@xn--fsqu00a.xn--0zwm56d");
  // The local part is left as written but for ASCII case: only the domain
  // has an ASCII spelling.
  EXPECT_EQ(NormalizeAddress("Jos\u00e9@correo.example"),
            "jos\u00e9@correo.example");
  EXPECT_NE(NormalizeAddress("anna@m\u00fcller.de"),
            NormalizeAddress("anna@m\u00f6ller.de"));
  // An accent typed as a combining mark, and upper-case accented letters,
  // are the same address (found by an audit: both gave a false FAIL).
  EXPECT_EQ(NormalizeAddress("anna@mu\u0308ller.de"), "anna@xn--mller-kva.de");
  EXPECT_EQ(NormalizeAddress("anna@M\u00dcLLER.de"), "anna@xn--mller-kva.de");
  EXPECT_EQ(NormalizeAddress("Jose\u0301@correo.example"),
            "jos\u00e9@correo.example");
  EXPECT_EQ(NormalizeAddress("\u0418\u0412\u0410\u041d@\u043f\u043e\u0447"
                             "\u0442\u0430.\u0420\u0424"),
            NormalizeAddress("\u0438\u0432\u0430\u043d@\u043f\u043e\u0447"
                             "\u0442\u0430.\u0440\u0444"));
}

TEST(NormalizeAddressTest, WhiteSpaceInsideTheAngleBracketsIsDropped) {
  EXPECT_EQ(NormalizeAddress("Maria < Maria.Santos@Mail.Example >"),
            "maria.santos@mail.example");
}

// Any NFC, not only French's letters (found by a reading against domain.md
// §4): Vietnamese's ệ written with its two marks in either order.
TEST(EmailAddressTest, AddressesCompareInNfc) {
  EXPECT_EQ(NormalizeAddress("nguy\u1ec5n@mail.example"),
            NormalizeAddress("nguye\u0302\u0303n@mail.example"));
  EXPECT_EQ(NormalizeAddress("ti\u1ec7p@mail.example"),
            NormalizeAddress("tie\u0323\u0302p@mail.example"));
  // NFC's ASCII is lowered too: the Kelvin sign is "K" (found by a review).
  EXPECT_EQ(NormalizeAddress("\u212aaur@example.com"), "kaur@example.com");
}

TEST(LowerCaseTest, LowersTheLettersItKnows) {
  EXPECT_EQ(LowerCase(0xC9), 0xE9u);    // É
  EXPECT_EQ(LowerCase(0xD7), 0xD7u);    // × is no letter
  EXPECT_EQ(LowerCase(0xDF), 0xDFu);    // ß has no simple upper case
  EXPECT_EQ(LowerCase(0x141), 0x142u);  // Ł
  EXPECT_EQ(LowerCase(0x142), 0x142u);  // ł
  EXPECT_EQ(LowerCase(0x160), 0x161u);  // Š
  EXPECT_EQ(LowerCase(0x17D), 0x17Eu);  // Ž
  EXPECT_EQ(LowerCase(0x178), 0xFFu);   // Ÿ
  EXPECT_EQ(LowerCase(0x3A3), 0x3C3u);  // Σ
  EXPECT_EQ(LowerCase(0x416), 0x436u);  // Ж
  EXPECT_EQ(LowerCase(0x401), 0x451u);  // Ё
  EXPECT_EQ(LowerCase(0x4F8B), 0x4F8Bu);
}

}  // namespace
}  // namespace caseledger::projections::internal
