#include "ledger/checkpoint.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "ledger/base64.h"
#include "ledger/merkle.h"
#include "ledger/status_macros.h"
#include "ledger/string_view.h"
#include "ledger/untrusted_text.h"

namespace caseledger {
namespace {

// Signature lines open with U+2014 EM DASH and a space (C2SP signed-note).
constexpr char kSignaturePrefix[] = "\xE2\x80\x94 ";
// Signature type byte of Ed25519 in key ids and verifier keys.
constexpr char kEd25519Type = 0x01;
constexpr size_t kPublicKeySize = 32;
constexpr size_t kSignatureSize = 64;
// Parsing is linear, but a verifier should not be made to hash or buffer
// unbounded input; a checkpoint is a few hundred bytes.
constexpr size_t kMaxNoteBytes = 1 << 20;
// The bound Go's golang.org/x/mod/sumdb/note applies; the spec asks
// verifiers to accept at least 16.
constexpr size_t kMaxSignatures = 100;
// A PKCS#8 Ed25519 key is about 120 bytes of PEM.
constexpr size_t kMaxPemBytes = 64 << 10;

struct PkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct PkeyCtxDeleter {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct BioDeleter {
  void operator()(BIO* p) const { BIO_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;
using BioPtr = std::unique_ptr<BIO, BioDeleter>;

// Drains OpenSSL's thread-local error queue into a message, so that our
// failure neither gets lost nor surfaces later in unrelated code.
std::string OpenSslErrors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    absl::StrAppend(&out, out.empty() ? "" : "; ", buf);
  }
  return out.empty() ? "no OpenSSL error recorded" : out;
}

// Untrusted text echoed in an error message (Printable says why).
std::string Quote(std::string_view s) {
  return absl::StrCat("\"", Printable(s), "\"");
}

// Checks the signed-note character rules: valid UTF-8 and no ASCII control
// characters other than newline. Errors name `what` and the 1-based line.
absl::Status CheckNoteChars(std::string_view text, std::string_view what) {
  size_t line = 1;
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      ++line;
      ++i;
      continue;
    }
    if (c < 0x20) {
      return absl::InvalidArgumentError(
          absl::StrCat(AbslView(what), " line ", line, ": control character 0x",
                       absl::Hex(c, absl::kZeroPad2), " at byte ", i));
    }
    size_t len = 0;
    if (DecodeUtf8(text, i, &len) < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          AbslView(what), " line ", line, ": invalid UTF-8 at byte ", i));
    }
    i += len;
  }
  return absl::OkStatus();
}

// Checks the C2SP key name rules: non-empty UTF-8 without '+' or Unicode
// spaces (White_Space, the set Go's unicode.IsSpace uses for key names).
// Control characters are refused too: no note could carry them.
absl::Status CheckKeyName(std::string_view name, std::string_view what) {
  if (name.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(AbslView(what), " is empty"));
  }
  for (size_t i = 0; i < name.size();) {
    size_t len = 0;
    const int32_t r = DecodeUtf8(name, i, &len);
    const char* problem = r < 0             ? "is not valid UTF-8"
                          : IsWhiteSpace(r) ? "contains white space"
                          : r < 0x20        ? "contains a control character"
                          : r == '+'        ? "contains '+'"
                                            : nullptr;
    if (problem != nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat(AbslView(what), " ", Quote(name), " ", problem));
    }
    i += len;
  }
  return absl::OkStatus();
}

// Key id = first 4 bytes, big-endian, of
// SHA-256(key name || 0x0A || 0x01 || public key) (C2SP signed-note).
uint32_t KeyId(std::string_view name, std::string_view public_key) {
  std::string prefix(name);
  prefix += '\n';
  prefix += kEd25519Type;
  const Sha256Digest d = Sha256(prefix, public_key);
  return uint32_t{d[0]} << 24 | uint32_t{d[1]} << 16 | uint32_t{d[2]} << 8 |
         uint32_t{d[3]};
}

std::string KeyIdHex(uint32_t id) {
  return absl::StrCat(absl::Hex(id, absl::kZeroPad8));
}

std::string BigEndian32(uint32_t v) {
  return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                     static_cast<char>(v >> 8), static_cast<char>(v)};
}

