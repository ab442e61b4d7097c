#include "ledger/checkpoint.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"
#include "ledger/base64.h"
#include "ledger/merkle.h"
#include "ledger/sha256.h"
#include "tests/testing/test_util.h"

namespace caseledger {
namespace {

// This Abseil is built with its own string_view type, distinct from std's.
bool Contains(absl::string_view haystack, std::string_view needle) {
  return haystack.find(absl::string_view(needle.data(), needle.size())) !=
         absl::string_view::npos;
}
std::string Escaped(std::string_view s) {
  return absl::CHexEscape(absl::string_view(s.data(), s.size()));
}

// Expects `expr` to fail with `code` and a message containing `part`.
#define EXPECT_ERROR(expr, want_code, part)                                 \
  do {                                                                      \
    const absl::Status expect_error_ = testing::AsStatus(expr);             \
    EXPECT_EQ(expect_error_.code(), want_code) << expect_error_.ToString(); \
    EXPECT_TRUE(Contains(expect_error_.message(), part))                    \
        << "message \"" << expect_error_.message() << "\" lacks \"" << part \
        << "\"";                                                            \
  } while (false)

constexpr char kDash[] = "\xE2\x80\x94 ";
constexpr size_t kDashSize = sizeof(kDash) - 1;

// Verifier keys and notes from golang.org/x/mod/sumdb/note's tests and from
// sum.golang.org, an independent implementation of the same formats.
constexpr std::string_view kPeterKey =
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
constexpr std::string_view kPeterNote =
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
    "\n"
    "\xE2\x80\x94 PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGU"
    "gYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
constexpr std::string_view kSumdbKey =
    "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8";

struct SumdbCheckpoint {
  uint64_t size;
  const char* root;
  const char* signature;
};
constexpr SumdbCheckpoint kSumdbCheckpoints[] = {
    {63512409, "F7eHRPqN/cqPtqti14NKdGGaI1Giw8coWP3KxihFZbg=",
     "Az3gri1OBHKT87Xj8UXU8zjoHGy/X+7Nl94f8TZkELVaasolmGApUsWqwVG9vE6hgqYb/ph/"
     "w2vdkLIVRH7bMB/FPQ4="},
    {3784599, "7uvxIZ67TZygcq/AehTD8iHYt81Ih+Zl2Y7vXZbfszQ=",
     "Az3grn972wXskjQrsZhVGc93fTU2uOsmSTiId1Wn1lxDCup5z4ggl1/"
     "4gaUqOkMa6cMbYvjB7hn7yemNr7Zqanol/go="},
    {15368405, "/g9am3I6YWNKaZX/jkne1fqd9zEyjss+JXyPXG0WfkY=",
     "Az3grqJGUaSGukG9p8nI2vKgiFn7qGHxn0W+mrwyI6Gz3F0t1J3LzmWk/"
     "p96Ybf295EjwdSwlzgijq5WA9d1Ded7owM="},
};

std::string SumdbNote(const SumdbCheckpoint& c) {
  return absl::StrCat("go.sum database tree\n", c.size, "\n", c.root, "\n\n",
                      kDash, "sum.golang.org ", c.signature, "\n");
}

class CheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(SigningKey key, SigningKey::Generate(kOrigin));
    key_ = std::make_unique<SigningKey>(std::move(key));
    ASSERT_OK_AND_ASSIGN(verifier_, ParseVerifierKey(key_->VerifierKey()));
    checkpoint_.origin = kOrigin;
    checkpoint_.tree_size = 42;
    checkpoint_.root_hash = Sha256("root");
  }

  // A signed note over an arbitrary body, assembled by hand so tests can
  // sign bodies SignCheckpoint would never produce.
  static std::string NoteOver(std::string_view body, const SigningKey& key,
                              uint32_t key_id) {
    absl::StatusOr<std::string> sig = key.Sign(body);
    EXPECT_TRUE(sig.ok()) << sig.status();
    return absl::StrCat(std::string(body), "\n",
                        SignatureLine(key.name(), KeyIdBytes(key_id) + *sig));
  }
  // A key id as a signature line carries it: 4 bytes, big-endian.
  static std::string KeyIdBytes(uint32_t key_id) {
    return {static_cast<char>(key_id >> 24), static_cast<char>(key_id >> 16),
            static_cast<char>(key_id >> 8), static_cast<char>(key_id)};
  }
  // The signature line `key` gives the fixture's checkpoint.
  std::string SignatureLineOf(const SigningKey& key) const {
    absl::StatusOr<std::string> note = SignCheckpoint(checkpoint_, key);
    EXPECT_TRUE(note.ok()) << note.status();
    return note.value_or("").substr(CheckpointBody(checkpoint_).size() + 1);
  }
  // A line under our name but another key id: another key's.
  static std::string RotatedLine() {
    return SignatureLine(
        kOrigin, std::string("\x01\x02\x03\x04", 4) + std::string(64, 's'));
  }
  std::string NoteOver(std::string_view body) const {
    return NoteOver(body, *key_, verifier_.key_id);
  }
  static std::string SignatureLine(std::string_view name,
                                   std::string_view id_and_signature) {
    return absl::StrCat(kDash, std::string(name), " ",
                        Base64Encode(id_and_signature), "\n");
  }

  static void WriteFile(const std::filesystem::path& path,
                        std::string_view data) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    ASSERT_TRUE(out.good()) << path;
  }
  static std::string ReadFile(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  // Runs a shell command; returns its exit code and combined output.
  static std::pair<int, std::string> Run(const std::string& command) {
    std::string output;
    FILE* pipe = popen((command + " 2>&1").c_str(), "r");
    if (pipe == nullptr) return {-1, "popen failed"};
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) output.append(buf, n);
    const int status = pclose(pipe);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
  }
  static bool HaveOpenSslCli() { return Run("openssl version").first == 0; }

  static constexpr char kOrigin[] = "example.com/caseledger/test";
  std::unique_ptr<SigningKey> key_;
  VerifierKey verifier_;
  Checkpoint checkpoint_;
};

