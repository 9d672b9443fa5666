// What the audit log records of one REST request: which action on which
// object, by whom, from where, under which request id, and the object's
// digests before and after. http_api.cc builds one around every mutating
// request and appends it once the response is known (docs/audit.md).
#ifndef HOTSWAP_CONTROL_REST_REQUEST_AUDIT_H_
#define HOTSWAP_CONTROL_REST_REQUEST_AUDIT_H_

#include <nlohmann/json_fwd.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "audit/audit_event.h"
#include "audit/audit_log.h"
#include "rest/http_message.h"

namespace hotswap::control {

// Who made the request: its admitted token (id, name, role), else
// "anonymous" with role "none" (a request refused for want of a token).
AuditActor actor_of(const HttpRequest& req);

// The request's W3C traceparent when it sent a valid one (lowercased),
// else a new traceparent with a random trace id.
std::string request_id_of(const HttpRequest& req);

// POST, PUT, PATCH and DELETE: the methods the audit log records.
bool is_mutating(std::string_view method);

// The response header that carries the request id back.
inline constexpr const char* kRequestIdHeader = "X-Hotswap-Request-Id";

class RequestAudit {
 public:
  // A GET of an API path: the body when it answered 200.
  using ReadObject = std::function<std::optional<std::string>(const std::string& path)>;

  // Names the action and target of `req` (as routed: its `route` and
  // `matches`) and reads the object's state before the change through
  // `read` (a refused publish's, in finish()).
  RequestAudit(const HttpRequest& req, const ReadObject& read);

  const std::string& request_id() const { return event_.request_id; }
  // Appends now, to `log`, the row this request has if answered `status`
  // with `body`, the object's state before being `before_digest`: called
  // by a handler inside its change's transaction (Store::atomically), so
  // that the change and its row commit together or not at all, in one
  // commit. An error undoes the change.
  Result<void> append_with_change(AuditLog& log, int status, const nlohmann::json& body,
                                  std::string before_digest);
  // True when append_with_change stored the row of an answer `status`:
  // the row is then committed (the change answered so only once it was)
  // and nothing is left to append.
  bool appended_with_change(int status) const { return appended_status_ == status; }
  // The event of the request answered with `res` (hash not yet set).
  AuditEvent finish(const HttpResponse& res);

 private:
  void describe(const HttpRequest& req, const ReadObject& read);
  // The event of an answer `status` with `body` (`raw`: as sent, when it
  // was), the digest before not yet set for a publish.
  AuditEvent event_for(int status, const nlohmann::json& body, const std::string& raw) const;
  void target_from_namespace(std::string_view id);

  AuditEvent event_;
  std::string before_body_;
  // A refused publish's state before, read in finish(): the reader and
  // the namespace's versions path.
  ReadObject read_after_;
  std::string versions_path_;
  int appended_status_ = 0;
};

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_REST_REQUEST_AUDIT_H_
