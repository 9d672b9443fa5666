// etcd's HTTP/JSON gateway (`POST /v3/kv/put`, keys and values in base64)
// over one kept-alive libcurl handle: a put costs one request on an open
// connection, no process and no new connection.
#ifndef HOTSWAP_BENCH_ETCD_GATEWAY_H_
#define HOTSWAP_BENCH_ETCD_GATEWAY_H_

#include <cstdint>
#include <memory>
#include <string>

namespace hotswap::bench {

// RFC 4648 base64 with padding, as the gateway's JSON carries bytes.
std::string base64(const std::string& bytes);

class EtcdGateway {
 public:
  // `endpoint` is host:port of etcd's client URL (plain HTTP). Connects
  // lazily, on the first put.
  explicit EtcdGateway(std::string endpoint);
  ~EtcdGateway();
  EtcdGateway(const EtcdGateway&) = delete;
  EtcdGateway& operator=(const EtcdGateway&) = delete;

  // Writes `value` at `key`; returns the revision etcd committed it at.
  // Throws std::runtime_error naming the endpoint and what went wrong (no
  // connection, a status other than 200, a reply without a revision).
  int64_t put(const std::string& key, const std::string& value);

 private:
  struct Handle;
  std::string url_;
  std::unique_ptr<Handle> handle_;
};

}  // namespace hotswap::bench

#endif  // HOTSWAP_BENCH_ETCD_GATEWAY_H_
