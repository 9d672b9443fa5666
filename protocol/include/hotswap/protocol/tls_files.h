// TLS material read from PEM files and checked before anything listens or
// connects: a certificate that does not parse, a key that does not parse
// or does not belong to the certificate, or a CA file without a
// certificate is an error naming the file, so a process refuses to start
// rather than fail every handshake later. Both control (REST and RPC) and
// the sidecar read their files through here.
#ifndef HOTSWAP_PROTOCOL_TLS_FILES_H_
#define HOTSWAP_PROTOCOL_TLS_FILES_H_

#include <expected>
#include <string>
#include <vector>

namespace hotswap::protocol {

// A certificate (chain, leaf first) and its private key, as PEM text.
struct TlsIdentity {
  std::string cert_pem;
  std::string key_pem;
};

// Reads and checks a certificate chain and its unencrypted private key.
std::expected<TlsIdentity, std::string> load_tls_identity(const std::string& cert_file,
                                                          const std::string& key_file);

// Reads the certificates of a CA file: one PEM text per certificate, at
// least one.
std::expected<std::vector<std::string>, std::string> load_tls_ca(const std::string& ca_file);

}  // namespace hotswap::protocol

#endif  // HOTSWAP_PROTOCOL_TLS_FILES_H_
