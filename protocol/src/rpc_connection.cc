#include "hotswap/protocol/rpc_connection.h"

#include "hotswap/protocol/coalescing_stream.h"
#include "hotswap/protocol/limits.h"

namespace hotswap::protocol {

RpcConnection::RpcConnection(kj::Own<kj::AsyncIoStream> stream, capnp::rpc::twoparty::Side side,
                             capnp::Capability::Client bootstrap)
    : stream_(kj::heap<CoalescingStream>(kj::mv(stream))),
      network_(*stream_, side, reader_options()),
      rpc_(capnp::makeRpcServer(network_, kj::mv(bootstrap))) {}

capnp::Capability::Client RpcConnection::peer_bootstrap() {
  capnp::word scratch[4]{};
  capnp::MallocMessageBuilder message(scratch);
  auto vat = message.getRoot<capnp::rpc::twoparty::VatId>();
  vat.setSide(network_.getSide() == capnp::rpc::twoparty::Side::CLIENT
                  ? capnp::rpc::twoparty::Side::SERVER
                  : capnp::rpc::twoparty::Side::CLIENT);
  return rpc_.bootstrap(vat);
}

kj::Promise<void> RpcConnection::on_disconnect() {
  return network_.onDisconnect().catch_([](kj::Exception&&) {});
}

}  // namespace hotswap::protocol
