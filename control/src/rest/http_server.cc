#include "rest/http_server.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/http.hpp>
#include <optional>

#include "hotswap/telemetry/log_format.h"
#include "rest/header_block.h"

namespace hotswap::control {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using TlsStream = asio::ssl::stream<tcp::socket>;

int http_status(HttpServer::Fault fault) {
  switch (fault) {
    case HttpServer::Fault::malformed:
      return 400;
    case HttpServer::Fault::timeout:
      return 408;
    case HttpServer::Fault::body_too_large:
      return 413;
    case HttpServer::Fault::headers_too_large:
      return 431;
    case HttpServer::Fault::internal:
      return 500;
    case HttpServer::Fault::overloaded:
      break;
  }
  return 503;
}

namespace {

constexpr size_t kReadChunk = 4096;
// After an error response the connection is closed gracefully: what the
// client still sends is read and dropped for this long, so that the kernel
// does not answer it with a reset that could destroy the response unread.
constexpr auto kLingerTime = std::chrono::seconds(1);

// The fault a Beast error while reading a request stands for; nullopt for
// a connection the client closed or reset (nothing to answer).
std::optional<HttpServer::Fault> fault_of(const error_code& ec) {
  if (ec == http::error::body_limit) return HttpServer::Fault::body_too_large;
  if (ec == http::error::header_limit) return HttpServer::Fault::headers_too_large;
  if (ec == http::error::end_of_stream || ec == http::error::partial_message ||
      ec == asio::error::eof || ec == asio::error::connection_reset ||
      ec == asio::error::operation_aborted || ec == asio::ssl::error::stream_truncated) {
    return std::nullopt;
  }
  // A TLS record that does not decrypt: nothing can be answered on it.
  if (ec.category() == asio::error::get_ssl_category()) return std::nullopt;
  return HttpServer::Fault::malformed;
}

std::string_view view(beast::string_view s) {
  return {s.data(), s.size()};
}

// The path and query of a request target in origin-form ("/a?b") or
// absolute-form ("http://host/a?b"); false for any other form.
bool split_target(std::string_view target, std::string& path, std::string& query) {
  if (target.starts_with("http://") || target.starts_with("https://")) {
    const size_t authority = target.find("//") + 2;
    const size_t slash = target.find('/', authority);
    target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
  }
  if (!target.starts_with('/')) return false;
  const size_t mark = target.find('?');
  path = target.substr(0, mark);
  query = mark == std::string_view::npos ? std::string_view() : target.substr(mark + 1);
  return true;
}

}  // namespace

class HttpServer::Impl {
 public:
  Impl(Options options, Handler handler, FaultPage fault_page)
      : options_(options),
        handler_(std::move(handler)),
        fault_page_(std::move(fault_page)),
        pool_(std::max<size_t>(options.handler_threads, 1)) {}

  std::expected<int, std::string> bind(const std::string& host, int port);
  void serve();
  void stop() {
    asio::post(io_, [this] {
      error_code ignored;
      acceptor_.close(ignored);
      io_.stop();
    });
  }
  size_t connections() const { return open_.load(std::memory_order_relaxed); }

 private:
  template <class Stream>
  class Connection;

  // The TLS context from options_.tls, or why OpenSSL refuses it.
  std::expected<void, std::string> make_tls();
  void accept();
  // Answers 503 and closes, without reading the request: at the connection
  // limit, the cheapest answer is the best.
  void refuse(tcp::socket socket);
  // A response whatever the handler does (it may throw).
  HttpResponse handle(HttpRequest& request);
  HttpResponse fault_response(Fault fault, std::string_view message) {
    HttpResponse response = fault_page_(fault, message);
    response.status = http_status(fault);
    response.close = true;
    return response;
  }

  // A handler's failure: the request was framed, so the connection stays.
  HttpResponse internal_error(std::string_view message) {
    HttpResponse response = fault_response(Fault::internal, message);
    response.close = false;
    return response;
  }

  const Options options_;
  const Handler handler_;
  const FaultPage fault_page_;
  std::atomic<size_t> open_{0};
  // Destroyed after the pool and before what connections refer to.
  asio::io_context io_{1};
  tcp::acceptor acceptor_{io_};
  asio::steady_timer accept_retry_{io_};
  asio::thread_pool pool_;
  std::optional<asio::ssl::context> tls_;
};

// One client connection: reads a request, has it handled on the pool,
// writes the response, and starts over. Owned by the handlers of its
// pending operations; all its methods run on the I/O thread. `Stream` is a
// tcp::socket, or a TLS stream over one, whose handshake comes first.
template <class Stream>
class HttpServer::Impl::Connection : public std::enable_shared_from_this<Connection<Stream>> {
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

