// TLS on control's REST and RPC ports (docs/tls.md) with certificates made
// when the test runs: real control, sidecars and hotswapctl processes on
// loopback, an application reading through the SDK.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "hotswap/client.hpp"
#include "hotswap/harness/cluster.h"
#include "hotswap/harness/eventually.h"
#include "hotswap/harness/process.h"
#include "hotswap/harness/raw_http.h"
#include "hotswap/harness/temp_dir.h"
#include "hotswap/harness/test_pki.h"
#include "hotswap/writer.hpp"

namespace hotswap {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;
using test::ControlProcess;
using test::eventually;
using test::Process;
using test::Rest;
using test::RestTls;

using CliRun = test::ShellRun;

// A TLS client on a blocking socket (OpenSSL directly), for what HTTP
// libraries do not do: hold a verified TLS connection open and send
// nothing, or half a request.
class TlsSocket {
 public:
  TlsSocket(int port, const std::string& ca_file) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return;
    ctx_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_load_verify_locations(ctx_, ca_file.c_str(), nullptr);
    SSL_CTX_set_verify(ctx_, SSL_VERIFY_PEER, nullptr);
    ssl_ = SSL_new(ctx_);
    SSL_set_fd(ssl_, fd_);
    SSL_set1_host(ssl_, "127.0.0.1");
    set_timeout(10s);
    handshaken_ = SSL_connect(ssl_) == 1;
  }
  ~TlsSocket() {
    if (ssl_ != nullptr) SSL_free(ssl_);
    if (ctx_ != nullptr) SSL_CTX_free(ctx_);
    if (fd_ >= 0) ::close(fd_);
  }
  TlsSocket(const TlsSocket&) = delete;
  TlsSocket& operator=(const TlsSocket&) = delete;

  bool handshaken() const { return handshaken_; }
  bool send(const std::string& bytes) {
    return SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size())) ==
           static_cast<int>(bytes.size());
  }
  // Reads until the peer closes (true) or `timeout` passes (false).
  bool closed_by_peer(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    char buf[4096];
    while (std::chrono::steady_clock::now() < deadline) {
      set_timeout(std::chrono::duration_cast<std::chrono::milliseconds>(
                      deadline - std::chrono::steady_clock::now()) +
                  1ms);
      const int n = SSL_read(ssl_, buf, sizeof buf);
      if (n > 0) {
        received_.append(buf, static_cast<size_t>(n));
        continue;
      }
      const int error = SSL_get_error(ssl_, n);
      const bool timed_out = error == SSL_ERROR_WANT_READ ||
                             (error == SSL_ERROR_SYSCALL && (errno == EAGAIN || errno == EINTR));
      if (!timed_out) return true;
    }
    return false;
  }
  const std::string& received() const { return received_; }

 private:
  void set_timeout(std::chrono::milliseconds t) {
    timeval tv{static_cast<time_t>(t.count() / 1000),
               static_cast<suseconds_t>(t.count() % 1000 * 1000)};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  int fd_ = -1;
  SSL_CTX* ctx_ = nullptr;
  SSL* ssl_ = nullptr;
  bool handshaken_ = false;
  std::string received_;
};

int rpc_port(const ControlProcess& control) {
  const std::string address = control.rpc_address();
  return std::stoi(address.substr(address.rfind(':') + 1));
}