absl::StatusOr<std::string> RawPublicKey(EVP_PKEY* pkey) {
  std::string out(kPublicKeySize, '\0');
  size_t len = out.size();
  if (EVP_PKEY_get_raw_public_key(
          pkey, reinterpret_cast<unsigned char*>(out.data()), &len) != 1 ||
      len != kPublicKeySize) {
    return absl::InternalError(
        absl::StrCat("reading the Ed25519 public key: ", OpenSslErrors()));
  }
  return out;
}

// Returns whether `signature` is a valid Ed25519 signature of `message`.
// False covers every way a signature can be wrong; errors are reserved for
// OpenSSL failing to run at all.
absl::StatusOr<bool> Ed25519Verify(EVP_PKEY* pkey, std::string_view message,
                                   std::string_view signature) {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (ctx == nullptr ||
      EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey) != 1) {
    return absl::InternalError(
        absl::StrCat("starting Ed25519 verification: ", OpenSslErrors()));
  }
  const int rc = EVP_DigestVerify(
      ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
      signature.size(), reinterpret_cast<const unsigned char*>(message.data()),
      message.size());
  if (rc < 0) {
    return absl::InternalError(
        absl::StrCat("Ed25519 verification: ", OpenSslErrors()));
  }
  // A wrong signature leaves an entry on the queue; our result says it all.
  ERR_clear_error();
  return rc == 1;
}

// Refuses to decrypt: without a callback OpenSSL would prompt on the
// terminal for the password of an encrypted key.
int NoPassword(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*u*/) {
  return -1;
}

// One "— <name> <base64(key id || signature)>" line.
struct SignatureLine {
  size_t line = 0;  // 1-based, counted over the whole note
  std::string_view name;
  uint32_t key_id = 0;
  std::string signature;  // without the key id
};

struct ParsedNote {
  std::string_view text;  // what the signatures cover; ends with '\n'
  std::vector<SignatureLine> signatures;
};

// Splits a signed note into its text and syntactically valid signature
// lines (C2SP signed-note, "Format"). Checks no signature.
absl::StatusOr<ParsedNote> ParseNote(std::string_view note) {
  if (note.size() > kMaxNoteBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "signed note is ", note.size(), " bytes, more than ", kMaxNoteBytes));
  }
  CASELEDGER_RETURN_IF_ERROR(CheckNoteChars(note, "signed note"));
  // The text may hold empty lines; the last one separates the signatures.
  const size_t split = note.rfind("\n\n");
  if (split == std::string_view::npos) {
    return absl::InvalidArgumentError(
        "signed note has no blank line before its signature lines");
  }
  ParsedNote out;
  out.text = note.substr(0, split + 1);
  std::string_view block = note.substr(split + 2);
  size_t line =
      static_cast<size_t>(std::count(out.text.begin(), out.text.end(), '\n')) +
      2;
  if (block.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("signed note line ", line, ": no signature lines"));
  }
  if (block.back() != '\n') {
    return absl::InvalidArgumentError(absl::StrCat(
        "signed note line ",
        line +
            static_cast<size_t>(std::count(block.begin(), block.end(), '\n')),
        ": signature line does not end with a newline"));
  }
  for (; !block.empty(); ++line) {
    const std::string where = absl::StrCat("signed note line ", line);
    if (out.signatures.size() == kMaxSignatures) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": more than ", kMaxSignatures, " signatures"));
    }
    // Never npos: the block ends with a newline.
    const size_t end = block.find('\n');
    std::string_view text = block.substr(0, end);
    block.remove_prefix(end + 1);
    const std::string_view prefix(kSignaturePrefix);
    if (text.substr(0, prefix.size()) != prefix) {
      return absl::InvalidArgumentError(absl::StrCat(
          where,
          ": signature line does not start with an em dash and a space"));
    }
    text.remove_prefix(prefix.size());
    const size_t space = text.find(' ');
    if (space == std::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": no space between key name and signature"));
    }
    SignatureLine sig;
    sig.line = line;
    sig.name = text.substr(0, space);
    CASELEDGER_RETURN_IF_ERROR(
        CheckKeyName(sig.name, absl::StrCat(where, ": key name")));
    CASELEDGER_ASSIGN_OR_RETURN(
        std::string raw, Base64Decode(text.substr(space + 1),
                                      absl::StrCat(where, ": signature")));
    if (raw.size() < 5) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": signature has ", raw.size(),
                       " bytes, want a 4-byte key id and a signature"));
    }
    sig.key_id = uint32_t{static_cast<uint8_t>(raw[0])} << 24 |
                 uint32_t{static_cast<uint8_t>(raw[1])} << 16 |
                 uint32_t{static_cast<uint8_t>(raw[2])} << 8 |
                 uint32_t{static_cast<uint8_t>(raw[3])};
    sig.signature = raw.substr(4);
    out.signatures.push_back(std::move(sig));
  }
  return out;
}