void ExpectSameCheckpoint(const Checkpoint& got, const Checkpoint& want) {
  EXPECT_EQ(got.origin, want.origin);
  EXPECT_EQ(got.tree_size, want.tree_size);
  EXPECT_EQ(got.root_hash, want.root_hash);
}

// --- Keys ---------------------------------------------------------------

TEST_F(CheckpointTest, GeneratedKeyHasRawEd25519Sizes) {
  EXPECT_EQ(key_->name(), kOrigin);
  EXPECT_EQ(key_->public_key().size(), 32u);
  ASSERT_OK_AND_ASSIGN(const std::string sig, key_->Sign("message"));
  EXPECT_EQ(sig.size(), 64u);
}

TEST_F(CheckpointTest, GeneratedKeysDiffer) {
  ASSERT_OK_AND_ASSIGN(const SigningKey other, SigningKey::Generate(kOrigin));
  EXPECT_NE(other.public_key(), key_->public_key());
}

TEST_F(CheckpointTest, GenerateRejectsInvalidKeyNames) {
  for (std::string_view name :
       {std::string_view(""), std::string_view("a b"), std::string_view("a+b"),
        std::string_view("a\tb"), std::string_view("a\nb"),
        std::string_view("a\xC2\xA0z"),      // U+00A0 NO-BREAK SPACE
        std::string_view("a\xE3\x80\x80z"),  // U+3000 IDEOGRAPHIC SPACE
        std::string_view("a\xC2\x85z"),      // U+0085 NEXT LINE
        std::string_view("a\xE1\x9A\x80z"),  // U+1680 OGHAM SPACE MARK
        std::string_view("a\xE2\x80\x80z"),  // U+2000 EN QUAD
        std::string_view("a\xE2\x80\x89z"),  // U+2009 THIN SPACE
        std::string_view("a\xE2\x80\x8Az"),  // U+200A HAIR SPACE
        std::string_view("a\xE2\x80\xA8z"),  // U+2028 LINE SEPARATOR
        std::string_view("a\xE2\x80\xA9z"),  // U+2029 PARAGRAPH SEPARATOR
        std::string_view("a\xE2\x80\xAFz"),  // U+202F NARROW NO-BREAK SPACE
        std::string_view("a\xE2\x81\x9Fz"),  // U+205F MEDIUM MATHEMATICAL SPACE
        std::string_view("a\x01z"), std::string_view("\xFF"),
        std::string_view("\xC0\xAF")}) {  // overlong '/'
    EXPECT_EQ(SigningKey::Generate(std::string(name)).status().code(),
              absl::StatusCode::kInvalidArgument)
        << Escaped(name);
  }
  ASSERT_OK(SigningKey::Generate("caf\xC3\xA9.example/\xE2\x80\x94log"));
}

TEST_F(CheckpointTest, PrivateKeyTextRoundTripKeepsTheKey) {
  ASSERT_OK_AND_ASSIGN(const std::string pem, key_->PrivateKeyText());
  EXPECT_TRUE(absl::StartsWith(pem, "-----BEGIN PRIVATE KEY-----\n"))
      << "PKCS#8";
  ASSERT_OK_AND_ASSIGN(const SigningKey restored,
                       SigningKey::FromPrivateKeyText(kOrigin, pem));
  EXPECT_EQ(restored.public_key(), key_->public_key());
  EXPECT_EQ(restored.VerifierKey(), key_->VerifierKey());
  ASSERT_OK_AND_ASSIGN(const std::string note,
                       SignCheckpoint(checkpoint_, restored));
  ASSERT_OK(VerifyCheckpoint(note, verifier_));
}