class Tls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_dir_ = new test::TempDir();
    pki_ = new test::TestPki(test::make_test_pki(pki_dir_->path()));
  }
  static void TearDownTestSuite() {
    delete pki_;
    delete pki_dir_;
  }

  void TearDown() override {
    sidecars_.clear();
    for (const auto& [ns, scope] : published_) (void)Writer::remove(ns, scope);
  }

  // Control with TLS on both ports (and `extra` flags); a trusted HTTPS
  // client; a namespace of its own.
  void start_control(std::vector<std::string> extra = {}) {
    std::vector<std::string> flags{"--tls-cert", pki_->server_cert, "--tls-key", pki_->server_key};
    flags.insert(flags.end(), extra.begin(), extra.end());
    control_ =
        std::make_unique<ControlProcess>(ControlProcess::start(data_.path() + "/control", flags));
    rest_ = std::make_unique<Rest>(control_->http_port(), test::kAdminToken,
                                   RestTls{pki_->ca_cert, pki_->client_cert, pki_->client_key});
    static int n = 0;
    tenant_ = "tls" + std::to_string(::getpid()) + "-" + std::to_string(++n);
    ns_ = tenant_ + "/web";
    rest_->create_namespace(tenant_, "web");
  }

  // A sidecar `node` of ns_ with `extra` flags, its log on its stdout.
  Process& sidecar(const std::string& node, std::vector<std::string> extra,
                   std::string token = test::kNodeToken) {
    test::SidecarConfig c;
    c.control = control_->rpc_address();
    c.node_id = node;
    c.namespaces = {ns_};
    c.cache_dir = data_.path() + "/cache-" + node;
    c.scope = node;
    c.extra = std::move(extra);
    c.token = std::move(token);
    c.log_to_stdout = true;
    published_.emplace_back(ns_, node);
    sidecars_.push_back(std::make_unique<Process>(test::start_sidecar(c)));
    return *sidecars_.back();
  }

  std::vector<std::string> trusting(const std::string& ca) { return {"--control-ca", ca}; }

  bool connected(const std::string& node) {
    const test::HttpReply r = rest_->get("/api/v1/instances/" + node);
    return r.status == 200 && r.body["status"] == "connected";
  }

  uint64_t applied(const std::string& node) {
    const test::HttpReply r = rest_->get("/api/v1/instances/" + node);
    if (r.status != 200) return 0;
    for (const auto& n : r.body["namespaces"]) {
      if (n["namespace"] == ns_) return n["applied_version"].get<uint64_t>();
    }
    return 0;
  }

  // The first line of the sidecar's log reporting a failed session (a
  // refused connection or handshake, or a connection that ended before
  // or at attach); empty if none comes within 20 s.
  static std::string failed_session(Process& p) {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
      auto line = p.read_line_containing("event=", 20s);
      if (!line) return "";
      if (line->find("event=connect_failed") != std::string::npos ||
          line->find("event=disconnected") != std::string::npos) {
        return *line;
      }
    }
    return "";
  }

  // hotswapctl with `args`, the admin token in the environment and `env`
  // ("A=b "), against `url`.
  CliRun ctl(const std::string& args, const std::string& url, const std::string& env = "") {
    const std::string command = "env -u HOTSWAP_CA_CERT XDG_CONFIG_HOME=" + data_.path() +
                                "/no-config HOTSWAP_TOKEN=" + test::kAdminToken + " " + env +
                                HOTSWAPCTL_BIN + " " + args + " --url " + url;
    return test::run_shell(command, data_.path());
  }

  std::string https_url() const {
    return "https://127.0.0.1:" + std::to_string(control_->http_port());
  }

  static test::TempDir* pki_dir_;
  static test::TestPki* pki_;
  test::TempDir data_;
  std::unique_ptr<ControlProcess> control_;
  std::unique_ptr<Rest> rest_;
  std::string tenant_, ns_;
  std::vector<std::pair<std::string, std::string>> published_;
  std::vector<std::unique_ptr<Process>> sidecars_;
};

test::TempDir* Tls::pki_dir_ = nullptr;
test::TestPki* Tls::pki_ = nullptr;

json int_entry(int64_t v) {
  return {{"type", "int64"}, {"value", v}};
}

TEST_F(Tls, PublishAndDeployOverHttpsAndTlsRpcReachTheApp) {
  start_control();
  // The server name defaults to the host of --control (127.0.0.1).
  sidecar("node-a", trusting(pki_->ca_cert));
  ASSERT_TRUE(eventually([&] { return connected("node-a"); }));
  const uint64_t v1 = rest_->publish(ns_, {{"limit", int_entry(10)}});
  rest_->deploy(ns_, v1);
  ASSERT_TRUE(eventually([&] { return applied("node-a") == v1; }));
  auto client = Client::open(ns_, {.scope = "node-a"});
  ASSERT_TRUE(client) << client.error().message;
  auto limit = client->handle<int64_t>("limit").value();
  EXPECT_EQ(limit.get().value(), 10);

  // Control restarts: the sidecar reconnects over TLS with its backoff
  // and the next version reaches the app.
  control_->restart();
  rest_ = std::make_unique<Rest>(control_->http_port(), test::kAdminToken,
                                 RestTls{pki_->ca_cert, "", ""});
  ASSERT_TRUE(eventually([&] { return connected("node-a"); }));
  const uint64_t v2 = rest_->publish(ns_, {{"limit", int_entry(20)}});
  rest_->deploy(ns_, v2);
  ASSERT_TRUE(eventually([&] { return limit.get().value_or(0) == 20; }));
  EXPECT_EQ(client->version().value_or(0), v2);
}

