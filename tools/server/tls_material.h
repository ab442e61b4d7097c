// Reads TLS material (PEM text) as gRPC will, before gRPC does: gRPC only
// says that it could not build a listener or a channel, in log lines, and
// the CLI then blamed the address. Shared by the server and the client.
//
// Thread safety: a pure function.
#ifndef CASELEDGER_TOOLS_SERVER_TLS_MATERIAL_H_
#define CASELEDGER_TOOLS_SERVER_TLS_MATERIAL_H_

#include <string>

#include "absl/status/status.h"

namespace caseledger::server {

// Each piece of PEM text, and how an error names where it came from.
struct TlsMaterial {
  struct Pem {
    std::string text;   // empty: not given, not checked
    std::string named;  // e.g. "the TLS key file", "--tls-key"
  };
  Pem certificate, private_key, trusted_ca;
  std::string user;  // who reads the key: "serve", "the client"
};

// OK when every piece given reads: a certificate, an unencrypted private
// key of that certificate, a CA certificate. kInvalidArgument naming the
// piece otherwise. An encrypted key is refused without asking for its
// passphrase (OpenSSL asks on the terminal, and waits).
absl::Status CheckTlsMaterial(const TlsMaterial& material);

}  // namespace caseledger::server

#endif  // CASELEDGER_TOOLS_SERVER_TLS_MATERIAL_H_
