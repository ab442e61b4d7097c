#include "tools/server/tls_material.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "openssl/pem.h"
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
  return absl::OkStatus();
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
