#include "tools/server/tls_material.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "openssl/core_names.h"
#include "openssl/err.h"
#include "openssl/objects.h"
#include "openssl/pem.h"
#include "openssl/ssl.h"
#include "openssl/x509.h"

namespace caseledger::server {
namespace {

using Bio = std::unique_ptr<BIO, decltype(&BIO_free)>;
using Certificate = std::unique_ptr<X509, decltype(&X509_free)>;
using PrivateKey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

Bio PemText(const std::string& pem) {
  return Bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())),
             &BIO_free);
}

Certificate FirstCertificate(const std::string& pem) {
  Bio bio = PemText(pem);
  return Certificate(
      bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr,
      &X509_free);
}

absl::Status NoCertificateIn(const TlsMaterial::Pem& pem) {
  return absl::InvalidArgumentError(
      absl::StrCat(pem.named, " holds no PEM certificate"));
}

// An ASN.1 time as OpenSSL prints it ("Jan  1 00:00:00 2020 GMT").
std::string TimeOf(const ASN1_TIME* time) {
  Bio bio(BIO_new(BIO_s_mem()), &BIO_free);
  if (!bio || ASN1_TIME_print(bio.get(), time) != 1) return "?";
  char* text = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &text);
  return std::string(text, static_cast<size_t>(length));
}

// The certificate chain and key loaded into a TLS context, as gRPC will
// load them. OpenSSL refuses there, at its security level (Debian's is 2),
// a key too small or a signature with a weak digest (RSA-1024, SHA-1), and
// gRPC then said only that it could not listen, or "empty address list",
// after the ledger was opened (found by an adversarial test).
absl::Status LoadsAsGrpcLoadsIt(const TlsMaterial& material,
                                const Certificate& cert,
                                const PrivateKey& key) {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> context(
      SSL_CTX_new(TLS_method()), &SSL_CTX_free);
  if (!context) return absl::OkStatus();  // no memory: gRPC will say
  ERR_clear_error();
  bool loaded = SSL_CTX_use_certificate(context.get(), cert.get()) == 1 &&
                SSL_CTX_use_PrivateKey(context.get(), key.get()) == 1;
  Bio bio = PemText(material.certificate.text);
  // The certificates after the first make the chain.
  X509_free(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  while (loaded) {
    X509* next = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
    if (next == nullptr) break;
    loaded = SSL_CTX_add0_chain_cert(context.get(), next) == 1;
    if (!loaded) X509_free(next);
  }
  if (loaded) {
    ERR_clear_error();
    return absl::OkStatus();
  }
  const char* reason = ERR_reason_error_string(ERR_peek_last_error());
  ERR_clear_error();
  return absl::InvalidArgumentError(absl::StrCat(
      "the certificate chain in ", material.certificate.named,
      " is refused by TLS at this machine's security level (",
      reason == nullptr ? "no reason given" : reason,
      "): give a certificate with an RSA key of 2048 bits or more, or an EC "
      "or Ed25519 key, signed with SHA-256 or stronger"));
}

// A key TLS 1.2 or 1.3 signs handshakes with, as gRPC offers them. A DSA
// key, or an EC key on another curve, loads and serves, and then no peer
// agrees on a signature with it ("no suitable signature algorithm"; found
// by an adversarial test).
absl::Status CheckSigningKey(const TlsMaterial::Pem& key_pem, EVP_PKEY* key) {
  const int type = EVP_PKEY_get_base_id(key);
  if (type == EVP_PKEY_RSA || type == EVP_PKEY_RSA_PSS ||
      type == EVP_PKEY_ED25519 || type == EVP_PKEY_ED448) {
    return absl::OkStatus();
  }
  if (type == EVP_PKEY_EC) {
    char curve[80] = {};
    size_t length = 0;
    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, curve,
                                       sizeof(curve), &length) != 1) {
      return absl::OkStatus();  // a curve given by its parameters: TLS says
    }
    const std::string name(curve, length);
    if (name == "prime256v1" || name == "secp384r1" || name == "secp521r1") {
      return absl::OkStatus();
    }
    return absl::InvalidArgumentError(absl::StrCat(
        key_pem.named, " holds an EC key on the curve ", name,
        ", which TLS does not sign with: use P-256, P-384 or P-521 "
        "(prime256v1, secp384r1, secp521r1), RSA or Ed25519"));
  }
  const char* name = OBJ_nid2sn(type);
  return absl::InvalidArgumentError(absl::StrCat(
      key_pem.named, " holds a ", name == nullptr ? "kind of" : name,
      " key, which TLS 1.2 and 1.3 do not sign with as gRPC offers them: use "
      "RSA (2048 bits or more), EC (P-256, P-384, P-521) or Ed25519"));
}

// The certificate and its key, given together (callers check that).
absl::Status CheckKeyPair(const TlsMaterial& material) {
  const TlsMaterial::Pem& cert_pem = material.certificate;
  const TlsMaterial::Pem& key_pem = material.private_key;
  Certificate cert = FirstCertificate(cert_pem.text);
  if (!cert) return NoCertificateIn(cert_pem);
  Bio bio = PemText(key_pem.text);
  bool encrypted = false;
  PrivateKey key(bio ? PEM_read_bio_PrivateKey(
                           bio.get(), nullptr,
                           +[](char*, int, int, void* asked) {
                             *static_cast<bool*>(asked) = true;
                             return 0;
                           },
                           &encrypted)
                     : nullptr,
                 &EVP_PKEY_free);
  if (encrypted) {
    return absl::InvalidArgumentError(absl::StrCat(
        key_pem.named, " holds an encrypted private key, and ", material.user,
        " takes no passphrase: give it unencrypted (openssl pkey -in KEY "
        "-out PLAIN.pem), readable by this user only"));
  }
  if (!key) {
    return absl::InvalidArgumentError(
        absl::StrCat(key_pem.named, " holds no PEM private key"));
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the private key in ", key_pem.named,
        " does not belong to the certificate in ", cert_pem.named));
  }
  if (absl::Status signs = CheckSigningKey(key_pem, key.get()); !signs.ok()) {
    return signs;
  }
  // A certificate out of its dates is refused by every peer that checks
  // it, each with a bare "certificate verify failed": said here, once.
  if (X509_cmp_current_time(X509_get0_notAfter(cert.get())) < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the certificate in ", cert_pem.named, " expired on ",
        TimeOf(X509_get0_notAfter(cert.get())), "; no peer would accept it"));
  }
  if (X509_cmp_current_time(X509_get0_notBefore(cert.get())) > 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the certificate in ", cert_pem.named, " is not valid before ",
        TimeOf(X509_get0_notBefore(cert.get())),
        "; no peer would accept it yet (or this machine's clock is wrong)"));
  }
  return LoadsAsGrpcLoadsIt(material, cert, key);
}

}  // namespace

absl::Status CheckTlsMaterial(const TlsMaterial& material) {
  if (!material.certificate.text.empty()) {
    if (absl::Status pair = CheckKeyPair(material); !pair.ok()) return pair;
  }
  if (!material.trusted_ca.text.empty() &&
      !FirstCertificate(material.trusted_ca.text)) {
    return NoCertificateIn(material.trusted_ca);
  }
  return absl::OkStatus();
}

}  // namespace caseledger::server
