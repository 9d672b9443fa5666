// JSON renderings of the domain objects, as docs/rest-api.md specifies.
#ifndef HOTSWAP_CONTROL_REST_RENDER_H_
#define HOTSWAP_CONTROL_REST_RENDER_H_

#include <nlohmann/json.hpp>

#include "catalog/catalog_service.h"
#include "domain/error.h"
#include "domain/types.h"
#include "fleet/fleet_service.h"

namespace hotswap::control {

std::string rfc3339(UnixTime t);
// Milliseconds since the epoch as RFC 3339 with milliseconds, UTC.
std::string rfc3339_ms(int64_t ms);
nlohmann::json to_json(const Tenant& t);
nlohmann::json to_json(const Namespace& n);
nlohmann::json to_json(const Entries& entries);
nlohmann::json to_json(const VersionInfo& v);
// Whether a deployment's rendering lists its targets one by one, or only
// counts them (`?targets=none`: a deployment to 10,000 instances renders
// in a few hundred bytes instead of about a megabyte).
enum class TargetList { all, none };
// The version, plus "deployment" when the publish deployed it.
nlohmann::json to_json(const Published& p, TargetList targets = TargetList::all);
nlohmann::json to_json(const Version& v);
nlohmann::json to_json(const Diff& d);
nlohmann::json to_json(const InstanceView& i);
// With "target_counts" (each target status, and "total") always, and
// "targets" unless `targets` is none.
nlohmann::json to_json(const Deployment& d, TargetList targets = TargetList::all);
// A gate decision: its verdict, when, at which stage, and its numbers.
nlohmann::json to_json(const GateRecord& g);
// {"error": {"code", "message", "details"}}; details.problems lists a
// rejected document's problems.
nlohmann::json to_json(const Error& e);
// The same shape for an error of HTTP itself, which has no ErrorCode.
nlohmann::json error_json(std::string_view code, std::string_view message,
                          nlohmann::json details = nlohmann::json::object());

}  // namespace hotswap::control

#endif  // HOTSWAP_CONTROL_REST_RENDER_H_
