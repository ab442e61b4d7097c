// TLS and mutual TLS, with certificates made by the `openssl` command line.
#include <cstdlib>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/server/server_fixture.h"

namespace caseledger {
namespace {

using ::testing::HasSubstr;

// A CA, a server certificate for 127.0.0.1 and a client certificate, all
// P-256, made once for the suite.
class TlsTest : public testing::ServerFixture {
 protected:
  TlsTest() { start_server_ = false; }

  static void SetUpTestSuite() {
    certs_ = new testing::TempFolder();
    const std::string d = certs_->path();
    std::ofstream(d + "/server.ext")
        << "subjectAltName=IP:127.0.0.1,DNS:localhost\n";
    std::ofstream(d + "/client.ext") << "extendedKeyUsage=clientAuth\n";
    std::ofstream(d + "/ca.ext")
        << "basicConstraints=critical,CA:TRUE\nkeyUsage=keyCertSign\n";
    const std::string key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1";
    std::string script = absl::StrCat(
        "set -e; cd ", d, "; ",
        // Two CAs: ours, and another that nobody trusts.
        "for ca in ca other-ca; do openssl req -x509 ", key,
        " -nodes -keyout $ca.key -out $ca.pem -days 2 -subj \"/CN=$ca\"; "
        "done; ",
        "openssl req ", key,
        " -nodes -keyout server.key -out server.csr -subj /CN=localhost; ",
        "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key "
        "-CAcreateserial -out server.pem -days 2 -extfile server.ext; ",
        "openssl req ", key,
        " -nodes -keyout client.key -out client.csr -subj /CN=ingest-service; ",
        "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key "
        "-CAcreateserial -out client.pem -days 2 -extfile client.ext; ",
        "openssl req -x509 ", key,
        " -nodes -keyout rogue.key -out rogue.pem -days 2 -subj /CN=rogue; ",
        // A common name with a space, and no other name.
        "openssl req ", key,
        " -nodes -keyout spaced.key -out spaced.csr "
        "-subj \"/CN=x tls:admin.example\"; ",
        "openssl x509 -req -in spaced.csr -CA ca.pem -CAkey ca.key "
        "-CAcreateserial -out spaced.pem -days 2; ",
        // The same with a tab, and with a no-break space (UTF-8).
        "openssl req ", key,
        " -nodes -keyout tabbed.key -out tabbed.csr "
        "-subj \"/CN=x\ttls:admin.example\"; ",
        "openssl x509 -req -in tabbed.csr -CA ca.pem -CAkey ca.key "
        "-CAcreateserial -out tabbed.pem -days 2; ",
        "openssl req ", key,
        " -utf8 -nodes -keyout nbsp.key -out nbsp.csr "
        "-subj \"/CN=x\xc2\xa0tls:admin.example\"; ",
        "openssl x509 -req -in nbsp.csr -CA ca.pem -CAkey ca.key "
        "-CAcreateserial -out nbsp.pem -days 2; ",
        // A '%' (the spaced name as written), a line separator and a
        // zero-width space, in UTF-8.
        "openssl req ", key,
        " -utf8 -nodes -keyout percent.key -out percent.csr "
        "-subj \"/CN=x%20tls:admin.example\"; ",
        "openssl x509 -req -in percent.csr -CA ca.pem -CAkey ca.key "
        "-CAcreateserial -out percent.pem -days 2; ",
        "openssl req ", key,
        " -utf8 -nodes -keyout separator.key -out separator.csr "
        "-subj \"/CN=x\xe2\x80\xa8tls:admin.example\"; ",
        "openssl x509 -req -in separator.csr -CA ca.pem -CAkey ca.key "
        "-CAcreateserial -out separator.pem -days 2; ",
        "openssl req ", key,
        " -utf8 -nodes -keyout zero-width.key -out zero-width.csr "
        "-subj \"/CN=x\xe2\x80\x8btls:admin.example\"; ",
        "openssl x509 -req -in zero-width.csr -CA ca.pem -CAkey ca.key "
        "-CAcreateserial -out zero-width.pem -days 2; ",
        "openssl pkey -in server.key -out server-encrypted.key -aes256 "
        "-passout pass:x; ",
        // Certificates no peer would take: a key OpenSSL finds too small,
        // a curve TLS does not sign with, dates long past.
        "openssl req -x509 -newkey rsa:1024 -nodes -keyout small.key "
        "-out small.pem -days 2 -subj /CN=small; ",
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:secp256k1 "
        "-nodes -keyout k1.key -out k1.pem -days 2 -subj /CN=k1; ",
        // A good key whose chain holds a CA with a key too small.
        "openssl req -newkey rsa:1024 -nodes -keyout weak-ca.key "
        "-out weak-ca.csr -subj /CN=weak-ca; ",
        "openssl x509 -req -in weak-ca.csr -CA ca.pem -CAkey ca.key "
        "-CAcreateserial -out weak-ca.pem -days 2 -extfile ca.ext; ",
        "openssl req ", key,
        " -nodes -keyout chained.key -out chained.csr -subj /CN=localhost; ",
        "openssl x509 -req -in chained.csr -CA weak-ca.pem -CAkey weak-ca.key "
        "-CAcreateserial -out chained.pem -days 2 -extfile server.ext; ",
        "cat weak-ca.pem >>chained.pem; ",
        "openssl genpkey -genparam -algorithm DSA "
        "-pkeyopt dsa_paramgen_bits:2048 -out dsa.param; ",
        "openssl req -x509 -newkey dsa:dsa.param -nodes -keyout dsa.key "
        "-out dsa.pem -days 2 -subj /CN=dsa; ",
        "mkdir cadb; : >cadb/index.txt; echo 01 >cadb/serial; ",
        "printf \"[ca]\\ndefault_ca=d\\n[d]\\ndatabase=cadb/index.txt\\n"
        "new_certs_dir=cadb\\nserial=cadb/serial\\ndefault_md=sha256\\n"
        "policy=p\\n[p]\\ncommonName=supplied\\n\" >ca.cnf; ",
        "openssl req ", key,
        " -nodes -keyout expired.key -out expired.csr -subj /CN=expired; ",
        "openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key "
        "-in expired.csr -out expired.pem -startdate 20200101000000Z "
        "-enddate 20210101000000Z; ",
        "openssl req ", key,
        " -nodes -keyout future.key -out future.csr -subj /CN=future; ",
        "openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key "
        "-in future.csr -out future.pem -startdate 20990101000000Z "
        "-enddate 21000101000000Z");
    std::string command =
        absl::StrCat("sh -c '", script, "' >", d, "/openssl.log 2>&1");
    ASSERT_EQ(std::system(command.c_str()), 0)
        << testing::FileContents(d + "/openssl.log");
  }
  static void TearDownTestSuite() {
    delete certs_;
    certs_ = nullptr;
  }