 public:
  Connection(Impl& server, Stream stream)
      : server_(server), socket_(std::move(stream)), deadline_(server.io_) {
    server_.open_.fetch_add(1, std::memory_order_relaxed);
  }
  ~Connection() { server_.open_.fetch_sub(1, std::memory_order_relaxed); }

  void start() {
    if constexpr (kTls) {
      // Every phase has a deadline, the handshake too: a client that
      // connects and sends no ClientHello is closed after it.
      set_deadline(server_.options_.handshake_timeout);
      socket_.async_handshake(asio::ssl::stream_base::server,
                              [self = this->shared_from_this()](error_code ec) {
                                if (ec) {
                                  spdlog::debug("event=tls_handshake_failed error=\"{}\"",
                                                telemetry::escape_quoted(ec.message()));
                                  return self->close();
                                }
                                self->await_request();
                              });
    } else {
      await_request();
    }
  }

 private:
  tcp::socket& tcp_socket() { return beast::get_lowest_layer(socket_); }

  // Cancels the socket's operations after `timeout` (they then complete
  // with operation_aborted and timed_out_ set). Replaces the previous
  // deadline: each phase of a connection has one.
  void set_deadline(std::chrono::milliseconds timeout) {
    const uint64_t generation = ++deadline_generation_;
    timed_out_ = false;
    deadline_.expires_after(timeout);
    deadline_.async_wait([self = this->shared_from_this(), generation](error_code ec) {
      if (ec || generation != self->deadline_generation_) return;
      self->timed_out_ = true;
      error_code ignored;
      self->tcp_socket().cancel(ignored);
    });
  }
  void clear_deadline() {
    ++deadline_generation_;
    deadline_.cancel();
  }

  // Idle until the next request's first byte (already here if pipelined).
  void await_request() {
    if (buffer_.size() > 0) return start_header();
    set_deadline(server_.options_.idle_timeout);
    socket_.async_read_some(buffer_.prepare(kReadChunk),
                            [self = this->shared_from_this()](error_code ec, size_t n) {
                              if (ec) return self->close();
                              self->buffer_.commit(n);
                              self->start_header();
                            });
  }

  void start_header() {
    set_deadline(server_.options_.header_timeout);
    scanner_.emplace(server_.options_.max_header_bytes, server_.options_.max_header_fields);
    read_header();
  }

  // Reads until the header block is complete, then parses it.
  void read_header() {
    const auto data = static_cast<const char*>(buffer_.data().data());
    const HeaderBlock block = scanner_->scan({data, buffer_.size()});
    switch (block.state) {
      case HeaderBlock::State::incomplete:
        break;
      case HeaderBlock::State::complete:
        buffer_.consume(block.begin);
        return parse_header(block.size - block.begin);
      case HeaderBlock::State::malformed:
        return fail(Fault::malformed, block.problem);
      case HeaderBlock::State::too_large:
        return fail(Fault::headers_too_large, block.problem);
    }
    socket_.async_read_some(buffer_.prepare(kReadChunk),
                            [self = this->shared_from_this()](error_code ec, size_t n) {
                              if (ec) return self->read_failed(ec);
                              self->buffer_.commit(n);
                              self->read_header();
                            });
  }

  void parse_header(size_t size) {
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(size));
    parser_->body_limit(server_.options_.max_body_bytes);
    error_code ec;
    const size_t used = parser_->put(asio::buffer(buffer_.data().data(), size), ec);
    if (!ec && !parser_->is_header_done()) ec = http::error::bad_field;
    if (ec) return read_failed(ec);
    buffer_.consume(used);
    if (auto problem = host_problem(parser_->get())) return fail(Fault::malformed, *problem);
    if (parser_->is_done()) return dispatch();
    if (parser_->get()[http::field::expect] == "100-continue") return send_continue();
    read_body();
  }

  // RFC 9112 section 3.2: exactly one Host in an HTTP/1.1 request.
  static std::optional<std::string> host_problem(const http::request<http::string_body>& req) {
    const auto hosts = req.count(http::field::host);
    if (hosts > 1) return "more than one Host header field";
    if (hosts == 0 && req.version() >= 11) return "an HTTP/1.1 request without a Host header field";
    return std::nullopt;
  }