TEST_F(CheckpointTest, FromPrivateKeyTextRejectsWhatIsNotAnEd25519Key) {
  ASSERT_OK_AND_ASSIGN(const std::string pem, key_->PrivateKeyText());
  for (const std::string& text :
       {std::string(""), std::string("not a key"),
        absl::StrReplaceAll(pem, {{"PRIVATE KEY", "PUBLIC KEY"}}),
        pem.substr(0, pem.size() / 2)}) {
    EXPECT_EQ(SigningKey::FromPrivateKeyText(kOrigin, text).status().code(),
              absl::StatusCode::kInvalidArgument)
        << text;
  }
  EXPECT_EQ(SigningKey::FromPrivateKeyText("bad name", pem).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(CheckpointTest, FromPrivateKeyTextRefusesOtherAlgorithmsAndPasswords) {
  if (!HaveOpenSslCli()) GTEST_SKIP() << "no openssl command line tool";
  const testing::TempFolder folder;
  const std::filesystem::path dir = folder.path();
  ASSERT_EQ(Run(absl::StrCat("openssl genpkey -algorithm EC -pkeyopt "
                             "ec_paramgen_curve:P-256 -out '",
                             (dir / "ec.pem").string(), "'"))
                .first,
            0);
  EXPECT_ERROR(
      SigningKey::FromPrivateKeyText(kOrigin, ReadFile(dir / "ec.pem")),
      absl::StatusCode::kInvalidArgument, "not an Ed25519 key");
  // Must fail at once rather than prompt for the password.
  ASSERT_EQ(Run(absl::StrCat("openssl genpkey -algorithm ed25519 -aes256 "
                             "-pass pass:secret -out '",
                             (dir / "enc.pem").string(), "'"))
                .first,
            0);
  EXPECT_EQ(SigningKey::FromPrivateKeyText(kOrigin, ReadFile(dir / "enc.pem"))
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(CheckpointTest, MovedKeyKeepsSigningAndMovedFromKeyFailsCleanly) {
  SigningKey moved(std::move(*key_));
  ASSERT_OK_AND_ASSIGN(const std::string note,
                       SignCheckpoint(checkpoint_, moved));
  ASSERT_OK(VerifyCheckpoint(note, verifier_));
  // The moved-from key is valid but empty: errors, never a crash.
  EXPECT_EQ(key_->Sign("x").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(key_->PrivateKeyText().status().code(),
            absl::StatusCode::kFailedPrecondition);
  *key_ = std::move(moved);
  ASSERT_OK_AND_ASSIGN(const std::string again,
                       SignCheckpoint(checkpoint_, *key_));
  ASSERT_OK(VerifyCheckpoint(again, verifier_));
}

// The header promises a SigningKey may be shared between threads.
TEST_F(CheckpointTest, SharedKeySignsFromSeveralThreads) {
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([this, t, &failures] {
      Checkpoint c = checkpoint_;
      for (int i = 0; i < 50; ++i) {
        c.tree_size = static_cast<uint64_t>(t * 1000 + i + 1);
        absl::StatusOr<std::string> note = SignCheckpoint(c, *key_);
        absl::StatusOr<Checkpoint> got =
            note.ok() ? VerifyCheckpoint(*note, verifier_)
                      : absl::StatusOr<Checkpoint>(note.status());
        if (!got.ok() || got->tree_size != c.tree_size) ++failures[t];
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures, std::vector<int>(4, 0));
}

// --- Verifier keys --------------------------------------------------------

TEST_F(CheckpointTest, VerifierKeyTextRoundTrips) {
  const std::string text = key_->VerifierKey();
  ASSERT_OK_AND_ASSIGN(const VerifierKey parsed, ParseVerifierKey(text));
  EXPECT_EQ(parsed.name, kOrigin);
  EXPECT_EQ(parsed.public_key, key_->public_key());
  const std::string formatted =
      absl::StrCat(parsed.name, "+", absl::Hex(parsed.key_id, absl::kZeroPad8),
                   "+", Base64Encode(absl::StrCat("\x01", parsed.public_key)));
  EXPECT_EQ(formatted, text);
  ASSERT_OK_AND_ASSIGN(const VerifierKey spaced,
                       ParseVerifierKey(absl::StrCat("  ", text, "\n")));
  EXPECT_EQ(spaced.key_id, parsed.key_id);
}

TEST_F(CheckpointTest, KeyIdIsTruncatedSha256OfNameTypeAndKey) {
  const Sha256Digest d =
      Sha256(absl::StrCat(kOrigin, "\n\x01"), key_->public_key());
  const uint32_t want = uint32_t{d[0]} << 24 | uint32_t{d[1]} << 16 |
                        uint32_t{d[2]} << 8 | uint32_t{d[3]};
  EXPECT_EQ(verifier_.key_id, want);
}

// Known answers from golang.org/x/mod/sumdb/note, C2SP and
// transparency-dev: parsing recomputes the key id and must agree.
TEST_F(CheckpointTest, KnownAnswerKeyIds) {
  const std::pair<std::string_view, uint32_t> cases[] = {
      {kPeterKey, 0xc74f20a3},
      {"EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop",
       0xaf0cfe78},
      {"example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
       0x530d903a},
      {kSumdbKey, 0x033de0ae},
      // The base64 key holds a '+' of its own.
      {"TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6",
       0x7997405c},
  };
  for (const auto& [text, id] : cases) {
    ASSERT_OK_AND_ASSIGN(const VerifierKey key, ParseVerifierKey(text));
    EXPECT_EQ(key.key_id, id) << text;
    EXPECT_EQ(key.public_key.size(), 32u);
    EXPECT_EQ(key.name, text.substr(0, text.find('+')));
  }
}

TEST_F(CheckpointTest, ParseVerifierKeyRejectsMalformedKeys) {
  const std::string pk = std::string(kPeterKey.substr(22));
  const struct {
    std::string text;
    std::string_view error;
  } cases[] = {
      {"", "is not <name>"},
      {"PeterNeumann", "is not <name>"},
      {"PeterNeumann+c74f20a3", "is not <name>"},
      {"+c74f20a3+" + pk, "name is empty"},
      {"Peter+Neumann+c74f20a3+" + pk, "lowercase hex"},
      {"Peter Neumann+c74f20a3+" + pk, "white space"},
      {"PeterNeumann+c74f20g3+" + pk, "lowercase hex"},
      {"PeterNeumann+C74F20A3+" + pk, "lowercase hex"},
      {"PeterNeumann+c74f20a+" + pk, "lowercase hex"},
      {"PeterNeumann+0c74f20a3+" + pk, "lowercase hex"},
      {"PeterNeumann+c74f20a4+" + pk, "does not match"},
      {"PeterNeumann+c74f20a3+", "signature type missing"},
      {"PeterNeumann+c74f20a3+" + pk.substr(0, pk.size() - 1), "multiple of 4"},
      {"PeterNeumann+c74f20a3+" + pk + "AAAA", "want 32"},
      {"PeterNeumann+c74f20a3+" + Base64Encode(std::string(32, 'k')), "0x6b"},
      {"PeterNeumann+c74f20a3+" +
           Base64Encode(std::string("\x02") + std::string(32, 'k')),
       "signature type 0x02"},
      {"PeterNeumann+c74f20a3+" +
           Base64Encode(std::string("\x01") + std::string(31, 'k')),
       "has 31 bytes"},
      // Two keys in one file (`caseledger key >> FILE` run twice).
      {std::string(kPeterKey) + "\n" + std::string(kSumdbKey) + "\n",
       "verifier key text holds more than one line; give the one line "
       "'caseledger key' prints"},
  };
  for (const auto& c : cases) {
    EXPECT_ERROR(ParseVerifierKey(c.text), absl::StatusCode::kInvalidArgument,
                 c.error);
  }
}

// As golang.org/x/mod/sumdb/note tests it: no part and no mangling of a
// valid key is itself a valid key.
TEST_F(CheckpointTest, EverySubstringAndByteIncrementOfAKeyIsRejected) {
  const std::string key(kPeterKey);
  for (size_t i = 0; i < key.size(); ++i) {
    for (size_t j = i + 1; j <= key.size(); ++j) {
      if (i == 0 && j == key.size()) continue;
      EXPECT_FALSE(ParseVerifierKey(key.substr(i, j - i)).ok())
          << key.substr(i, j - i);
    }
    std::string mangled = key;
    ++mangled[i];
    EXPECT_FALSE(ParseVerifierKey(mangled).ok()) << mangled;
  }
}

// --- Signing and verifying -------------------------------------------------

TEST_F(CheckpointTest, BodyFollowsTlogCheckpointLayout) {
  Checkpoint c;
  c.origin = "example.com/log";
  c.tree_size = 0;
  EXPECT_EQ(CheckpointBody(c),
            absl::StrCat("example.com/log\n0\n", std::string(43, 'A'), "=\n"));
  c.tree_size = 18446744073709551615u;
  c.root_hash.fill(0xff);
  EXPECT_EQ(CheckpointBody(c),
            absl::StrCat("example.com/log\n18446744073709551615\n",
                         std::string(42, '/'), "8=\n"));
}

TEST_F(CheckpointTest, SignThenVerifyRoundTrips) {
  ASSERT_OK_AND_ASSIGN(const std::string note,
                       SignCheckpoint(checkpoint_, *key_));
  const std::string body = CheckpointBody(checkpoint_);
  ASSERT_TRUE(
      absl::StartsWith(note, absl::StrCat(body, "\n", kDash, kOrigin, " ")))
      << note;
  ASSERT_TRUE(absl::EndsWith(note, "\n"));
  // The signature is base64 of the 4-byte key id and 64 signature bytes.
  EXPECT_EQ(note.size(), body.size() + 1 + kDashSize +
                             std::string_view(kOrigin).size() + 1 + 92 + 1);
  ASSERT_OK_AND_ASSIGN(const Checkpoint got, VerifyCheckpoint(note, verifier_));
  ExpectSameCheckpoint(got, checkpoint_);
  ASSERT_OK_AND_ASSIGN(const Checkpoint parsed, ParseCheckpointBody(note));
  ExpectSameCheckpoint(parsed, checkpoint_);
  ASSERT_OK_AND_ASSIGN(const Checkpoint bare, ParseCheckpointBody(body));
  ExpectSameCheckpoint(bare, checkpoint_);
}

TEST_F(CheckpointTest, EmptyAndLargestTreesRoundTrip) {
  for (uint64_t size :
       {uint64_t{0}, uint64_t{1}, uint64_t{18446744073709551615u}}) {
    checkpoint_.tree_size = size;
    // Only the empty tree's root is a root of size 0.
    if (size == 0) checkpoint_.root_hash = merkle::EmptyRoot();
    checkpoint_.origin = "go.sum database tree";  // spaces are fine here
    ASSERT_OK_AND_ASSIGN(const std::string note,
                         SignCheckpoint(checkpoint_, *key_));
    ASSERT_OK_AND_ASSIGN(const Checkpoint got,
                         VerifyCheckpoint(note, verifier_));
    ExpectSameCheckpoint(got, checkpoint_);
  }
}

TEST_F(CheckpointTest, SignCheckpointRefusesASizeZeroWithAnotherRoot) {
  checkpoint_.tree_size = 0;
  EXPECT_ERROR(SignCheckpoint(checkpoint_, *key_),
               absl::StatusCode::kInvalidArgument,
               "a checkpoint of size 0 has the empty tree's root");
}

TEST_F(CheckpointTest, SignCheckpointRefusesOriginsNoVerifierAccepts) {
  for (std::string_view origin :
       {std::string_view(""), std::string_view("a\nb"),
        std::string_view("a\rb"), std::string_view("a\x7f\x01"),
        std::string_view("\xFF")}) {
    checkpoint_.origin = std::string(origin);
    EXPECT_EQ(SignCheckpoint(checkpoint_, *key_).status().code(),
              absl::StatusCode::kInvalidArgument)
        << Escaped(origin);
  }
}

// Any statement is signed as a note, but only a body a verifier reads back
// whole: one ending in a newline, without an empty line (which would read as
// the end of the text) and without control characters.
TEST_F(CheckpointTest, SignNoteRefusesBodiesThatAreNotOneText) {
  const struct {
    std::string body;
    std::string_view error;
  } cases[] = {
      {"", "a note body must end with a newline"},
      {"statement", "a note body must end with a newline"},
      {"statement\n\nmore\n", "a note body cannot hold an empty line"},
      {"statement\n\n", "a note body cannot hold an empty line"},
      {"state\x01ment\n", "note body line 1: control character 0x01"},
  };
  for (const auto& c : cases) {
    EXPECT_ERROR(SignNote(c.body, *key_), absl::StatusCode::kInvalidArgument,
                 c.error);
  }
  ASSERT_OK_AND_ASSIGN(const std::string note,
                       SignNote("statement\nmore\n", *key_));
  ASSERT_OK_AND_ASSIGN(const std::string body, VerifyNote(note, verifier_));
  EXPECT_EQ(body, "statement\nmore\n");
}

// Another ledger of the same name (two made by `demo`) signs under that
// name with its own key: said, where it read as bearing no signature.
TEST_F(CheckpointTest, NoteSignedByAnotherKeyIsRefused) {
  ASSERT_OK_AND_ASSIGN(const SigningKey other, SigningKey::Generate(kOrigin));
  ASSERT_OK_AND_ASSIGN(const std::string note,
                       SignCheckpoint(checkpoint_, other));
  ASSERT_OK_AND_ASSIGN(const VerifierKey other_verifier,
                       ParseVerifierKey(other.VerifierKey()));
  EXPECT_ERROR(
      VerifyCheckpoint(note, verifier_), absl::StatusCode::kDataLoss,
      absl::StrFormat("no signature by %s (key id %08x), only by another key "
                      "of that name (key id %08x)",
                      kOrigin, verifier_.key_id, other_verifier.key_id));
  ASSERT_OK_AND_ASSIGN(const SigningKey renamed,
                       SigningKey::Generate("example.com/elsewhere"));
  ASSERT_OK_AND_ASSIGN(const std::string note2,
                       SignCheckpoint(checkpoint_, renamed));
  auto refused = VerifyCheckpoint(note2, verifier_);
  EXPECT_ERROR(refused, absl::StatusCode::kDataLoss, "no signature by");
  EXPECT_FALSE(absl::StrContains(refused.status().message(), "another key"))
      << refused.status();
}

TEST_F(CheckpointTest, ForgedLineWithOurNameAndIdIsDataLoss) {
  // Someone else's key and signature, labelled with our name and key id.
  ASSERT_OK_AND_ASSIGN(const SigningKey other, SigningKey::Generate(kOrigin));
  const std::string note =
      NoteOver(CheckpointBody(checkpoint_), other, verifier_.key_id);
  EXPECT_ERROR(VerifyCheckpoint(note, verifier_), absl::StatusCode::kDataLoss,
               "line 5: signature by");
}

TEST_F(CheckpointTest, SignatureLinesOfUnknownKeysAreIgnored) {
  ASSERT_OK_AND_ASSIGN(const SigningKey witness,
                       SigningKey::Generate("witness.example"));
  ASSERT_OK_AND_ASSIGN(const VerifierKey witness_key,
                       ParseVerifierKey(witness.VerifierKey()));
  const std::string body = CheckpointBody(checkpoint_);
  const std::string our_line = SignatureLineOf(*key_);
  const std::string their_line = SignatureLineOf(witness);
  // Same name as ours but another id: a different key, so ignored too.
  const std::string rotated = RotatedLine();
  // Our key id under another name: another key too (a key is its name and
  // its id together), so ignored rather than checked against ours.
  const std::string renamed = SignatureLine(
      "other.example", KeyIdBytes(verifier_.key_id) + std::string(64, 's'));
  for (const std::string& lines : {our_line + their_line, their_line + our_line,
                                   rotated + our_line + their_line + rotated,
                                   renamed + our_line + their_line}) {
    const std::string note = absl::StrCat(body, "\n", lines);
    ASSERT_OK(VerifyCheckpoint(note, verifier_));
    ASSERT_OK(VerifyCheckpoint(note, witness_key));
  }
}

// What VerifyNote skipped, for a caller to report (verify-bundle does): the
// other keys' lines, those of them under our name, and our line again.
TEST_F(CheckpointTest, VerifyNoteCountsTheLinesItSkipped) {
  ASSERT_OK_AND_ASSIGN(const SigningKey witness,
                       SigningKey::Generate("witness.example"));
  const std::string body = CheckpointBody(checkpoint_);
  const std::string our_line = SignatureLineOf(*key_);
  const std::string their_line = SignatureLineOf(witness);
  const std::string rotated = RotatedLine();
  SkippedSignatures skipped;
  ASSERT_OK_AND_ASSIGN(const std::string text,
                       VerifyNote(absl::StrCat(body, "\n", our_line, their_line,
                                               rotated, our_line),
                                  verifier_, &skipped));
  EXPECT_EQ(text, body);
  EXPECT_EQ(skipped.lines, 2u);
  EXPECT_EQ(skipped.under_its_name, 1u);
  EXPECT_EQ(skipped.repeats_of_its_line, 1u);
}

TEST_F(CheckpointTest, OneBadLineByOurKeySpoilsTheNote) {
  ASSERT_OK_AND_ASSIGN(const std::string note,
                       SignCheckpoint(checkpoint_, *key_));
  ASSERT_OK_AND_ASSIGN(const std::string wrong, key_->Sign("another text\n"));
  ASSERT_OK_AND_ASSIGN(
      const std::string id_and_sig,
      Base64Decode(
          note.substr(note.rfind(' ') + 1, note.size() - note.rfind(' ') - 2),
          "test"));
  const std::string bad_line =
      SignatureLine(kOrigin, id_and_sig.substr(0, 4) + wrong);
  EXPECT_ERROR(VerifyCheckpoint(note + bad_line, verifier_),
               absl::StatusCode::kDataLoss, "line 6: signature by");
  // A short signature under our name and id is tampering too.
  const std::string short_line =
      SignatureLine(kOrigin, id_and_sig.substr(0, 4) + "xyz");
  EXPECT_ERROR(VerifyCheckpoint(note + short_line, verifier_),
               absl::StatusCode::kDataLoss, "has 3 bytes");
}

TEST_F(CheckpointTest, EverySingleByteChangeIsRefused) {
  ASSERT_OK_AND_ASSIGN(const std::string note,
                       SignCheckpoint(checkpoint_, *key_));
  const size_t body_size = CheckpointBody(checkpoint_).size();
  for (size_t i = 0; i < note.size(); ++i) {
    for (unsigned char mask : {0x01, 0x02, 0x20, 0x40, 0x80, 0xff}) {
      std::string changed = note;
      changed[i] = static_cast<char>(changed[i] ^ mask);
      const absl::Status s = VerifyCheckpoint(changed, verifier_).status();
      EXPECT_TRUE(s.code() == absl::StatusCode::kDataLoss ||
                  s.code() == absl::StatusCode::kInvalidArgument)
          << "byte " << i << " ^ " << int{mask} << ": " << s;
      // A changed body that still parses as text must fail the signature.
      if (i < body_size && s.code() == absl::StatusCode::kInvalidArgument) {
        EXPECT_FALSE(absl::StrContains(s.message(), "checkpoint line")) << s;
      }
    }
    std::string removed = note;
    removed.erase(i, 1);
    EXPECT_FALSE(VerifyCheckpoint(removed, verifier_).ok()) << "without " << i;
    std::string inserted = note;
    inserted.insert(i, 1, 'A');
    EXPECT_FALSE(VerifyCheckpoint(inserted, verifier_).ok()) << "insert " << i;
  }
}

TEST_F(CheckpointTest, EveryProperPrefixIsRefused) {
  ASSERT_OK_AND_ASSIGN(const std::string note,
                       SignCheckpoint(checkpoint_, *key_));
  for (size_t n = 0; n < note.size(); ++n) {
    EXPECT_FALSE(VerifyCheckpoint(note.substr(0, n), verifier_).ok()) << n;
  }
}

// Random mutations: whatever the input, an error and no crash (the
// sanitizer builds make this meaningful).
TEST_F(CheckpointTest, RandomGarbageNeverVerifies) {
  ASSERT_OK_AND_ASSIGN(const std::string note,
                       SignCheckpoint(checkpoint_, *key_));
  std::mt19937 rng(20240611);
  for (int round = 0; round < 2000; ++round) {
    std::string s = note;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !s.empty(); ++e) {
      const size_t at = rng() % s.size();
      switch (rng() % 4) {
        case 0:
          s[at] = static_cast<char>(rng());
          break;
        case 1:
          s.erase(at, 1 + rng() % 8);
          break;
        case 2:
          s.insert(at, std::string(1 + rng() % 3, "\n=\xE2+ A"[rng() % 6]));
          break;
        default:
          s.resize(at);
      }
    }
    if (s == note) continue;
    EXPECT_FALSE(VerifyCheckpoint(s, verifier_).ok()) << Escaped(s);
    (void)ParseCheckpointBody(s);
  }
}

// --- Parsing --------------------------------------------------------------

TEST_F(CheckpointTest, MalformedBodiesNameTheLine) {
  const std::string root = Base64Encode(std::string(32, 'r'));
  const struct {
    std::string body;
    std::string_view error;
  } cases[] = {
      {"\n5\n" + root + "\n", "line 1: origin is empty"},
      {"o\n05\n" + root + "\n", "line 2: tree size \"05\" has a leading zero"},
      {"o\n00\n" + root + "\n", "line 2"},
      {"o\n+5\n" + root + "\n", "line 2: tree size \"+5\" is not a decimal"},
      {"o\n-5\n" + root + "\n", "line 2"},
      {"o\n 5\n" + root + "\n", "line 2"},
      {"o\n5 \n" + root + "\n", "line 2"},
      {"o\n0x5\n" + root + "\n", "line 2"},
      {"o\n18446744073709551616\n" + root + "\n", "does not fit in 64 bits"},
      {"o\n99999999999999999999\n" + root + "\n", "does not fit in 64 bits"},
      {"o\n5\n" + Base64Encode(std::string(31, 'r')) + "\n",
       "line 3: root hash has 31 bytes, want 32"},
      {"o\n5\n" + Base64Encode(std::string(33, 'r')) + "\n", "line 3"},
      {"o\n5\n" + root.substr(0, 43) + "\n", "line 3"},
      {"o\n5\n" + root.substr(0, 42) + "-=\n", "line 3"},
      {"o\n5\n" + root.substr(0, 42) + "x=\n", "padding bits"},
      {"o\n5\n" + root + "=\n", "line 3"},
      {"o\n5\n", "body has 2 lines"},
      {"o\n", "body has 1 lines"},
      {"o\n5\n" + root + "\n\next\n", "line 4: extension line is empty"},
      {"o\x01\n5\n" + root + "\n", "line 1: control character 0x01 at byte 1"},
      {"o\n5\n" + root + "\n\xFF\n", "line 4: invalid UTF-8 at byte 49"},
      {"o\n0\n" + root + "\n",
       "line 3: a tree of size 0 has the empty tree's root "
       "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU= (SHA-256 of nothing)"},
  };
  for (const auto& c : cases) {
    // Through a validly signed note, the body is judged after the signature.
    EXPECT_ERROR(VerifyCheckpoint(NoteOver(c.body), verifier_),
                 absl::StatusCode::kInvalidArgument, c.error);
    if (c.body.find("\n\n") == std::string::npos) {
      EXPECT_ERROR(ParseCheckpointBody(c.body),
                   absl::StatusCode::kInvalidArgument, c.error);
    }
  }
  EXPECT_ERROR(ParseCheckpointBody("o\n5\n" + root),
               absl::StatusCode::kInvalidArgument, "newline");
}

TEST_F(CheckpointTest, ExtensionLinesAreAcceptedAndIgnored) {
  const std::string body =
      CheckpointBody(checkpoint_) + "ext one\n\xE2\x98\x83\n";
  ASSERT_OK_AND_ASSIGN(const Checkpoint got,
                       VerifyCheckpoint(NoteOver(body), verifier_));
  ExpectSameCheckpoint(got, checkpoint_);
  ASSERT_OK_AND_ASSIGN(const Checkpoint bare, ParseCheckpointBody(body));
  ExpectSameCheckpoint(bare, checkpoint_);
}

TEST_F(CheckpointTest, MalformedNotesNameTheLine) {
  ASSERT_OK_AND_ASSIGN(const std::string note,
                       SignCheckpoint(checkpoint_, *key_));
  const std::string body = CheckpointBody(checkpoint_);
  const std::string line = note.substr(body.size() + 1);
  const struct {
    std::string note;
    std::string_view error;
  } cases[] = {
      {"", "no blank line"},
      {body, "no blank line"},
      {body + "\n", "line 5: no signature lines"},
      {note.substr(0, note.size() - 1), "line 5: signature line does not end"},
      {body + "\n-- " + line.substr(kDashSize), "line 5: signature line does"},
      {body + "\n" + line + "\xE2\x80\x94 abc\n", "line 6: no space"},
      {body + "\n" + line + "\xE2\x80\x94 a+b AAAAAAAA\n", "line 6: key name"},
      {body + "\n" + line + "\xE2\x80\x94 a AAAA\n", "line 6: signature has 3"},
      // A key id alone, with no signature after it (Go: len(sig) < 5).
      {body + "\n" + line + "\xE2\x80\x94 a AAAAAA==\n",
       "line 6: signature has 4 bytes, want a 4-byte key id and a signature"},
      {body + "\n" + line + "\xE2\x80\x94 a AAAAAAAA \n", "line 6: signature"},
      {body + "\n" + line + "\xE2\x80\x94  AAAAAAAA\n", "line 6: key name"},
      {"o\x01\n" + note.substr(note.find('\n') + 1), "line 1: control"},
      {"o\n5\xFF\n" + note.substr(note.find('\n') + 1),
       "line 2: invalid UTF-8"},
      {note + "\t", "line 6: control"},
  };
  for (const auto& c : cases) {
    EXPECT_ERROR(VerifyCheckpoint(c.note, verifier_),
                 absl::StatusCode::kInvalidArgument, c.error);
  }
}

TEST_F(CheckpointTest, TooManySignatureLinesOrBytesAreRefused) {
  ASSERT_OK_AND_ASSIGN(const std::string note,
                       SignCheckpoint(checkpoint_, *key_));
  std::string many = note;
  for (int i = 0; i < 100; ++i) {
    absl::StrAppend(&many, SignatureLine(absl::StrCat("w", i), "\1\2\3\4sig"));
  }
  EXPECT_ERROR(VerifyCheckpoint(many, verifier_),
               absl::StatusCode::kInvalidArgument, "more than 100 signatures");
  const std::string huge = absl::StrCat(std::string(1 << 20, 'x'), "\n", note);
  EXPECT_ERROR(VerifyCheckpoint(huge, verifier_),
               absl::StatusCode::kInvalidArgument, "bytes, more than");
  EXPECT_EQ(ParseCheckpointBody(huge).status().code(),
            absl::StatusCode::kInvalidArgument);
  // A bare body of that size, without the signed note's blank line, and a
  // checkpoint that would sign to a note of it.
  checkpoint_.origin = std::string(1 << 20, 'o');
  const std::string body = CheckpointBody(checkpoint_);
  EXPECT_ERROR(ParseCheckpointBody(body), absl::StatusCode::kInvalidArgument,
               absl::StrCat("checkpoint body is ", body.size(),
                            " bytes, more than 1048576"));
  EXPECT_ERROR(SignCheckpoint(checkpoint_, *key_),
               absl::StatusCode::kInvalidArgument, "signed note would be");
}

TEST_F(CheckpointTest, VerifyRejectsAMalformedVerifierKey) {
  ASSERT_OK_AND_ASSIGN(const std::string note,
                       SignCheckpoint(checkpoint_, *key_));
  VerifierKey short_key = verifier_;
  short_key.public_key.pop_back();
  EXPECT_ERROR(VerifyCheckpoint(note, short_key),
               absl::StatusCode::kInvalidArgument, "want 32");
  VerifierKey nameless = verifier_;
  nameless.name.clear();
  EXPECT_EQ(VerifyCheckpoint(note, nameless).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// --- Other implementations ------------------------------------------------

// Checkpoints signed by sum.golang.org (Go's implementation).
TEST_F(CheckpointTest, VerifiesGoSumdbCheckpoints) {
  ASSERT_OK_AND_ASSIGN(const VerifierKey sumdb, ParseVerifierKey(kSumdbKey));
  for (const SumdbCheckpoint& c : kSumdbCheckpoints) {
    const std::string note = SumdbNote(c);
    ASSERT_OK_AND_ASSIGN(const Checkpoint got, VerifyCheckpoint(note, sumdb));
    EXPECT_EQ(got.origin, "go.sum database tree");
    EXPECT_EQ(got.tree_size, c.size);
    EXPECT_EQ(Base64Encode(DigestBytes(got.root_hash)), c.root);
    // And not for a neighbouring size.
    std::string other = note;
    const std::string size = absl::StrCat(c.size);
    other.replace(other.find(size), size.size(), absl::StrCat(c.size + 1));
    EXPECT_ERROR(VerifyCheckpoint(other, sumdb), absl::StatusCode::kDataLoss,
                 "does not verify");
    EXPECT_ERROR(VerifyCheckpoint(note, verifier_), absl::StatusCode::kDataLoss,
                 "no signature by");
  }
}

// Go's example note is not a checkpoint: its signature verifies, then its
// body is refused, which shows the signature was checked first.
TEST_F(CheckpointTest, GoExampleNoteSignatureVerifiesBeforeBodyIsJudged) {
  ASSERT_OK_AND_ASSIGN(const VerifierKey peter, ParseVerifierKey(kPeterKey));
  EXPECT_ERROR(VerifyCheckpoint(kPeterNote, peter),
               absl::StatusCode::kInvalidArgument, "body has 2 lines");
  std::string tampered(kPeterNote);
  tampered[3] = 'X';
  EXPECT_ERROR(VerifyCheckpoint(tampered, peter), absl::StatusCode::kDataLoss,
               "does not verify");
}

// The OpenSSL command line, given only the PEM public key, the body and
// the raw signature bytes taken from our note, agrees with us.
TEST_F(CheckpointTest, OpenSslCommandLineVerifiesOurSignature) {
  if (!HaveOpenSslCli()) GTEST_SKIP() << "no openssl command line tool";
  const testing::TempFolder folder;
  const std::filesystem::path dir = folder.path();
  ASSERT_OK_AND_ASSIGN(const std::string pem, key_->PrivateKeyText());
  WriteFile(dir / "key.pem", pem);
  ASSERT_EQ(
      Run(absl::StrCat("openssl pkey -in '", (dir / "key.pem").string(),
                       "' -pubout -out '", (dir / "pub.pem").string(), "'"))
          .first,
      0);

  ASSERT_OK_AND_ASSIGN(const std::string note,
                       SignCheckpoint(checkpoint_, *key_));
  const size_t blank = note.rfind("\n\n");
  const std::string body = note.substr(0, blank + 1);
  ASSERT_EQ(body, CheckpointBody(checkpoint_));
  const std::string line = note.substr(blank + 2);
  const std::string b64 =
      line.substr(line.rfind(' ') + 1, line.size() - line.rfind(' ') - 2);
  ASSERT_OK_AND_ASSIGN(const std::string id_and_sig, Base64Decode(b64, "sig"));
  ASSERT_EQ(id_and_sig.size(), 68u);
  WriteFile(dir / "body.txt", body);
  WriteFile(dir / "sig.bin", id_and_sig.substr(4));

  const std::string verify = absl::StrCat(
      "openssl pkeyutl -verify -pubin -inkey '", (dir / "pub.pem").string(),
      "' -rawin -in '", (dir / "body.txt").string(), "' -sigfile '",
      (dir / "sig.bin").string(), "'");
  const auto [ok_rc, ok_out] = Run(verify);
  EXPECT_EQ(ok_rc, 0) << ok_out;
  EXPECT_TRUE(absl::StrContains(ok_out, "Signature Verified Successfully"))
      << ok_out;

  std::string changed = body;
  changed[body.find('\n') + 1] ^= 0x01;  // 42 -> 52
  WriteFile(dir / "body.txt", changed);
  const auto [bad_rc, bad_out] = Run(verify);
  EXPECT_NE(bad_rc, 0) << bad_out;
  EXPECT_FALSE(absl::StrContains(bad_out, "Signature Verified Successfully"))
      << bad_out;
}

// And the other way: a key made and a signature computed by the OpenSSL
// command line verify with our parser.
TEST_F(CheckpointTest, SignatureFromOpenSslCommandLineVerifies) {
  if (!HaveOpenSslCli()) GTEST_SKIP() << "no openssl command line tool";
  const testing::TempFolder folder;
  const std::filesystem::path dir = folder.path();
  ASSERT_EQ(Run(absl::StrCat("openssl genpkey -algorithm ed25519 -out '",
                             (dir / "key.pem").string(), "'"))
                .first,
            0);
  ASSERT_OK_AND_ASSIGN(
      const SigningKey key,
      SigningKey::FromPrivateKeyText(kOrigin, ReadFile(dir / "key.pem")));
  ASSERT_EQ(Run(absl::StrCat("openssl pkey -in '", (dir / "key.pem").string(),
                             "' -pubout -outform DER -out '",
                             (dir / "pub.der").string(), "'"))
                .first,
            0);
  // An Ed25519 SubjectPublicKeyInfo ends with the 32 raw key bytes.
  const std::string der = ReadFile(dir / "pub.der");
  ASSERT_EQ(der.size(), 44u);
  EXPECT_EQ(der.substr(12), key.public_key());

  const std::string body = CheckpointBody(checkpoint_);
  WriteFile(dir / "body.txt", body);
  const auto [rc, out] = Run(
      absl::StrCat("openssl pkeyutl -sign -inkey '", (dir / "key.pem").string(),
                   "' -rawin -in '", (dir / "body.txt").string(), "' -out '",
                   (dir / "sig.bin").string(), "'"));
  ASSERT_EQ(rc, 0) << out;
  const std::string sig = ReadFile(dir / "sig.bin");
  ASSERT_EQ(sig.size(), 64u);
  // Ed25519 is deterministic: the same key signs the same bytes alike.
  ASSERT_OK_AND_ASSIGN(const std::string ours, key.Sign(body));
  EXPECT_EQ(ours, sig);

  ASSERT_OK_AND_ASSIGN(const VerifierKey verifier,
                       ParseVerifierKey(key.VerifierKey()));
  const std::string note = absl::StrCat(
      body, "\n", SignatureLine(kOrigin, KeyIdBytes(verifier.key_id) + sig));
  ASSERT_OK_AND_ASSIGN(const Checkpoint got, VerifyCheckpoint(note, verifier));
  ExpectSameCheckpoint(got, checkpoint_);
}

// --- Base64 ---------------------------------------------------------------

TEST(Base64Test, Rfc4648Vectors) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [plain, encoded] : cases) {
    EXPECT_EQ(Base64Encode(plain), encoded);
    ASSERT_OK_AND_ASSIGN(const std::string decoded,
                         Base64Decode(encoded, "vector"));
    EXPECT_EQ(decoded, plain);
  }
}

TEST(Base64Test, AgreesWithOpenSslAndRoundTrips) {
  std::mt19937 rng(7);
  for (size_t n = 0; n < 200; ++n) {
    std::string bytes(n, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    std::string want(4 * ((n + 2) / 3) + 1, '\0');
    const int len =
        EVP_EncodeBlock(reinterpret_cast<unsigned char*>(want.data()),
                        reinterpret_cast<const unsigned char*>(bytes.data()),
                        static_cast<int>(n));
    want.resize(static_cast<size_t>(len));
    EXPECT_EQ(Base64Encode(bytes), want);
    ASSERT_OK_AND_ASSIGN(const std::string back, Base64Decode(want, "random"));
    EXPECT_EQ(back, bytes);
  }
}

TEST(Base64Test, DecodeIsStrict) {
  const std::string_view cases[] = {
      "Zg",       "Zg=",  "Zg===", "Z===",
      "====",     "Zh==", "Zm9=",  "=Zm8",
      "Zm=8",     "Zm 8", "Zm-_",  "Zm8\n",
      "Zg==Zg==", " Zm8", "Zm8",   std::string_view("Zm8=\0\0\0", 8)};
  for (std::string_view text : cases) {
    EXPECT_EQ(Base64Decode(text, "bad").status().code(),
              absl::StatusCode::kInvalidArgument)
        << text;
  }
  EXPECT_ERROR(Base64Decode("Zm9vYm=y", "field"),
               absl::StatusCode::kInvalidArgument, "field: character 6");
}

}  // namespace
}  // namespace caseledger
