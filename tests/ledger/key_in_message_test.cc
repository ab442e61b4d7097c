// A message that carries the ledger's private key is never stored: as the
// PEM file, as its raw bytes, or attached to an email in base64 (which an
// outside reading stored, and a bundle then disclosed).
#include "ledger/internal/key_in_message.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "ledger/base64.h"
#include "ledger/checkpoint.h"

namespace caseledger::internal {
namespace {

std::string PemOf(const SigningKey& key) {
  absl::StatusOr<std::string> pem = key.PrivateKeyText();
  EXPECT_TRUE(pem.ok()) << pem.status();
  return pem.ok() ? *pem : "";
}

// The key's DER bytes, from the one line of base64 its PEM holds.
absl::StatusOr<std::string> DerOf(const std::string& pem) {
  const size_t begin = pem.find('\n') + 1;
  return Base64Decode(pem.substr(begin, pem.find('\n', begin) - begin), "body");
}

// The base64 of `bytes` in lines of 76 characters, as MIME writes it.
std::string MimeBase64(const std::string& bytes) {
  const std::string text = Base64Encode(bytes);
  std::string out;
  for (size_t i = 0; i < text.size(); i += 76) {
    absl::StrAppend(&out, text.substr(i, 76), "\r\n");
  }
  return out;
}

std::string Email(const std::string& attachment_part) {
  return absl::StrCat(
      "From: officer@office.example\r\nTo: it@office.example\r\n"
      "Subject: the key\r\nMIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n"
      "Content-Type: text/plain\r\n\r\nHere it is.\r\n--b\r\n"
      "Content-Type: application/octet-stream; name=\"signing-key.pem\"\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\n",
      attachment_part, "--b--\r\n");
}

class KeyInMessageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<SigningKey> key = SigningKey::Generate("test.example/log");
    ASSERT_TRUE(key.ok()) << key.status();
    pem_ = PemOf(*key);
    absl::StatusOr<std::string> der = DerOf(pem_);
    ASSERT_TRUE(der.ok()) << der.status();
    der_ = *der;
    seed_ = der_.substr(der_.size() - 32);
  }
  std::string pem_, der_, seed_;
};

TEST_F(KeyInMessageTest, TheKeyIsFoundHoweverItIsCarried) {
  EXPECT_TRUE(CarriesPrivateKey(pem_, pem_));
  EXPECT_TRUE(CarriesPrivateKey(Email(MimeBase64(pem_)), pem_));
  EXPECT_TRUE(CarriesPrivateKey(Email(MimeBase64(der_)), pem_));
  EXPECT_TRUE(CarriesPrivateKey(der_, pem_));
  EXPECT_TRUE(CarriesPrivateKey(absl::StrCat("x", seed_, "y"), pem_));
  EXPECT_TRUE(CarriesPrivateKey(Base64Encode(seed_), pem_));
  // A run of base64 that begins with the word before the encoded part
  // ("base64" then a blank line) is read from each of its first characters.
  for (const char* before : {"base64", "abc", "ab", "a"}) {
    EXPECT_TRUE(CarriesPrivateKey(
        absl::StrCat("encoded as ", before, "\r\n\r\n", MimeBase64(pem_)),
        pem_))
        << before;
  }
}

