// Whether a message about to be stored carries the ledger's private key. A
// stored message may go into a bundle, to anyone; the key file sits beside
// the store, where it can be attached by mistake, as itself or inside an
// email (a MIME attachment is base64 wrapped in lines).
//
// Thread safety: a pure function.
#ifndef CASELEDGER_LEDGER_INTERNAL_KEY_IN_MESSAGE_H_
#define CASELEDGER_LEDGER_INTERNAL_KEY_IN_MESSAGE_H_

#include <string_view>

namespace caseledger::internal {

// True when `message` holds, for the Ed25519 private key whose PKCS#8 PEM is
// `pem`: a line of the PEM's base64 body, or the key's raw 32-byte seed, as
// they are or inside a run of base64 text, standard or URL-safe (line
// breaks, white space, a quoted reply's '>' and quoted-printable soft line
// breaks skipped; decoded from each of its first four characters, so that a
// run that begins with the word before the encoded part is read too). The
// seed's own base64 is such a run, and a run that decodes to text (a
// message forwarded as an attachment) is read for runs of its own, one
// level down. Not found: other encodings (hex, compressed or encrypted
// attachments), deeper nesting, and a key split across two MIME parts,
// whose headers come between its halves.
bool CarriesPrivateKey(std::string_view message, std::string_view pem);

}  // namespace caseledger::internal

#endif  // CASELEDGER_LEDGER_INTERNAL_KEY_IN_MESSAGE_H_
