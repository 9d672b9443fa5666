#include "hotswap/protocol/kj_tls.h"

namespace hotswap::protocol {
namespace {

// kj trusts the first certificate of each TlsCertificate: one per CA.
std::vector<kj::TlsCertificate> certificates(const std::vector<std::string>& pems) {
  std::vector<kj::TlsCertificate> out;
  for (const std::string& pem : pems) out.emplace_back(kj::StringPtr(pem.c_str(), pem.size()));
  return out;
}

kj::TlsContext::Options base_options() {
  kj::TlsContext::Options options;
  options.useSystemTrustStore = false;
  options.minVersion = kj::TlsVersion::TLS_1_2;
  return options;
}

std::string describe(const kj::Exception& e) {
  return std::string(e.getDescription().cStr());
}

}  // namespace

std::expected<std::unique_ptr<kj::TlsContext>, std::string> kj_tls_server(
    const TlsIdentity& identity, const std::vector<std::string>& client_cas) {
  try {
    kj::TlsKeypair keypair{
        kj::TlsPrivateKey(kj::StringPtr(identity.key_pem.c_str(), identity.key_pem.size())),
        kj::TlsCertificate(kj::StringPtr(identity.cert_pem.c_str(), identity.cert_pem.size()))};
    const auto trusted = certificates(client_cas);
    auto options = base_options();
    options.defaultKeypair = keypair;
    options.verifyClients = !client_cas.empty();
    options.trustedCertificates = kj::arrayPtr(trusted.data(), trusted.size());
    // The context copies what it needs into OpenSSL's; the keypair and the
    // certificates may go.
    return std::make_unique<kj::TlsContext>(kj::mv(options));
  } catch (const kj::Exception& e) {
    return std::unexpected("TLS server setup failed: " + describe(e));
  }
}

std::expected<std::unique_ptr<kj::TlsContext>, std::string> kj_tls_client(
    const std::vector<std::string>& cas, const std::optional<TlsIdentity>& identity) {
  try {
    const auto trusted = certificates(cas);
    auto options = base_options();
    options.trustedCertificates = kj::arrayPtr(trusted.data(), trusted.size());
    std::optional<kj::TlsKeypair> keypair;
    if (identity) {
      keypair.emplace(kj::TlsKeypair{
          kj::TlsPrivateKey(kj::StringPtr(identity->key_pem.c_str(), identity->key_pem.size())),
          kj::TlsCertificate(
              kj::StringPtr(identity->cert_pem.c_str(), identity->cert_pem.size()))});
      options.defaultKeypair = *keypair;
    }
    return std::make_unique<kj::TlsContext>(kj::mv(options));
  } catch (const kj::Exception& e) {
    return std::unexpected("TLS client setup failed: " + describe(e));
  }
}

}  // namespace hotswap::protocol