// Tree size: ASCII decimal without sign or leading zeros (C2SP
// tlog-checkpoint, "Note text", line 2).
absl::StatusOr<uint64_t> ParseTreeSize(std::string_view s) {
  constexpr char kWhere[] = "checkpoint line 2: tree size ";
  if (s.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(kWhere, "is empty"));
  }
  if (s.size() > 1 && s[0] == '0') {
    return absl::InvalidArgumentError(
        absl::StrCat(kWhere, Quote(s), " has a leading zero"));
  }
  uint64_t v = 0;
  for (char ch : s) {
    if (ch < '0' || ch > '9') {
      return absl::InvalidArgumentError(
          absl::StrCat(kWhere, Quote(s), " is not a decimal number"));
    }
    const uint64_t digit = static_cast<uint64_t>(ch - '0');
    if (v > (std::numeric_limits<uint64_t>::max() - digit) / 10) {
      return absl::InvalidArgumentError(
          absl::StrCat(kWhere, Quote(s), " does not fit in 64 bits"));
    }
    v = v * 10 + digit;
  }
  return v;
}

// Parses a checkpoint body whose characters are already checked (C2SP
// tlog-checkpoint, "Note text").
absl::StatusOr<Checkpoint> ParseBody(std::string_view text) {
  if (text.empty() || text.back() != '\n') {
    return absl::InvalidArgumentError(
        "checkpoint body does not end with a newline");
  }
  // Lines are taken one at a time: a hostile body may hold a million.
  std::string_view head[3];
  for (size_t i = 0; i < 3; ++i) {
    if (text.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("checkpoint body has ", i,
                       " lines, want origin, tree size and root hash"));
    }
    const size_t end = text.find('\n');  // never npos: text ends with one
    head[i] = text.substr(0, end);
    text.remove_prefix(end + 1);
  }
  Checkpoint c;
  if (head[0].empty()) {
    return absl::InvalidArgumentError("checkpoint line 1: origin is empty");
  }
  c.origin = std::string(head[0]);
  CASELEDGER_ASSIGN_OR_RETURN(c.tree_size, ParseTreeSize(head[1]));
  CASELEDGER_ASSIGN_OR_RETURN(
      const std::string root,
      Base64Decode(head[2], "checkpoint line 3: root hash"));
  if (root.size() != c.root_hash.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint line 3: root hash has ", root.size(),
                     " bytes, want ", c.root_hash.size()));
  }
  std::copy(root.begin(), root.end(), c.root_hash.begin());
  // No tree of size 0 has another root; verify --checkpoint took one for a
  // rewrite of "its first 0 entries" (found by an outside reading).
  if (c.tree_size == 0 && c.root_hash != merkle::EmptyRoot()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "checkpoint line 3: a tree of size 0 has the empty tree's root ",
        Base64Encode(DigestBytes(merkle::EmptyRoot())),
        " (SHA-256 of nothing), not ", std::string(head[2])));
  }
  // Extension lines carry nothing we use, but must be non-empty.
  for (size_t line = 4; !text.empty(); ++line) {
    if (text.front() == '\n') {
      return absl::InvalidArgumentError(
          absl::StrCat("checkpoint line ", line, ": extension line is empty"));
    }
    text.remove_prefix(text.find('\n') + 1);
  }
  return c;
}

}  // namespace

struct SigningKey::Impl {
  PkeyPtr pkey;
};

SigningKey::SigningKey(SigningKey&&) noexcept = default;
SigningKey& SigningKey::operator=(SigningKey&&) noexcept = default;
SigningKey::~SigningKey() = default;

