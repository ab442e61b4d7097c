// Signed checkpoints: a C2SP tlog-checkpoint body inside a C2SP signed-note,
// signed with Ed25519 (OpenSSL 3). Grammar: docs/formats.md.
//
//   <origin>\n<tree size>\n<base64 root hash>\n\n— <key name> <base64(key id ||
//   signature)>\n
//
// Key id = first 4 bytes of SHA-256(<key name> || 0x0A || 0x01 || public key).
// Verifier key text = <key name>+<8 hex digits key id>+<base64(0x01 || public
// key)>.
//
// Thread safety: all functions are thread-safe; a SigningKey may be shared.
#ifndef CASELEDGER_LEDGER_CHECKPOINT_H_
#define CASELEDGER_LEDGER_CHECKPOINT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ledger/sha256.h"

namespace caseledger {

// The statement a checkpoint signs.
struct Checkpoint {
  std::string origin;
  uint64_t tree_size = 0;
  Sha256Digest root_hash{};
};

// An Ed25519 private key with its name (the ledger's origin).
class SigningKey {
 public:
  // Makes a new random key.
  static absl::StatusOr<SigningKey> Generate(std::string name);
  // Parses the PKCS#8 PEM text PrivateKeyText() writes. kInvalidArgument
  // when it is not such a key. Reads no file, so checks no permissions.
  static absl::StatusOr<SigningKey> FromPrivateKeyText(std::string name,
                                                       std::string_view pem);

  // PKCS#8 PEM of the private key. Never print it.
  absl::StatusOr<std::string> PrivateKeyText() const;
  const std::string& name() const { return name_; }
  // The 32-byte raw Ed25519 public key.
  const std::string& public_key() const { return public_key_; }
  // C2SP verifier key text, one line without newline.
  std::string VerifierKey() const;
  // Signs `message`: 64 bytes.
  absl::StatusOr<std::string> Sign(std::string_view message) const;

  SigningKey(SigningKey&&) noexcept;
  SigningKey& operator=(SigningKey&&) noexcept;
  ~SigningKey();

 private:
  SigningKey() = default;
  std::string name_;
  std::string public_key_;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A parsed verifier key.
struct VerifierKey {
  std::string name;
  uint32_t key_id = 0;
  std::string public_key;  // 32 bytes
};

// Parses C2SP verifier-key text (surrounding white space ignored).
absl::StatusOr<VerifierKey> ParseVerifierKey(std::string_view text);

// Signs any note body (text ending in a newline, no empty line) as a C2SP
// signed note. The body of any other statement than a checkpoint must not
// parse as a checkpoint body, so that one statement can never be taken for
// another (a bundle manifest's second line, 64 hex digits, is no tree
// size).
absl::StatusOr<std::string> SignNote(std::string_view body,
                                     const SigningKey& key);
// The signature lines of a note that are by other keys than the verifier's
// (another name, or another key id): skipped, not checked.
struct SkippedSignatures {
  size_t lines = 0;
  // Of them, those under the verifier key's own name: another ledger's of
  // that name, or a line made to pass for the ledger's.
  size_t under_its_name = 0;
  // Lines by the verifier key after its first, each verified all the same:
  // the first line again, as Ed25519 signs deterministically. Not skipped,
  // but counted, since they too change the note's bytes unseen.
  size_t repeats_of_its_line = 0;
};
// Verifies a signed note as VerifyCheckpoint does and returns its body.
// `skipped`, when given, is set on success to the lines it skipped.
absl::StatusOr<std::string> VerifyNote(std::string_view note,
                                       const VerifierKey& key,
                                       SkippedSignatures* skipped = nullptr);

// The checkpoint body: "<origin>\n<size>\n<base64 root>\n".
std::string CheckpointBody(const Checkpoint& c);

// Returns the signed note (body, blank line, one signature line).
absl::StatusOr<std::string> SignCheckpoint(const Checkpoint& c,
                                           const SigningKey& key);

// Parses and verifies a signed note against `key`. OK only when the note is
// well formed, carries a valid signature by `key`, and the body is a
// checkpoint; kDataLoss when the signature does not verify; kInvalidArgument
// when the text is malformed, naming the line.
absl::StatusOr<Checkpoint> VerifyCheckpoint(std::string_view note,
                                            const VerifierKey& key);

// Parses the body of a note without checking signatures. `note` may be a
// whole signed note (its signature lines are checked for syntax only) or a
// bare body as CheckpointBody returns it.
absl::StatusOr<Checkpoint> ParseCheckpointBody(std::string_view note);

}  // namespace caseledger

#endif  // CASELEDGER_LEDGER_CHECKPOINT_H_