TEST_F(Tls, RestClientsThatCannotVerifyControlAreRefusedAndOthersServed) {
  start_control();
  Rest untrusting(control_->http_port(), test::kAdminToken, RestTls{pki_->other_ca_cert, "", ""});
  EXPECT_EQ(untrusting.get("/api/v1/tenants").status, 0);
  Rest plaintext(control_->http_port());
  EXPECT_EQ(plaintext.get("/api/v1/tenants").status, 0);
  // Plaintext HTTP on the TLS port: closed, never answered in HTTP.
  test::RawConnection raw(control_->http_port());
  ASSERT_TRUE(raw.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_TRUE(raw.closed_by_peer(5s));
  EXPECT_EQ(raw.received().find("HTTP/1."), std::string::npos) << raw.received();
  // Control goes on serving clients that trust it.
  const test::HttpReply tenants = rest_->get("/api/v1/tenants");
  EXPECT_EQ(tenants.status, 200) << tenants.raw;
  EXPECT_EQ(rest_->get("/healthz").status, 200);
}

TEST_F(Tls, SidecarsThatCannotVerifyControlNeverAttach) {
  start_control();
  Process& untrusting = sidecar("node-untrusting", trusting(pki_->other_ca_cert));
  Process& wrong_name =
      sidecar("node-wrong-name",
              {"--control-ca", pki_->ca_cert, "--control-server-name", "control.wrong.example"});
  const std::string untrusted_line = failed_session(untrusting);
  EXPECT_NE(untrusted_line.find("certificate"), std::string::npos) << untrusted_line;
  const std::string wrong_name_line = failed_session(wrong_name);
  EXPECT_NE(wrong_name_line.find("hostname mismatch"), std::string::npos) << wrong_name_line;
  // A plaintext sidecar on the TLS port fails its session too.
  Process& plaintext = sidecar("node-plaintext", {});
  EXPECT_NE(failed_session(plaintext), "");
  // A sidecar that trusts control attaches meanwhile; the others are unknown.
  sidecar("node-good", trusting(pki_->ca_cert));
  ASSERT_TRUE(eventually([&] { return connected("node-good"); }));
  for (const char* node : {"node-untrusting", "node-wrong-name", "node-plaintext"}) {
    EXPECT_EQ(rest_->get(std::string("/api/v1/instances/") + node).status, 404) << node;
  }
}

TEST_F(Tls, NodeTokenIsStillCheckedOverTls) {
  start_control();
  Process& intruder =
      sidecar("node-no-token", trusting(pki_->ca_cert), "hs_wrong_node_token_0000000000000000000");
  const std::string line = failed_session(intruder);
  EXPECT_NE(line.find("attach refused"), std::string::npos) << line;
  EXPECT_EQ(rest_->get("/api/v1/instances/node-no-token").status, 404);
}

TEST_F(Tls, MutualTlsAdmitsOnlyClientsWithACertificateOfTheClientCa) {
  start_control({"--tls-client-ca", pki_->ca_cert});
  Process& anonymous = sidecar("node-anonymous", trusting(pki_->ca_cert));
  Process& foreign =
      sidecar("node-foreign", {"--control-ca", pki_->ca_cert, "--tls-cert", pki_->other_client_cert,
                               "--tls-key", pki_->other_client_key});
  EXPECT_NE(failed_session(anonymous), "");
  EXPECT_NE(failed_session(foreign), "");
  sidecar("node-a", {"--control-ca", pki_->ca_cert, "--tls-cert", pki_->client_cert, "--tls-key",
                     pki_->client_key});
  ASSERT_TRUE(eventually([&] { return connected("node-a"); }));
  const uint64_t v = rest_->publish(ns_, {{"limit", int_entry(7)}});
  rest_->deploy(ns_, v);
  ASSERT_TRUE(eventually([&] { return applied("node-a") == v; }));
  EXPECT_EQ(rest_->get("/api/v1/instances/node-anonymous").status, 404);
  EXPECT_EQ(rest_->get("/api/v1/instances/node-foreign").status, 404);

  // REST asks the same of its clients.
  Rest no_cert(control_->http_port(), test::kAdminToken, RestTls{pki_->ca_cert, "", ""});
  EXPECT_EQ(no_cert.get("/api/v1/tenants").status, 0);
  const CliRun with_cert = ctl("tenant list --ca-cert " + pki_->ca_cert + " --client-cert " +
                                   pki_->client_cert + " --client-key " + pki_->client_key,
                               https_url());
  EXPECT_EQ(with_cert.code, 0) << with_cert.err;
  EXPECT_NE(with_cert.out.find(tenant_), std::string::npos) << with_cert.out;
}

TEST_F(Tls, HotswapctlOverHttpsVerifiesControlsCertificate) {
  start_control();
  const CliRun trusted = ctl("tenant list --ca-cert " + pki_->ca_cert, https_url());
  EXPECT_EQ(trusted.code, 0) << trusted.err;
  EXPECT_NE(trusted.out.find(tenant_), std::string::npos) << trusted.out;
  const CliRun by_env =
      ctl("ns list " + tenant_, https_url(), "HOTSWAP_CA_CERT=" + pki_->ca_cert + " ");
  EXPECT_EQ(by_env.code, 0) << by_env.err;
  EXPECT_NE(by_env.out.find("web"), std::string::npos) << by_env.out;

  const CliRun untrusted = ctl("tenant list", https_url());
  EXPECT_EQ(untrusted.code, 6) << untrusted.err;  // ExitCode::kUnreachable
  EXPECT_NE(untrusted.err.find("TLS"), std::string::npos) << untrusted.err;
  EXPECT_NE(untrusted.err.find("certificate"), std::string::npos) << untrusted.err;
  EXPECT_NE(untrusted.err.find("--ca-cert"), std::string::npos) << untrusted.err;
  const CliRun other_ca = ctl("tenant list --ca-cert " + pki_->other_ca_cert, https_url());
  EXPECT_EQ(other_ca.code, 6) << other_ca.err;
  const CliRun missing_ca = ctl("tenant list --ca-cert " + data_.path() + "/none.pem", https_url());
  EXPECT_EQ(missing_ca.code, 2) << missing_ca.err;  // ExitCode::kUsage
}

TEST_F(Tls, SilentConnectionsAreCutAtTheHandshakeDeadlineAndCountAgainstTheLimit) {
  start_control({"--tls-handshake-timeout-ms", "1500", "--http-max-connections", "2"});
  for (const int port : {control_->http_port(), rpc_port(*control_)}) {
    const auto start = std::chrono::steady_clock::now();
    test::RawConnection silent(port);  // connects and never sends a ClientHello
    EXPECT_TRUE(silent.closed_by_peer(10s)) << port;
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_GE(took, 1200ms) << port;
    EXPECT_LT(took, 8s) << port;
    EXPECT_EQ(silent.received(), "") << port;
  }
  // Connections still in their handshake hold a slot: two fill the REST
  // port's limit, and a third is closed at once, not at the deadline.
  rest_.reset();  // its kept connection would hold a slot too
  test::RawConnection first(control_->http_port()), second(control_->http_port());
  const auto start = std::chrono::steady_clock::now();
  test::RawConnection third(control_->http_port());
  EXPECT_TRUE(third.closed_by_peer(10s));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1000ms);
  EXPECT_TRUE(first.closed_by_peer(10s));
  EXPECT_TRUE(second.closed_by_peer(10s));
  // Control serves again once they are gone.
  Rest after(control_->http_port(), test::kAdminToken, RestTls{pki_->ca_cert, "", ""});
  EXPECT_TRUE(eventually([&] { return after.get("/healthz").status == 200; }));
}