  void send_continue() {
    static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    set_deadline(server_.options_.write_timeout);
    asio::async_write(socket_, asio::buffer(kContinue.data(), kContinue.size()),
                      [self = this->shared_from_this()](error_code ec, size_t) {
                        if (ec) return self->close();
                        self->read_body();
                      });
  }

  void read_body() {
    set_deadline(server_.options_.body_timeout);
    http::async_read(socket_, buffer_, *parser_,
                     [self = this->shared_from_this()](error_code ec, size_t) {
                       if (ec) return self->read_failed(ec);
                       self->dispatch();
                     });
  }

  // Hands the request to the pool; the response comes back to this thread.
  void dispatch() {
    auto message = parser_->release();
    parser_.reset();
    HttpRequest request;
    if (!split_target(view(message.target()), request.path, request.query)) {
      return fail(Fault::malformed, "the request target must be a path or an absolute URI");
    }
    head_ = message.method() == http::verb::head;
    keep_alive_ = message.keep_alive();
    request.method = view(message.method_string());
    for (const auto& field : message) {
      request.headers.emplace_back(view(field.name_string()), view(field.value()));
    }
    request.body = std::move(message.body());
    error_code peer_error;
    const auto peer = tcp_socket().remote_endpoint(peer_error);
    if (!peer_error) {
      request.client = peer.address().to_string() + ":" + std::to_string(peer.port());
    }
    clear_deadline();
    asio::post(server_.pool_,
               [self = this->shared_from_this(), request = std::move(request)]() mutable {
                 HttpResponse response = self->server_.handle(request);
                 asio::post(self->server_.io_, [self, response = std::move(response)]() mutable {
                   self->write(std::move(response));
                 });
               });
  }

  void read_failed(const error_code& ec) {
    const auto fault = timed_out_ ? std::optional(Fault::timeout) : fault_of(ec);
    if (!fault) return close();
    switch (*fault) {
      case Fault::timeout:
        return fail(*fault, parser_ && parser_->is_header_done()
                                ? "the request body did not arrive in time"
                                : "the request header did not arrive in time");
      case Fault::body_too_large:
        return fail(*fault, "the request body is too large: over " +
                                std::to_string(server_.options_.max_body_bytes) + " bytes");
      default:
        return fail(*fault, "malformed request: " + ec.message());
    }
  }

  void fail(Fault fault, std::string_view problem) {
    write(server_.fault_response(fault, problem));
  }

  void write(HttpResponse response) {
    response_.emplace(static_cast<http::status>(response.status), 11);
    if (!response.content_type.empty()) {
      response_->set(http::field::content_type, response.content_type);
    }
    for (const auto& [name, value] : response.headers) response_->set(name, value);
    keep_alive_ = keep_alive_ && !response.close;
    response_->keep_alive(keep_alive_);
    if (head_) {
      response_->content_length(response.body.size());
    } else {
      response_->body() = std::move(response.body);
      response_->prepare_payload();
    }
    set_deadline(server_.options_.write_timeout);
    http::async_write(socket_, *response_,
                      [self = this->shared_from_this()](error_code ec, size_t) {
                        if (ec) return self->close();
                        self->response_.reset();
                        self->head_ = false;
                        if (!self->keep_alive_) return self->linger();
                        self->await_request();
                      });
  }

  // Closes the sending side and drops what the client still sends, for a
  // bounded time, before closing.
  void linger() {
    set_deadline(kLingerTime);
    if constexpr (kTls) {
      // close_notify, then the peer's, within the same bound.
      socket_.async_shutdown([self = this->shared_from_this()](error_code) { self->close(); });
    } else {
      error_code ignored;
      socket_.shutdown(tcp::socket::shutdown_send, ignored);
      drain();
    }
  }
  void drain() {
    buffer_.clear();
    socket_.async_read_some(buffer_.prepare(kReadChunk),
                            [self = this->shared_from_this()](error_code ec, size_t) {
                              if (ec) return self->close();
                              self->drain();
                            });
  }

  void close() {
    clear_deadline();
    error_code ignored;
    tcp_socket().close(ignored);
  }

  Impl& server_;
  Stream socket_;
  asio::steady_timer deadline_;
  uint64_t deadline_generation_ = 0;
  bool timed_out_ = false;
  beast::flat_buffer buffer_;
  std::optional<HeaderScanner> scanner_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::string_body>> response_;
  bool keep_alive_ = false;
  bool head_ = false;
};