absl::StatusOr<SigningKey> SigningKey::Generate(std::string name) {
  CASELEDGER_RETURN_IF_ERROR(CheckKeyName(name, "signing key name"));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr));
  EVP_PKEY* raw = nullptr;
  if (ctx == nullptr || EVP_PKEY_keygen_init(ctx.get()) != 1 ||
      EVP_PKEY_keygen(ctx.get(), &raw) != 1) {
    return absl::InternalError(
        absl::StrCat("generating an Ed25519 key: ", OpenSslErrors()));
  }
  SigningKey key;
  key.impl_ = std::make_unique<Impl>();
  key.impl_->pkey.reset(raw);
  CASELEDGER_ASSIGN_OR_RETURN(key.public_key_,
                              RawPublicKey(key.impl_->pkey.get()));
  key.name_ = std::move(name);
  return key;
}

absl::StatusOr<SigningKey> SigningKey::FromPrivateKeyText(
    std::string name, std::string_view pem) {
  CASELEDGER_RETURN_IF_ERROR(CheckKeyName(name, "signing key name"));
  if (pem.empty() || pem.size() > kMaxPemBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("private key text is ", pem.size(),
                     " bytes; not a PEM Ed25519 private key"));
  }
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (bio == nullptr) {
    return absl::InternalError(
        absl::StrCat("reading private key text: ", OpenSslErrors()));
  }
  PkeyPtr pkey(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, &NoPassword, nullptr));
  if (pkey == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "private key text for ", name,
        " is not an unencrypted PEM private key: ", OpenSslErrors()));
  }
  if (EVP_PKEY_get_base_id(pkey.get()) != EVP_PKEY_ED25519) {
    return absl::InvalidArgumentError(
        absl::StrCat("private key for ", name, " is not an Ed25519 key"));
  }
  SigningKey key;
  key.impl_ = std::make_unique<Impl>();
  key.impl_->pkey = std::move(pkey);
  CASELEDGER_ASSIGN_OR_RETURN(key.public_key_,
                              RawPublicKey(key.impl_->pkey.get()));
  key.name_ = std::move(name);
  return key;
}

absl::StatusOr<std::string> SigningKey::PrivateKeyText() const {
  if (impl_ == nullptr) {
    return absl::FailedPreconditionError("signing key was moved from");
  }
  // Secure-heap memory is wiped when freed, so the only copy of the key
  // text left behind is the one we return.
  BioPtr bio(BIO_new(BIO_s_secmem()));
  if (bio == nullptr ||
      PEM_write_bio_PrivateKey(bio.get(), impl_->pkey.get(), nullptr, nullptr,
                               0, nullptr, nullptr) != 1) {
    return absl::InternalError(
        absl::StrCat("writing private key for ", name_, ": ", OpenSslErrors()));
  }
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  if (size <= 0 || data == nullptr) {
    return absl::InternalError(
        absl::StrCat("writing private key for ", name_, ": empty output"));
  }
  return std::string(data, static_cast<size_t>(size));
}

std::string SigningKey::VerifierKey() const {
  return absl::StrCat(name_, "+", KeyIdHex(KeyId(name_, public_key_)), "+",
                      Base64Encode(std::string(1, kEd25519Type) + public_key_));
}

absl::StatusOr<std::string> SigningKey::Sign(std::string_view message) const {
  if (impl_ == nullptr) {
    return absl::FailedPreconditionError("signing key was moved from");
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  std::string signature(kSignatureSize, '\0');
  size_t len = signature.size();
  // Ed25519 hashes internally, so no digest is named.
  if (ctx == nullptr ||
      EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr,
                         impl_->pkey.get()) != 1 ||
      EVP_DigestSign(ctx.get(),
                     reinterpret_cast<unsigned char*>(signature.data()), &len,
                     reinterpret_cast<const unsigned char*>(message.data()),
                     message.size()) != 1 ||
      len != kSignatureSize) {
    return absl::InternalError(
        absl::StrCat("signing with ", name_, ": ", OpenSslErrors()));
  }
  return signature;
}