// Shapes a mail program gives base64 text, which a run of it skips, as a
// MIME decoder does (found by a review: each of these was stored).
TEST_F(KeyInMessageTest, TheKeyIsFoundInTheShapesMailGivesIt) {
  const std::string lines = MimeBase64(pem_);
  auto each_line = [&](const std::string& before, const std::string& after) {
    std::string out;
    size_t start = 0;
    for (size_t end; (end = lines.find("\r\n", start)) != std::string::npos;
         start = end + 2) {
      absl::StrAppend(&out, before, lines.substr(start, end - start), after,
                      "\r\n");
    }
    return out;
  };
  EXPECT_TRUE(CarriesPrivateKey(Email(each_line("", "  ")), pem_));
  EXPECT_TRUE(CarriesPrivateKey(Email(each_line("\t", "")), pem_));
  EXPECT_TRUE(CarriesPrivateKey(each_line("> ", ""), pem_));
  EXPECT_TRUE(CarriesPrivateKey(each_line("> > ", ""), pem_));
  // Quoted-printable's soft line breaks inside the base64 of the key file.
  EXPECT_TRUE(CarriesPrivateKey(each_line("", "="), pem_));
  // ... and with the bare line feeds of a message stored on Unix.
  std::string unix_lines;
  for (char c : each_line("", "=")) {
    if (c != '\r') unix_lines.push_back(c);
  }
  EXPECT_TRUE(CarriesPrivateKey(unix_lines, pem_));
  // The PEM itself, quoted in a reply.
  std::string quoted;
  for (char c : pem_) {
    quoted.push_back(c);
    if (c == '\n') quoted += "> ";
  }
  EXPECT_TRUE(CarriesPrivateKey("> " + quoted, pem_));
  // A message forwarded as an attachment, the key attached to it: base64
  // inside base64 (found by a second review).
  const std::string forwarded = Email(MimeBase64(pem_));
  EXPECT_TRUE(CarriesPrivateKey(Email(MimeBase64(forwarded)), pem_));
  // Its body in Japanese: UTF-8 beyond ASCII is text too (found by a
  // review: only ASCII was).
  std::string japanese;
  for (int i = 0; i < 300; ++i)
    japanese += "\u66f8\u985e\u3092\u9001\u3063\u3066";
  const std::string forwarded_jp = absl::StrCat(
      "Subject: Fwd\r\n\r\n", japanese, "\r\n", Email(MimeBase64(pem_)));
  EXPECT_TRUE(CarriesPrivateKey(Email(MimeBase64(forwarded_jp)), pem_));
  // The seed in URL-safe base64.
  std::string url = Base64Encode(seed_);
  for (char& c : url) c = c == '+' ? '-' : c == '/' ? '_' : c;
  EXPECT_TRUE(CarriesPrivateKey(absl::StrCat("token: ", url, "\n"), pem_));
  // The fixture's seed holds a '+' or a '/' in base64 only now and then:
  // keys are drawn until one holds both (about one in four does).
  std::string pem, seed_text;
  for (int i = 0; i < 1000 && !(absl::StrContains(seed_text, '+') &&
                                absl::StrContains(seed_text, '/'));
       ++i) {
    absl::StatusOr<SigningKey> key = SigningKey::Generate("test.example/log");
    ASSERT_TRUE(key.ok()) << key.status();
    pem = PemOf(*key);
    absl::StatusOr<std::string> der = DerOf(pem);
    ASSERT_TRUE(der.ok()) << der.status();
    seed_text = Base64Encode(der->substr(der->size() - 32));
  }
  ASSERT_TRUE(absl::StrContains(seed_text, '+') &&
              absl::StrContains(seed_text, '/'))
      << seed_text;
  for (char& c : seed_text) c = c == '+' ? '-' : c == '/' ? '_' : c;
  EXPECT_TRUE(CarriesPrivateKey(absl::StrCat("token: ", seed_text, "\n"), pem));
}

TEST_F(KeyInMessageTest, OtherMessagesAndOtherKeysPass) {
  std::string attachment;
  for (int i = 0; i < 20000; ++i)
    attachment.push_back(static_cast<char>(i * 7));
  EXPECT_FALSE(CarriesPrivateKey(Email(MimeBase64(attachment)), pem_));
  EXPECT_FALSE(
      CarriesPrivateKey("Subject: a\r\n\r\nDocuments, please.\r\n", pem_));
  // Ordinary text, read as one long run of base64 with its spaces skipped.
  std::string letter;
  for (int i = 0; i < 2000; ++i) {
    absl::StrAppend(&letter, "Dear applicant, please send the documents ", i,
                    " > quoted = text\r\n");
  }
  EXPECT_FALSE(CarriesPrivateKey(letter, pem_));
  absl::StatusOr<SigningKey> other = SigningKey::Generate("other.example/log");
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(CarriesPrivateKey(Email(MimeBase64(PemOf(*other))), pem_));
  // The public key is no secret.
  EXPECT_FALSE(CarriesPrivateKey(Email(MimeBase64(other->public_key())), pem_));
}

}  // namespace
}  // namespace caseledger::internal
