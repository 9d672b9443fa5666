// Certificates made when a test runs, with the openssl command: a CA, a
// server certificate control presents, a client certificate for mutual
// TLS, and a second CA (with a client certificate of its own) that nothing
// trusts. Keys are P-256, certificates valid for a day.
#ifndef HOTSWAP_HARNESS_TEST_PKI_H_
#define HOTSWAP_HARNESS_TEST_PKI_H_

#include <string>

namespace hotswap::test {

// Paths of PEM files, all in the directory given to make_test_pki().
struct TestPki {
  std::string ca_cert, ca_key;
  // Subject alternative names IP:127.0.0.1, DNS:localhost and
  // DNS:127.0.0.1: kj's TLS checks the name a sidecar dials as a DNS name
  // even when it is an address (docs/tls.md).
  std::string server_cert, server_key;
  std::string client_cert, client_key;              // signed by the CA, clientAuth
  std::string other_ca_cert;                        // a CA nothing trusts
  std::string other_client_cert, other_client_key;  // signed by the other CA
};

// Writes the files into `dir` (which must exist). Throws
// std::runtime_error naming the openssl step that failed.
TestPki make_test_pki(const std::string& dir);

// The openssl command found in PATH; throws std::runtime_error if none.
std::string openssl_binary();

}  // namespace hotswap::test

#endif  // HOTSWAP_HARNESS_TEST_PKI_H_
