// One Cap'n Proto RPC connection over a stream, reading every message with
// the protocol's limits (limits.h). Used by both ends: control accepts
// sidecars' connections, a sidecar opens one to control.
#ifndef HOTSWAP_PROTOCOL_RPC_CONNECTION_H_
#define HOTSWAP_PROTOCOL_RPC_CONNECTION_H_

#include <capnp/rpc-twoparty.h>
#include <kj/async-io.h>

namespace hotswap::protocol {

class RpcConnection {
 public:
  // `bootstrap` is what this side offers the peer (control's Control; a
  // sidecar offers nothing and gets the peer's with peer_bootstrap()).
  RpcConnection(kj::Own<kj::AsyncIoStream> stream, capnp::rpc::twoparty::Side side,
                capnp::Capability::Client bootstrap);

  // The peer's bootstrap capability (client side).
  capnp::Capability::Client peer_bootstrap();

  // Resolves when the peer disconnects or sends something unreadable (a
  // message over the limits, garbage); never rejects.
  kj::Promise<void> on_disconnect();

 private:
  kj::Own<kj::AsyncIoStream> stream_;
  capnp::TwoPartyVatNetwork network_;
  capnp::RpcSystem<capnp::rpc::twoparty::VatId> rpc_;
};

}  // namespace hotswap::protocol

#endif  // HOTSWAP_PROTOCOL_RPC_CONNECTION_H_
