// kj's TLS (libkj-tls, over OpenSSL) set up the way both ends of the RPC
// port use it: TLS 1.2 at least, trust only in the CAs given (never the
// system store: a control certificate comes from the operator's CA), and
// on the server, when a client CA is given, a client certificate required
// and verified (mutual TLS).
#ifndef HOTSWAP_PROTOCOL_KJ_TLS_H_
#define HOTSWAP_PROTOCOL_KJ_TLS_H_

#include <kj/compat/tls.h>

#include <expected>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hotswap/protocol/tls_files.h"

namespace hotswap::protocol {

// The server side: presents `identity`; with `client_cas` not empty,
// accepts only clients whose certificate one of them signed.
std::expected<std::unique_ptr<kj::TlsContext>, std::string> kj_tls_server(
    const TlsIdentity& identity, const std::vector<std::string>& client_cas);

// The client side: trusts only `cas`; presents `identity` if given.
std::expected<std::unique_ptr<kj::TlsContext>, std::string> kj_tls_client(
    const std::vector<std::string>& cas, const std::optional<TlsIdentity>& identity);

}  // namespace hotswap::protocol

#endif  // HOTSWAP_PROTOCOL_KJ_TLS_H_