absl::StatusOr<VerifierKey> ParseVerifierKey(std::string_view text) {
  while (!text.empty() && absl::ascii_isspace(text.front())) {
    text.remove_prefix(1);
  }
  while (!text.empty() && absl::ascii_isspace(text.back())) {
    text.remove_suffix(1);
  }
  // Two keys in one file (`caseledger key >> FILE` run twice) read as one
  // with a long key: "base64 length 115 is not a multiple of 4" named
  // neither the file's second line nor the fix (found by an outside
  // reading).
  if (text.find('\n') != std::string_view::npos) {
    return absl::InvalidArgumentError(
        "verifier key text holds more than one line; give the one line "
        "'caseledger key' prints");
  }
  // The base64 key may itself contain '+', so only the first two split.
  const size_t plus1 = text.find('+');
  const size_t plus2 = plus1 == std::string_view::npos
                           ? std::string_view::npos
                           : text.find('+', plus1 + 1);
  if (plus2 == std::string_view::npos) {
    return absl::InvalidArgumentError(
        "verifier key is not <name>+<key id>+<base64 key>");
  }
  VerifierKey key;
  const std::string_view name = text.substr(0, plus1);
  const std::string_view id_hex = text.substr(plus1 + 1, plus2 - plus1 - 1);
  CASELEDGER_RETURN_IF_ERROR(CheckKeyName(name, "verifier key name"));
  key.name = std::string(name);
  // Exactly the spelling KeyIdHex writes, so each key has one text form.
  bool hex_ok = id_hex.size() == 8;
  for (char ch : id_hex) {
    if (ch >= '0' && ch <= '9') {
      key.key_id = key.key_id << 4 | static_cast<uint32_t>(ch - '0');
    } else if (ch >= 'a' && ch <= 'f') {
      key.key_id = key.key_id << 4 | static_cast<uint32_t>(ch - 'a' + 10);
    } else {
      hex_ok = false;
    }
  }
  if (!hex_ok) {
    return absl::InvalidArgumentError(
        absl::StrCat("verifier key for ", key.name, ": key id ", Quote(id_hex),
                     " is not 8 lowercase hex digits"));
  }
  // Kept in its StatusOr: GCC 12 misreports a moved-out copy as
  // uninitialized.
  const absl::StatusOr<std::string> decoded =
      Base64Decode(text.substr(plus2 + 1),
                   absl::StrCat("verifier key for ", key.name, ": key"));
  if (!decoded.ok()) return decoded.status();
  const std::string& typed_key = *decoded;
  if (typed_key.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "verifier key for ", key.name, ": signature type missing"));
  }
  const auto type = static_cast<uint8_t>(typed_key.front());
  if (type != kEd25519Type) {
    return absl::InvalidArgumentError(absl::StrCat(
        "verifier key for ", key.name, ": signature type 0x",
        absl::Hex(type, absl::kZeroPad2), ", want 0x01 (Ed25519)"));
  }
  if (typed_key.size() != 1 + kPublicKeySize) {
    return absl::InvalidArgumentError(
        absl::StrCat("verifier key for ", key.name, ": public key has ",
                     typed_key.size() - 1, " bytes, want ", kPublicKeySize));
  }
  key.public_key = typed_key.substr(1);
  const uint32_t want = KeyId(key.name, key.public_key);
  if (key.key_id != want) {
    return absl::InvalidArgumentError(absl::StrCat(
        "verifier key for ", key.name, ": key id ", KeyIdHex(key.key_id),
        " does not match the key, whose id is ", KeyIdHex(want)));
  }
  return key;
}

std::string CheckpointBody(const Checkpoint& c) {
  return absl::StrCat(c.origin, "\n", c.tree_size, "\n",
                      Base64Encode(DigestBytes(c.root_hash)), "\n");
}

absl::StatusOr<std::string> SignNote(std::string_view body,
                                     const SigningKey& key) {
  if (body.empty() || body.back() != '\n') {
    return absl::InvalidArgumentError("a note body must end with a newline");
  }
  if (body.find("\n\n") != std::string_view::npos) {
    return absl::InvalidArgumentError("a note body cannot hold an empty line");
  }
  CASELEDGER_RETURN_IF_ERROR(CheckNoteChars(body, "note body"));
  CASELEDGER_ASSIGN_OR_RETURN(const std::string signature, key.Sign(body));
  std::string note = absl::StrCat(
      std::string(body), "\n", kSignaturePrefix, key.name(), " ",
      Base64Encode(absl::StrCat(
          BigEndian32(KeyId(key.name(), key.public_key())), signature)),
      "\n");
  if (note.size() > kMaxNoteBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("signed note would be ", note.size(), " bytes, more than ",
                     kMaxNoteBytes));
  }
  return note;
}