std::expected<void, std::string> HttpServer::Impl::make_tls() {
  const Options::Tls& files = *options_.tls;
  tls_.emplace(asio::ssl::context::tls_server);
  error_code ec;
  // TLS 1.2 at least; compression off (CRIME).
  tls_->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                        asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                        asio::ssl::context::no_tlsv1_1 | asio::ssl::context::no_compression |
                        asio::ssl::context::single_dh_use,
                    ec);
  if (!ec) tls_->use_certificate_chain(asio::buffer(files.cert_pem), ec);
  if (ec) return std::unexpected("TLS certificate refused: " + ec.message());
  tls_->use_private_key(asio::buffer(files.key_pem), asio::ssl::context::pem, ec);
  if (ec) return std::unexpected("TLS key refused: " + ec.message());
  if (SSL_CTX_check_private_key(tls_->native_handle()) != 1) {
    return std::unexpected("the TLS key does not match the certificate");
  }
  if (!files.client_ca_pems.empty()) {
    for (const std::string& ca : files.client_ca_pems) {
      tls_->add_certificate_authority(asio::buffer(ca), ec);
      if (ec) return std::unexpected("TLS client CA refused: " + ec.message());
    }
    tls_->set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert, ec);
    if (ec) return std::unexpected("TLS client verification: " + ec.message());
  }
  return {};
}

std::expected<int, std::string> HttpServer::Impl::bind(const std::string& host, int port) {
  if (options_.tls) {
    if (auto made = make_tls(); !made) return std::unexpected(made.error());
  }
  error_code ec;
  const auto address = asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
  if (ec) return std::unexpected("cannot listen on " + host + ": not an IP address");
  const tcp::endpoint endpoint(address, static_cast<unsigned short>(port));
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return std::unexpected("cannot listen on " + host + ":" + std::to_string(port) + ": " +
                           ec.message());
  }
  return acceptor_.local_endpoint().port();
}

void HttpServer::Impl::serve() {
  accept();
  io_.run();
  // No handler may run once serve() returns: the services they call may go.
  pool_.join();
}

void HttpServer::Impl::accept() {
  acceptor_.async_accept([this](error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (ec) {
      // Out of descriptors, most likely: connections wait in the backlog
      // until some close, rather than the loop spinning on the error.
      spdlog::warn("event=http_accept_failed error=\"{}\"", telemetry::escape_quoted(ec.message()));
      accept_retry_.expires_after(std::chrono::milliseconds(100));
      accept_retry_.async_wait([this](error_code) { accept(); });
      return;
    }
    error_code ignored;
    // A response goes out as headers, then body: with Nagle's algorithm the
    // body would wait for the client's delayed ACK of the headers.
    socket.set_option(tcp::no_delay(true), ignored);
    if (open_.load(std::memory_order_relaxed) >= options_.max_connections) {
      refuse(std::move(socket));
    } else if (tls_) {
      std::make_shared<Connection<TlsStream>>(*this, TlsStream(std::move(socket), *tls_))->start();
    } else {
      std::make_shared<Connection<tcp::socket>>(*this, std::move(socket))->start();
    }
    accept();
  });
}

void HttpServer::Impl::refuse(tcp::socket socket) {
  error_code ignored;
  if (tls_) {
    socket.close(ignored);
    return;
  }
  const HttpResponse page = fault_response(Fault::overloaded, "too many connections");
  const std::string wire =
      "HTTP/1.1 503 Service Unavailable\r\nContent-Type: " + page.content_type +
      "\r\nContent-Length: " + std::to_string(page.body.size()) + "\r\nConnection: close\r\n\r\n" +
      page.body;
  socket.non_blocking(true, ignored);
  socket.write_some(asio::buffer(wire), ignored);
  socket.shutdown(tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
}

HttpResponse HttpServer::Impl::handle(HttpRequest& request) {
  try {
    return handler_(request);
  } catch (const std::exception& e) {
    spdlog::error("event=http_handler_failed error=\"{}\"", telemetry::escape_quoted(e.what()));
    return internal_error(std::string("internal error: ") + e.what());
  } catch (...) {
    spdlog::error("event=http_handler_failed error=unknown");
    return internal_error("internal error");
  }
}

HttpServer::HttpServer(Options options, Handler handler, FaultPage fault_page)
    : impl_(std::make_unique<Impl>(options, std::move(handler), std::move(fault_page))) {}
HttpServer::~HttpServer() = default;
std::expected<int, std::string> HttpServer::bind(const std::string& host, int port) {
  return impl_->bind(host, port);
}
void HttpServer::serve() {
  impl_->serve();
}
void HttpServer::stop() {
  impl_->stop();
}
size_t HttpServer::connections() const {
  return impl_->connections();
}

}  // namespace hotswap::control