TEST_F(Tls, HeaderAndIdleDeadlinesHoldOnTlsConnections) {
  start_control({"--http-idle-timeout-ms", "1000", "--http-header-timeout-ms", "1000"});
  // A verified TLS connection that never sends a request: the idle limit.
  const auto start = std::chrono::steady_clock::now();
  TlsSocket idle(control_->http_port(), pki_->ca_cert);
  ASSERT_TRUE(idle.handshaken());
  EXPECT_TRUE(idle.closed_by_peer(10s));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 800ms);
  EXPECT_EQ(idle.received(), "");
  // Half a header: 408 at the header deadline, over TLS.
  TlsSocket slow(control_->http_port(), pki_->ca_cert);
  ASSERT_TRUE(slow.handshaken());
  ASSERT_TRUE(slow.send("GET /healthz HTTP/1.1\r\nHost: x\r\n"));
  EXPECT_TRUE(slow.closed_by_peer(10s));
  EXPECT_TRUE(slow.received().starts_with("HTTP/1.1 408")) << slow.received();
  // A whole request on such a connection is answered.
  TlsSocket whole(control_->http_port(), pki_->ca_cert);
  ASSERT_TRUE(whole.handshaken());
  ASSERT_TRUE(whole.send("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  EXPECT_TRUE(whole.closed_by_peer(10s));
  EXPECT_TRUE(whole.received().starts_with("HTTP/1.1 200")) << whole.received();
}

}  // namespace
}  // namespace hotswap