absl::StatusOr<std::string> SignCheckpoint(const Checkpoint& c,
                                           const SigningKey& key) {
  // Refuse to sign what no verifier, ours included, would accept.
  if (c.origin.empty()) {
    return absl::InvalidArgumentError("checkpoint origin is empty");
  }
  if (c.origin.find('\n') != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "checkpoint origin ", Quote(c.origin), " contains a newline"));
  }
  CASELEDGER_RETURN_IF_ERROR(CheckNoteChars(c.origin, "checkpoint origin"));
  if (c.tree_size == 0 && c.root_hash != merkle::EmptyRoot()) {
    return absl::InvalidArgumentError(
        "a checkpoint of size 0 has the empty tree's root");
  }
  return SignNote(CheckpointBody(c), key);
}

absl::StatusOr<Checkpoint> VerifyCheckpoint(std::string_view note,
                                            const VerifierKey& key) {
  CASELEDGER_ASSIGN_OR_RETURN(std::string body, VerifyNote(note, key));
  // The text means nothing until signed, so its syntax is judged only now.
  return ParseBody(body);
}

absl::StatusOr<std::string> VerifyNote(std::string_view note,
                                       const VerifierKey& key,
                                       SkippedSignatures* skipped) {
  CASELEDGER_RETURN_IF_ERROR(CheckKeyName(key.name, "verifier key name"));
  if (key.public_key.size() != kPublicKeySize) {
    return absl::InvalidArgumentError(
        absl::StrCat("verifier key for ", key.name, ": public key has ",
                     key.public_key.size(), " bytes, want ", kPublicKeySize));
  }
  CASELEDGER_ASSIGN_OR_RETURN(const ParsedNote parsed, ParseNote(note));
  PkeyPtr pkey(EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr,
      reinterpret_cast<const unsigned char*>(key.public_key.data()),
      key.public_key.size()));
  if (pkey == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("verifier key for ", key.name,
                     ": OpenSSL refuses the public key: ", OpenSslErrors()));
  }
  // Lines from other keys (witnesses, a rotated key) are ignored, as the
  // spec requires; every line claiming to be ours must verify.
  bool verified = false;
  SkippedSignatures others;
  // Another ledger's note under the same name (two made by `demo`, or by
  // init's default name) read as bearing no signature at all.
  std::optional<uint32_t> same_name_other_key;
  for (const SignatureLine& sig : parsed.signatures) {
    if (sig.name != key.name || sig.key_id != key.key_id) {
      if (sig.name == key.name) {
        if (!same_name_other_key) same_name_other_key = sig.key_id;
        ++others.under_its_name;
      }
      ++others.lines;
      continue;
    }
    if (sig.signature.size() != kSignatureSize) {
      return absl::DataLossError(absl::StrCat(
          "signed note line ", sig.line, ": signature by ", key.name, " has ",
          sig.signature.size(), " bytes, want ", kSignatureSize));
    }
    CASELEDGER_ASSIGN_OR_RETURN(
        const bool ok, Ed25519Verify(pkey.get(), parsed.text, sig.signature));
    if (!ok) {
      return absl::DataLossError(absl::StrCat(
          "signed note line ", sig.line, ": signature by ", key.name,
          " (key id ", KeyIdHex(key.key_id), ") does not verify over the ",
          parsed.text.size(), "-byte note text"));
    }
    if (verified) ++others.repeats_of_its_line;
    verified = true;
  }
  if (!verified) {
    return absl::DataLossError(absl::StrCat(
        "no signature by ", key.name, " (key id ", KeyIdHex(key.key_id), ")",
        same_name_other_key
            ? absl::StrCat(", only by another key of that name (key id ",
                           KeyIdHex(*same_name_other_key), ")")
            : ""));
  }
  if (skipped != nullptr) *skipped = others;
  return std::string(parsed.text);
}

absl::StatusOr<Checkpoint> ParseCheckpointBody(std::string_view note) {
  // A body never holds an empty line, so a blank line means a signed note.
  if (note.find("\n\n") != std::string_view::npos) {
    CASELEDGER_ASSIGN_OR_RETURN(const ParsedNote parsed, ParseNote(note));
    return ParseBody(parsed.text);
  }
  if (note.size() > kMaxNoteBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint body is ", note.size(), " bytes, more than ",
                     kMaxNoteBytes));
  }
  CASELEDGER_RETURN_IF_ERROR(CheckNoteChars(note, "checkpoint"));
  return ParseBody(note);
}

}  // namespace caseledger