  static std::string Pem(const std::string& name) {
    return testing::FileContents(certs_->Sub(name));
  }

  server::ServerOptions TlsOptions(bool mutual) {
    server::ServerOptions options;
    options.tls_cert_pem = Pem("server.pem");
    options.tls_key_pem = Pem("server.key");
    if (mutual) options.tls_client_ca_pem = Pem("ca.pem");
    return options;
  }

  absl::Status Ping(const std::string& token, client::ClientOptions options) {
    options.timeout = absl::Seconds(5);
    return Client(token, std::move(options))->GetCheckpoint(0).status();
  }

  static testing::TempFolder* certs_;
};

testing::TempFolder* TlsTest::certs_ = nullptr;

TEST_F(TlsTest, ServerWithTlsServesOnlyClientsThatTrustIt) {
  StartServer(TlsOptions(/*mutual=*/false));
  client::ClientOptions trusted;
  trusted.tls_ca_pem = Pem("ca.pem");
  EXPECT_OK(Ping(tokens_.reader, trusted));

  // What to check is said: gRPC's words were "Socket closed" alone.
  const absl::Status plaintext = Ping(tokens_.reader, {});
  EXPECT_EQ(plaintext.code(), absl::StatusCode::kUnavailable)
      << "plaintext to a TLS port";
  EXPECT_THAT(std::string(plaintext.message()),
              HasSubstr("(the server may speak TLS: give --tls-ca FILE)"));
  client::ClientOptions wrong_ca;
  wrong_ca.tls_ca_pem = Pem("other-ca.pem");
  const absl::Status untrusted = Ping(tokens_.reader, wrong_ca);
  EXPECT_EQ(untrusted.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(untrusted.message()),
              HasSubstr("(the server's certificate is not signed by a CA of "
                        "--tls-ca, or is out of its dates)"));
  // TLS does not replace tokens.
  EXPECT_EQ(Ping("clt_unknown", trusted).code(),
            absl::StatusCode::kUnauthenticated);
}

TEST_F(TlsTest, MutualTlsRequiresAClientCertificateFromTheCa) {
  StartServer(TlsOptions(/*mutual=*/true));
  client::ClientOptions with_cert;
  with_cert.tls_ca_pem = Pem("ca.pem");
  with_cert.tls_cert_pem = Pem("client.pem");
  with_cert.tls_key_pem = Pem("client.key");
  EXPECT_OK(Ping(tokens_.reader, with_cert));

  client::ClientOptions no_cert;
  no_cert.tls_ca_pem = Pem("ca.pem");
  const absl::Status refused = Ping(tokens_.reader, no_cert);
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(refused.message()),
              HasSubstr("(the server may require a client certificate: give "
                        "--tls-cert FILE --tls-key FILE)"));
  client::ClientOptions rogue = no_cert;
  rogue.tls_cert_pem = Pem("rogue.pem");
  rogue.tls_key_pem = Pem("rogue.key");
  EXPECT_EQ(Ping(tokens_.reader, rogue).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(Ping("clt_unknown", with_cert).code(),
            absl::StatusCode::kUnauthenticated);

  // The access log names the certificate's identity beside the token.
  ASSERT_OK(Client(tokens_.reader, with_cert)
                ->ReadAll(1, 0, [](const RecordedEvent&) {
                  return absl::OkStatus();
                }));
  EXPECT_THAT(testing::FileContents(AccessLogPath()),
              HasSubstr("tls:ingest-service"));
  // One name is one word: a space in it passed for two names, and so did
  // a tab or a no-break space after spaces were encoded. Nor may one name be
  // written as another is, or show as another: '%' is encoded too
  // ("x%20tls:admin.example" kept would read as the spaced name), and so
  // are a line separator and a character that shows as nothing (found by a
  // mutation).
  const std::pair<std::string, std::string> names[] = {
      {"spaced", "x%20tls:admin.example"},
      {"tabbed", "x%09tls:admin.example"},
      {"nbsp", "x%C2%A0tls:admin.example"},
      {"percent", "x%2520tls:admin.example"},
      {"separator", "x%E2%80%A8tls:admin.example"},
      {"zero-width", "x%E2%80%8Btls:admin.example"}};
  for (const auto& [cert, written] : names) {
    client::ClientOptions named = no_cert;
    named.tls_cert_pem = Pem(cert + ".pem");
    named.tls_key_pem = Pem(cert + ".key");
    ASSERT_OK(
        Client(tokens_.reader, named)->ReadAll(1, 0, [](const RecordedEvent&) {
          return absl::OkStatus();
        }));
    EXPECT_THAT(testing::FileContents(AccessLogPath()),
                HasSubstr(absl::StrCat(" tls:", written, "\"")))
        << cert;
  }
}

TEST_F(TlsTest, HalfConfiguredTlsIsRefused) {
  server::ServerOptions options;
  options.service.ledger = ledger_.get();
  options.service.tokens = &token_table_;
  options.service.clock = &SystemClock();
  options.tls_cert_pem = Pem("server.pem");
  EXPECT_EQ(server::Server::Start(options).status().code(),
            absl::StatusCode::kInvalidArgument);
  options.tls_cert_pem.clear();
  options.tls_client_ca_pem = Pem("ca.pem");
  EXPECT_EQ(server::Server::Start(options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// gRPC fails to build a listener on bad TLS material without saying why;
// Start reads the PEM text first, and names the file that is wrong.
TEST_F(TlsTest, BadTlsMaterialIsRefusedNamingTheFile) {
  struct Case {
    std::string cert, key, client_ca, message;
  } cases[] = {
      {"not a certificate", Pem("server.key"), "", "certificate file"},
      {Pem("server.pem"), "not a key", "", "key file"},
      // OpenSSL asked for its passphrase on the terminal, and waited.
      {Pem("server.pem"), Pem("server-encrypted.key"), "",
       "holds an encrypted private key, and serve takes no passphrase"},
      {Pem("server.pem"), Pem("rogue.key"), "", "does not belong"},
      {Pem("server.pem"), Pem("server.key"), "garbage", "client CA file"},
      // Taken, then refused by gRPC's own load: "cannot listen on ...: the
      // port is taken", after the ledger was opened.
      {Pem("small.pem"), Pem("small.key"), "",
       "the certificate chain in the TLS certificate file is refused by TLS "
       "at this machine's security level (ee key too small)"},
      // The certificates after the first are loaded as gRPC loads them.
      {Pem("chained.pem"), Pem("chained.key"), "",
       "the certificate chain in the TLS certificate file is refused by TLS "
       "at this machine's security level (ca key too small)"},
      // Taken, then no client could agree on a signature with it.
      {Pem("k1.pem"), Pem("k1.key"), "",
       "the TLS key file holds an EC key on the curve secp256k1, which TLS "
       "does not sign with"},
      {Pem("expired.pem"), Pem("expired.key"), "",
       "the certificate in the TLS certificate file expired on Jan  1 "
       "00:00:00 2021 GMT; no peer would accept it"},
      // Not yet valid, as out of date is; and a kind of key TLS does not
      // sign with, as the curve above.
      {Pem("future.pem"), Pem("future.key"), "",
       "the certificate in the TLS certificate file is not valid before Jan  "
       "1 00:00:00 2099 GMT; no peer would accept it yet (or this machine's "
       "clock is wrong)"},
      {Pem("dsa.pem"), Pem("dsa.key"), "",
       "the TLS key file holds a DSA key, which TLS 1.2 and 1.3 do not sign "
       "with as gRPC offers them: use RSA (2048 bits or more), EC (P-256, "
       "P-384, P-521) or Ed25519"},
  };
  for (const Case& c : cases) {
    server::ServerOptions options;
    options.listen = "127.0.0.1:0";
    options.service.ledger = ledger_.get();
    options.service.tokens = &token_table_;
    options.service.clock = &SystemClock();
    options.tls_cert_pem = c.cert;
    options.tls_key_pem = c.key;
    options.tls_client_ca_pem = c.client_ca;
    auto started = server::Server::Start(std::move(options));
    EXPECT_EQ(started.status().code(), absl::StatusCode::kInvalidArgument)
        << c.message << ": " << started.status();
    EXPECT_THAT(std::string(started.status().message()), HasSubstr(c.message));
  }
}

// The client's TLS flags are read before gRPC is given them: gRPC logged
// "Invalid private key" lines and the client then said "empty address
// list"; an encrypted key made OpenSSL ask for a passphrase.
TEST_F(TlsTest, TheClientNamesTheTlsFlagThatIsWrong) {
  struct Case {
    std::string ca, cert, key, message;
  } cases[] = {
      {"garbage", "", "", "--tls-ca holds no PEM certificate"},
      {Pem("ca.pem"), "not a certificate", Pem("client.key"),
       "--tls-cert holds no PEM certificate"},
      {Pem("ca.pem"), Pem("client.pem"), "not a key",
       "--tls-key holds no PEM private key"},
      {Pem("ca.pem"), Pem("server.pem"), Pem("server-encrypted.key"),
       "--tls-key holds an encrypted private key, and the client takes no "
       "passphrase"},
      {Pem("ca.pem"), Pem("client.pem"), Pem("rogue.key"),
       "the private key in --tls-key does not belong to the certificate in "
       "--tls-cert"},
      {Pem("ca.pem"), Pem("expired.pem"), Pem("expired.key"),
       "the certificate in --tls-cert expired on "},
  };
  for (const Case& c : cases) {
    client::ClientOptions options;
    options.server = "127.0.0.1:1";
    options.token = "t";
    options.tls_ca_pem = c.ca;
    options.tls_cert_pem = c.cert;
    options.tls_key_pem = c.key;
    auto connected = client::LedgerClient::Connect(std::move(options));
    EXPECT_EQ(connected.status().code(), absl::StatusCode::kInvalidArgument)
        << c.message << ": " << connected.status();
    EXPECT_THAT(std::string(connected.status().message()),
                HasSubstr(c.message));
  }
}

}  // namespace
}  // namespace caseledger
