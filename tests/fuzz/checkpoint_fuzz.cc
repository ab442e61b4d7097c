// Fuzz target: the signed-note and checkpoint parsers and the verifier-key
// parser (ledger/checkpoint.h), which read what arrives from outside: a
// checkpoint in a bundle, a --pubkey file. Properties: no crash on any
// input; a note that verifies under our key also parses as a body, and says
// the same, and stops verifying once a byte of its text changes; a body
// that parses is the one text form of what it says (CheckpointBody writes
// the lines it was read from), and signs and verifies back to itself; a
// verifier key that parses prints back as the text it was read from, and
// never accepts a note it did not sign.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ledger/base64.h"
#include "ledger/checkpoint.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using caseledger::Checkpoint;

// A fixed key, so that every crash reproduces. Test data only.
constexpr char kPem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIBhu1DRkd7uyHUGcj9/EjHuPMPnFpHCntVYv0G6fkwH8\n"
    "-----END PRIVATE KEY-----\n";

const caseledger::SigningKey& Key() {
  static const caseledger::SigningKey* key = [] {
    auto k =
        caseledger::SigningKey::FromPrivateKeyText("fuzz.example/log", kPem);
    FUZZ_CHECK(k.ok(), k.status().ToString());
    return new caseledger::SigningKey(*std::move(k));
  }();
  return *key;
}

const caseledger::VerifierKey& Verifier() {
  static const caseledger::VerifierKey* verifier = [] {
    auto v = caseledger::ParseVerifierKey(Key().VerifierKey());
    FUZZ_CHECK(v.ok(), v.status().ToString());
    return new caseledger::VerifierKey(*std::move(v));
  }();
  return *verifier;
}

bool Same(const Checkpoint& a, const Checkpoint& b) {
  return a.origin == b.origin && a.tree_size == b.tree_size &&
         a.root_hash == b.root_hash;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  auto body = caseledger::ParseCheckpointBody(text);
  auto verified = caseledger::VerifyCheckpoint(text, Verifier());
  if (verified.ok()) {
    FUZZ_CHECK(body.ok(), absl::StrCat("a note that verifies does not parse: ",
                                       body.status().ToString()));
    FUZZ_CHECK(Same(*body, *verified), "parse and verify disagree");
    // The signature covers every byte of the text: one changed (here the
    // origin's first) must not verify.
    std::string changed(text);
    changed[0] ^= 1;
    FUZZ_CHECK(!caseledger::VerifyCheckpoint(changed, Verifier()).ok(),
               "a note whose text was changed still verifies");
  } else {
    FUZZ_CHECK(absl::IsInvalidArgument(verified.status()) ||
                   absl::IsDataLoss(verified.status()),
               verified.status().ToString());
  }
  auto note_text = caseledger::VerifyNote(text, Verifier());
  FUZZ_CHECK(note_text.ok() || !verified.ok(),
             "VerifyCheckpoint accepted what VerifyNote refuses");

  if (body.ok()) {
    // One text form per checkpoint: the lines read are the lines written
    // back (a tree size "07" or one past 2^64 read as another number; a
    // note's text, or a body, may go on with extension lines).
    FUZZ_CHECK(absl::StartsWith(absl::string_view(text.data(), text.size()),
                                caseledger::CheckpointBody(*body)),
               absl::StrCat("a body that parses is not the one text form of "
                            "what it says: ",
                            caseledger::CheckpointBody(*body)));
    auto signed_note = caseledger::SignCheckpoint(*body, Key());
    // What a verifier accepts, we sign: SignCheckpoint refuses only a note
    // that would grow past the size limit.
    FUZZ_CHECK(
        signed_note.ok() ||
            absl::StrContains(signed_note.status().message(), "more than"),
        absl::StrCat("a body that parses does not sign: ",
                     signed_note.status().ToString()));
    if (signed_note.ok()) {
      auto back = caseledger::VerifyCheckpoint(*signed_note, Verifier());
      FUZZ_CHECK(back.ok(), absl::StrCat("our own signature does not verify: ",
                                         back.status().ToString()));
      FUZZ_CHECK(Same(*back, *body), "sign and verify changed the checkpoint");
    }
  }

  auto key = caseledger::ParseVerifierKey(text);
  if (key.ok()) {
    FUZZ_CHECK(key->public_key.size() == 32, "public key is not 32 bytes");
    // One text form per key, as `caseledger key` prints it: a key id in
    // upper case, or one that is not the key's, is refused.
    const std::string printed = absl::StrCat(
        key->name, "+", absl::Hex(key->key_id, absl::kZeroPad8), "+",
        caseledger::Base64Encode(std::string(1, '\x01') + key->public_key));
    FUZZ_CHECK(printed == absl::StripAsciiWhitespace(
                              absl::string_view(text.data(), text.size())),
               absl::StrCat("a verifier key that parses prints as ", printed));
    // Any note signed by us is refused by another key, never accepted.
    static const std::string ours = [] {
      auto n = caseledger::SignCheckpoint({"fuzz.example/log", 7, {}}, Key());
      FUZZ_CHECK(n.ok(), n.status().ToString());
      return *n;
    }();
    auto other = caseledger::VerifyCheckpoint(ours, *key);
    if (key->public_key != Verifier().public_key) {
      FUZZ_CHECK(!other.ok(),
                 "a note verified under a key that did not sign it");
    } else if (key->name == Key().name()) {
      // Our key under our name, whatever key id the text gave: a key id
      // that is not the key's is refused, never read as another key.
      FUZZ_CHECK(other.ok(), absl::StrCat("our own note does not verify under "
                                          "our key read back: ",
                                          other.status().ToString()));
    }
  }
  return 0;
}
