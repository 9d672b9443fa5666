#include "secret_commands.h"

#include "command_support.h"
#include "hotswap/str_cat.h"
#include "http_client.h"
#include "render.h"

namespace hotswap::cli {
namespace {

using nlohmann::json;

constexpr std::chrono::milliseconds kRotationPoll{200};

std::string rotation_line(const json& rotation) {
  return str_cat("rotation ", text_of(rotation, "state"), ": ", text_of(rotation, "resealed"),
                 " of ", text_of(rotation, "to_reseal"), " re-sealed under ",
                 text_of(rotation, "primary"));
}

void render_keys(const json& body, std::ostream& out) {
  if (!body.value("configured", false)) {
    out << "no master key configured (--master-key-file or HOTSWAP_MASTER_KEY)\n";
    return;
  }
  out << "source:  " << text_of(body, "source") << '\n';
  out << "primary: " << text_of(body, "primary") << '\n';
  out << "keys:    ";
  const json& keys = member_or_null(body, "keys");
  bool first = true;
  for (const json& id : keys.is_array() ? keys : json::array()) {
    out << (first ? "" : ", ") << id.get<std::string>();
    first = false;
  }
  out << "\nsecret values by key:\n";
  const json& by_key = member_or_null(body, "values_by_key");
  if (!by_key.is_object() || by_key.empty()) out << "  (none)\n";
  if (by_key.is_object()) {
    for (const auto& [id, n] : by_key.items()) out << "  " << id << ": " << n.dump() << '\n';
  }
  const json& rotation = member_or_null(body, "rotation");
  if (text_of(rotation, "state") != "idle") out << rotation_line(rotation) << '\n';
}

}  // namespace

Result reveal(Context& ctx, const std::string& arg, uint64_t version, const std::string& key) {
  return with_namespace(arg, [&](const NamespaceRef& ns) {
    return show(ctx, "GET",
                str_cat(namespace_path(ns), "/versions/", version, "/entries/", percent_encode(key),
                        "?reveal=true"),
                std::nullopt, str_cat("reveal ", key, " of ", ns.id(), " version ", version),
                render_entry);
  });
}

Result keys_status(Context& ctx) {
  return show(ctx, "GET", str_cat(kApi, "/keys"), std::nullopt, "key status", render_keys);
}

Result keys_rotate(Context& ctx, bool no_wait) {
  auto started = call(ctx, "POST", str_cat(kApi, "/keys/rotate"), json::object(), "rotate keys");
  if (!started) return std::unexpected(std::move(started.error()));
  json rotation = *std::move(started);
  std::string last;
  while (true) {
    const std::string state = text_of(rotation, "state");
    const bool done = state != "running";
    if (ctx.format == OutputFormat::kJson) {
      if (done || no_wait) ctx.out << rotation.dump() << '\n';
    } else if (const std::string line = rotation_line(rotation); line != last) {
      ctx.out << line << '\n';
      last = line;
    }
    if (state == "failed") {
      return std::unexpected(make_failure(
          ExitCode::kServerError, str_cat("key rotation failed: ", text_of(rotation, "error"))));
    }
    if (done || no_wait) return {};
    ctx.sleep(kRotationPoll);
    auto polled = call(ctx, "GET", str_cat(kApi, "/keys"), std::nullopt, "key status");
    if (!polled) return std::unexpected(std::move(polled.error()));
    rotation = member_or_null(*polled, "rotation");
  }
}

}  // namespace hotswap::cli
