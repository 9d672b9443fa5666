#include "hotswap/protocol/tls_files.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fstream>
#include <memory>
#include <sstream>

namespace hotswap::protocol {
namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Bio = std::unique_ptr<BIO, BioFree>;
using Cert = std::unique_ptr<X509, X509Free>;
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

// OpenSSL's reason for the last failure, its error queue emptied.
std::string openssl_reason() {
  const unsigned long code = ERR_peek_last_error();
  ERR_clear_error();
  if (code == 0) return "unknown error";
  const char* reason = ERR_reason_error_string(code);
  return reason != nullptr ? reason : "unknown error";
}

std::expected<std::string, std::string> read_file(const std::string& what,
                                                  const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::unexpected(what + " '" + path + "' cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  if (!in.good() && !in.eof()) return std::unexpected(what + " '" + path + "' cannot be read");
  return text.str();
}

Bio memory_bio(const std::string& text) {
  return Bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

// Every certificate of a PEM text, each written back as PEM on its own.
std::expected<std::vector<Cert>, std::string> parse_certs(const std::string& pem) {
  Bio bio = memory_bio(pem);
  std::vector<Cert> certs;
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    certs.emplace_back(cert);
  }
  const unsigned long last = ERR_peek_last_error();
  // Reading stops at the end of the text with "no start line": that is the
  // normal end once one certificate was read.
  if (!certs.empty() && ERR_GET_LIB(last) == ERR_LIB_PEM &&
      ERR_GET_REASON(last) == PEM_R_NO_START_LINE) {
    ERR_clear_error();
  } else if (last != 0) {
    return std::unexpected(openssl_reason());
  }
  if (certs.empty()) return std::unexpected("no PEM certificate in it");
  return certs;
}

std::string to_pem(X509* cert) {
  Bio out(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(out.get(), cert);
  char* data = nullptr;
  const long size = BIO_get_mem_data(out.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

}  // namespace

std::expected<TlsIdentity, std::string> load_tls_identity(const std::string& cert_file,
                                                          const std::string& key_file) {
  auto cert_pem = read_file("TLS certificate file", cert_file);
  if (!cert_pem) return std::unexpected(cert_pem.error());
  auto key_pem = read_file("TLS key file", key_file);
  if (!key_pem) return std::unexpected(key_pem.error());
  auto certs = parse_certs(*cert_pem);
  if (!certs) {
    return std::unexpected("TLS certificate file '" + cert_file +
                           "' is not a PEM certificate: " + certs.error());
  }
  Bio key_bio = memory_bio(*key_pem);
  Pkey key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    return std::unexpected("TLS key file '" + key_file +
                           "' is not an unencrypted PEM private key: " + openssl_reason());
  }
  if (X509_check_private_key(certs->front().get(), key.get()) != 1) {
    ERR_clear_error();
    return std::unexpected("TLS key file '" + key_file + "' does not match certificate file '" +
                           cert_file + "'");
  }
  return TlsIdentity{std::move(*cert_pem), std::move(*key_pem)};
}

std::expected<std::vector<std::string>, std::string> load_tls_ca(const std::string& ca_file) {
  auto pem = read_file("TLS CA file", ca_file);
  if (!pem) return std::unexpected(pem.error());
  auto certs = parse_certs(*pem);
  if (!certs) {
    return std::unexpected("TLS CA file '" + ca_file +
                           "' is not a PEM certificate: " + certs.error());
  }
  std::vector<std::string> out;
  for (const Cert& cert : *certs) out.push_back(to_pem(cert.get()));
  return out;
}

}  // namespace hotswap::protocol
