// What a stored message's own headers say against the event that records
// its sending. The court's question is what was sent, to whom: an event
// that names one address while the message it points to went to another
// is a contradiction the report must put in front of the reader, not leave
// for them to spot in a header block (found by an audit).
//
// Only the fields an office's mail system writes verbatim are compared:
// the recipients (To, Cc, as addresses) and Message-ID. The subject is not:
// events record a short subject for people, and the examples' messages
// carry a longer one.
//
// Thread safety: pure functions, thread-safe.
#ifndef CASELEDGER_PROJECTIONS_BUNDLE_INTERNAL_MESSAGE_HEADERS_H_
#define CASELEDGER_PROJECTIONS_BUNDLE_INTERNAL_MESSAGE_HEADERS_H_

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "google/protobuf/repeated_ptr_field.h"

namespace caseledger::bundle::internal {

// The fields of the message's header section (up to its first empty line),
// unfolded, in order: lowercase name and value without surrounding space.
std::vector<std::pair<std::string, std::string>> HeaderFields(
    std::string_view message);

// The addresses an address-list field names (RFC 5322 §3.4), lowercase,
// in order: display names, comments, quoted text and group names dropped.
std::vector<std::string> AddressesIn(std::string_view list);

// The charset FromLatinCharset reads a message labelled `label` (lowercase)
// in: "windows-1252" for its own labels and for ISO 8859-1's and US-ASCII's,
// which mail programs read as windows-1252 (as the WHATWG Encoding standard
// does: a euro sign under "iso-8859-1" is common); "iso-8859-15" for its
// labels; "" for any other.
std::string_view LatinCharsetOf(std::string_view label);
// `bytes` read in the charset LatinCharsetOf(`charset`) names, in UTF-8.
// Each is read as itself: windows-1252's 0x80-0x9F (the euro, curly quotes,
// dashes) and ISO 8859-15's eight letters and the euro were read as
// ISO 8859-1's, which shows a euro sign as a control character, so a sum lost
// it (found by an outside reading). windows-1252's five unassigned bytes are
// read as ISO 8859-1's.
std::string FromLatinCharset(std::string_view bytes, std::string_view charset);

// The value of a header field with its RFC 2047 encoded words
// (=?charset?B?...?=, =?charset?Q?...?=) decoded, in UTF-8, US-ASCII or
// Latin-1 (LatinCharsetOf), and the white space between two of them
// dropped, a line break encoded in one (C0's, NEL, U+2028, U+2029) shown as a
// space; nullopt when it holds none this can decode. A court reads the subject
// and names as the recipient saw them, not in base64.
std::optional<std::string> DecodedWords(std::string_view value);

// What the event records of the message it points to.
struct RecordedSending {
  const google::protobuf::RepeatedPtrField<std::string>& to;
  const google::protobuf::RepeatedPtrField<std::string>& cc;
  const std::string& message_id;
};

// One sentence for the report: where the message's To, Cc and Message-ID
// differ from `recorded` (recipients as sets of addresses, case aside), or
// that they agree. "" when the message has no header section to compare.
std::string HeadersAgainstRecord(std::string_view message,
                                 const RecordedSending& recorded);

}  // namespace caseledger::bundle::internal

#endif  // CASELEDGER_PROJECTIONS_BUNDLE_INTERNAL_MESSAGE_HEADERS_H_
