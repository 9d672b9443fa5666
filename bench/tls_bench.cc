// What TLS costs on control's two ports, each against plaintext in the same
// run (argument 0: plaintext control, 1: the same control binary with
// --tls-cert): `BM_RestKeptAlive` one GET /api/v1/tenants on a kept-alive
// connection; `BM_RestNewConnection` the same on a new connection each
// time (connect, handshake, request); `BM_RpcConnect` what a sidecar's
// reconnect pays before it can send anything (connect and handshake, kj's
// TLS as the sidecar uses it); `BM_RpcReconnect` a full reconnect (connect,
// handshake, attach answered by control). Certificates are made at start
// (P-256), as the tests make them.
#include <benchmark/benchmark.h>

#include <kj/async-io.h>

#include <memory>
#include <string>

#include "hotswap.capnp.h"
#include "hotswap/harness/cluster.h"
#include "hotswap/harness/temp_dir.h"
#include "hotswap/harness/test_pki.h"
#include "hotswap/protocol/kj_tls.h"
#include "hotswap/protocol/rpc_connection.h"
#include "hotswap/protocol/tls_files.h"

namespace {

using hotswap::test::ControlProcess;
using hotswap::test::Rest;

const std::string kTenant = "acme";
const std::string kNs = "acme/web";

// A plaintext and a TLS control, a client of each, and the kj loop the
// RPC benchmarks run on.
struct Setup {
  hotswap::test::TempDir dir;
  hotswap::test::TestPki pki = hotswap::test::make_test_pki(dir.path());
  ControlProcess plain = ControlProcess::start(dir.path() + "/plain");
  ControlProcess tls = ControlProcess::start(
      dir.path() + "/tls", {"--tls-cert", pki.server_cert, "--tls-key", pki.server_key});
  hotswap::test::RestTls rest_tls{pki.ca_cert, "", ""};
  Rest plain_rest{plain.http_port()};
  Rest tls_rest{tls.http_port(), hotswap::test::kAdminToken, rest_tls};
  kj::AsyncIoContext io = kj::setupAsyncIo();
  std::unique_ptr<kj::TlsContext> kj_tls;

  Setup() {
    plain_rest.create_namespace(kTenant, "web");
    tls_rest.create_namespace(kTenant, "web");
    auto cas = hotswap::protocol::load_tls_ca(pki.ca_cert);
    kj_tls = std::move(*hotswap::protocol::kj_tls_client(*cas, std::nullopt));
  }
  ControlProcess& control(bool with_tls) { return with_tls ? tls : plain; }
};

Setup& setup() {
  static Setup instance;
  return instance;
}

void BM_RestKeptAlive(benchmark::State& state) {
  Setup& s = setup();
  Rest& rest = state.range(0) != 0 ? s.tls_rest : s.plain_rest;
  for (auto _ : state) {
    if (rest.get("/api/v1/tenants").status != 200) state.SkipWithError("request failed");
  }
  state.SetLabel(state.range(0) != 0 ? "tls" : "plaintext");
}
BENCHMARK(BM_RestKeptAlive)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_RestNewConnection(benchmark::State& state) {
  Setup& s = setup();
  const bool with_tls = state.range(0) != 0;
  const int port = s.control(with_tls).http_port();
  for (auto _ : state) {
    auto rest = with_tls ? std::make_unique<Rest>(port, hotswap::test::kAdminToken, s.rest_tls)
                         : std::make_unique<Rest>(port);
    if (rest->get("/api/v1/tenants").status != 200) state.SkipWithError("request failed");
  }
  state.SetLabel(with_tls ? "tls" : "plaintext");
}
BENCHMARK(BM_RestNewConnection)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond)->UseRealTime();

// A connected stream to control's RPC port, after the handshake if TLS.
kj::Own<kj::AsyncIoStream> connect(Setup& s, bool with_tls) {
  auto address = s.io.provider->getNetwork()
                     .parseAddress(s.control(with_tls).rpc_address())
                     .wait(s.io.waitScope);
  auto stream = address->connect().wait(s.io.waitScope);
  if (!with_tls) return stream;
  return s.kj_tls->wrapClient(kj::mv(stream), "127.0.0.1").wait(s.io.waitScope);
}

void BM_RpcConnect(benchmark::State& state) {
  Setup& s = setup();
  const bool with_tls = state.range(0) != 0;
  for (auto _ : state) {
    auto stream = connect(s, with_tls);
    benchmark::DoNotOptimize(stream.get());
  }
  state.SetLabel(with_tls ? "tls" : "plaintext");
}
BENCHMARK(BM_RpcConnect)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_RpcReconnect(benchmark::State& state) {
  Setup& s = setup();
  const bool with_tls = state.range(0) != 0;
  for (auto _ : state) {
    hotswap::protocol::RpcConnection connection(connect(s, with_tls),
                                                capnp::rpc::twoparty::Side::CLIENT, nullptr);
    auto control = connection.peer_bootstrap().castAs<hotswap::wire::Control>();
    auto request = control.attachRequest();
    auto node = request.initNode();
    node.setNodeId("bench-node");
    node.setHost("bench");
    node.setToken(hotswap::test::kNodeToken);
    node.initNamespaces(1).set(0, kNs);
    const auto reply = request.send().wait(s.io.waitScope);
    if (reply.getHeartbeatIntervalMs() == 0) state.SkipWithError("attach failed");
  }
  state.SetLabel(with_tls ? "tls" : "plaintext");
}
BENCHMARK(BM_RpcReconnect)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
