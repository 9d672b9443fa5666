#include "commands.h"

#include <fstream>
#include <iterator>
#include <sstream>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "command_support.h"
#include "deploy_body.h"
#include "hotswap/str_cat.h"
#include "render.h"
#include "rollout_commands.h"
#include "rollout_view.h"
#include "value_parse.h"

namespace hotswap::cli {
namespace {

using nlohmann::json;
// GET of a collection that takes an optional ?namespace= filter.
Result list_filtered(Context& ctx, std::string_view collection,
                     const std::optional<std::string>& ns, const Renderer& render) {
  if (ns) {
    if (auto parsed = parse_namespace(*ns); !parsed) {
      return std::unexpected(make_failure(ExitCode::kUsage, std::move(parsed.error())));
    }
  }
  return show(ctx, "GET", str_cat(kApi, '/', collection, query({{"namespace", ns}})), std::nullopt,
              str_cat("list ", collection), render);
}

std::string stale_parent_hint(const NamespaceRef& ns) {
  return str_cat("a version was published since; see 'hotswapctl versions ", ns.id(),
                 "' and retry with the latest number as --expected-parent");
}

// Publishes `body` (message, expected_parent, maybe entries) as a version,
// and deploys it in the same request when asked.
Result publish_version(Context& ctx, const NamespaceRef& ns, json body,
                       const std::optional<uint64_t>& expected_parent,
                       const PublishDeployArgs& deploy, std::string_view what) {
  if (expected_parent) body["expected_parent"] = *expected_parent;
  if (!deploy.deploy && !deploy.selector.empty()) {
    return std::unexpected(make_failure(ExitCode::kUsage, "--selector needs --deploy"));
  }
  if (deploy.deploy) {
    const auto selector = parse_selector(deploy.selector);
    if (!selector) return std::unexpected(make_failure(ExitCode::kUsage, selector.error()));
    body["deploy"] = json::object();
    if (!selector->empty()) body["deploy"]["selector"] = *selector;
  }
  Result result = show(ctx, "POST", namespace_path(ns) + "/versions", body, what, render_version);
  return expected_parent ? with_hint(std::move(result), ExitCode::kConflict, stale_parent_hint(ns))
                         : result;
}

// The targets that keep a deployment from succeeding, one line each.
std::vector<std::string> unfinished_targets(const json& deployment) {
  std::vector<std::string> lines;
  const json& targets =
      deployment.is_object() ? deployment.value("targets", json::array()) : json::array();
  for (const json& target : targets) {
    if (text_of(target, "status") == "acked") continue;
    std::string line = str_cat(text_of(target, "node_id"), ": ", text_of(target, "status"));
    if (const std::string detail = text_of(target, "detail"); detail != "-" && !detail.empty()) {
      line += ": " + detail;
    }
    lines.push_back(std::move(line));
  }
  return lines;
}

// Polls a created deployment until it is done or `args.wait_timeout` passed.
Result wait_for(Context& ctx, json deployment, const DeployArgs& args) {
  const std::string id = text_of(deployment, "id");
  const std::string path = str_cat(kApi, "/deployments/", percent_encode(id));
  const auto timeout = args.wait_timeout.value_or(kDeployWaitTimeout);
  const auto deadline = ctx.now() + timeout;
  while (true) {
    const std::string state = text_of(deployment, "state");
    const bool done = is_final_state(state);
    if (done || ctx.now() >= deadline) {
      if (!deployment.contains("targets")) {  // polled by counts: read it whole once
        auto whole = call(ctx, "GET", path, std::nullopt, "read deployment " + id);
        if (!whole) return std::unexpected(std::move(whole.error()));
        deployment = *std::move(whole);
        continue;  // its state may have moved since the poll
      }
      emit(ctx, deployment, render_deployment);
      if (state == "succeeded") return {};
      Failure failure = make_failure(
          ExitCode::kDeployFailed,
          done
              ? str_cat("deployment ", id, ' ', state, " (", target_progress(deployment), " acked)")
              : str_cat("deployment ", id, " still running after ", duration_text(timeout), " (",
                        target_progress(deployment), " acked)"));
      failure.details = unfinished_targets(deployment);
      if (!done) {
        failure.hint = str_cat("it goes on; follow it with 'hotswapctl deployment ", id, "'");
      }
      return std::unexpected(std::move(failure));
    }
    ctx.sleep(std::min<std::chrono::milliseconds>(
        kDeployPollInterval,
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - ctx.now())));
    // Counts only while it runs: at 10,000 targets, a few hundred bytes a
    // poll instead of a megabyte.
    auto polled = call(ctx, "GET", path + "?targets=none", std::nullopt, "poll deployment " + id);
    if (!polled) return std::unexpected(std::move(polled.error()));
    deployment = *std::move(polled);
  }
}

}  // namespace

Result tenant_create(Context& ctx, const std::string& name) {
  return show(ctx, "POST", str_cat(kApi, "/tenants"), json{{"name", name}}, "create tenant " + name,
              render_tenant);
}

Result tenant_list(Context& ctx) {
  return show(ctx, "GET", str_cat(kApi, "/tenants"), std::nullopt, "list tenants", render_tenants);
}

Result ns_create(Context& ctx, const std::string& arg,
                 const std::optional<std::string>& description) {
  return with_namespace(arg, [&](const NamespaceRef& ns) {
    json body = {{"name", ns.name}};
    if (description) body["description"] = *description;
    return show(ctx, "POST", str_cat(kApi, "/tenants/", percent_encode(ns.tenant), "/namespaces"),
                body, "create namespace " + ns.id(), render_namespace);
  });
}

Result ns_list(Context& ctx, const std::string& tenant) {
  if (tenant.empty() || tenant.find('/') != std::string::npos) {
    return std::unexpected(
        make_failure(ExitCode::kUsage,
                     str_cat("tenant ", in_quotes(tenant), " is not a tenant name (e.g. acme)")));
  }
  return show(ctx, "GET", str_cat(kApi, "/tenants/", percent_encode(tenant), "/namespaces"),
              std::nullopt, "list namespaces of " + tenant, render_namespaces);
}

Result ns_get(Context& ctx, const std::string& arg) {
  return with_namespace(arg, [&](const NamespaceRef& ns) {
    return show(ctx, "GET", namespace_path(ns), std::nullopt, "get namespace " + ns.id(),
                render_namespace);
  });
}

Result entry_set(Context& ctx, const std::string& arg, const std::string& key,
                 const std::string& type, const std::string& value, bool secret) {
  return with_namespace(arg, [&](const NamespaceRef& ns) -> Result {
    std::string text = value;
    if (secret && value == "-") {
      std::getline(ctx.in, text);
      if (!text.empty() && text.back() == '\r') text.pop_back();
    }
    auto typed_value = parse_cli_value(key, type, text);
    if (!typed_value) {
      if (secret) {
        return std::unexpected(invalid_input(
            str_cat("secret ", in_quotes(key), " is not a valid ", type, " (value not shown)"),
            {}));
      }
      return std::unexpected(invalid_input(std::move(typed_value.error()), {}));
    }
    json body{{"type", type}, {"value", *typed_value}};
    if (secret) body["secret"] = true;
    return show(ctx, "PUT", namespace_path(ns) + "/draft/" + percent_encode(key), body,
                str_cat("set ", key, " in ", ns.id()), render_entry);
  });
}

Result entry_get(Context& ctx, const std::string& arg, const std::string& key) {
  return with_namespace(arg, [&](const NamespaceRef& ns) {
    return show(ctx, "GET", namespace_path(ns) + "/draft/" + percent_encode(key), std::nullopt,
                str_cat("get ", key, " in ", ns.id()), render_entry);
  });
}

Result entry_unset(Context& ctx, const std::string& arg, const std::string& key) {
  return with_namespace(arg, [&](const NamespaceRef& ns) {
    return show(ctx, "DELETE", namespace_path(ns) + "/draft/" + percent_encode(key), std::nullopt,
                str_cat("unset ", key, " in ", ns.id()), [&](const json&, std::ostream& out) {
                  out << "removed " << key << " from the draft of " << ns.id() << '\n';
                });
  });
}

Result publish(Context& ctx, const PublishArgs& args) {
  return with_namespace(args.ns, [&](const NamespaceRef& ns) {
    return publish_version(ctx, ns, json{{"message", args.message}}, args.expected_parent,
                           args.deploy, "publish " + ns.id());
  });
}

Result apply(Context& ctx, const ApplyArgs& args) {
  return with_namespace(args.ns, [&](const NamespaceRef& ns) -> Result {
    auto entries = read_document(ctx, args.file, "apply");
    if (!entries) return std::unexpected(entries.error());
    const std::string message = args.message.value_or("apply " + source_name(args.file));
    return publish_version(ctx, ns, json{{"message", message}, {"entries", *std::move(entries)}},
                           args.expected_parent, args.deploy,
                           str_cat("apply ", source_name(args.file), " to ", ns.id()));
  });
}

Result versions(Context& ctx, const VersionsArgs& args) {
  return with_namespace(args.ns, [&](const NamespaceRef& ns) {
    const std::string params =
        query({{"limit", optional_text(args.limit)}, {"before", optional_text(args.before)}});
    return show(ctx, "GET", namespace_path(ns) + "/versions" + params, std::nullopt,
                "list versions of " + ns.id(), render_versions);
  });
}

Result version_get(Context& ctx, const std::string& arg, uint64_t number) {
  return with_namespace(arg, [&](const NamespaceRef& ns) {
    return show(ctx, "GET", str_cat(namespace_path(ns), "/versions/", number), std::nullopt,
                str_cat("get version ", number, " of ", ns.id()), render_version);
  });
}

Result diff(Context& ctx, const std::string& arg, uint64_t from, uint64_t to) {
  return with_namespace(arg, [&](const NamespaceRef& ns) {
    return show(ctx, "GET",
                namespace_path(ns) + "/diff" +
                    query({{"from", std::to_string(from)}, {"to", std::to_string(to)}}),
                std::nullopt, str_cat("diff ", ns.id(), ' ', from, ' ', to), render_diff);
  });
}

Result deploy(Context& ctx, const DeployArgs& args) {
  return with_namespace(args.ns, [&](const NamespaceRef& ns) -> Result {
    auto body = deploy_body(ns, args);
    if (!body) return std::unexpected(usage(std::move(body.error())));
    auto created = call(ctx, "POST", str_cat(kApi, "/deployments"), *body,
                        str_cat("deploy ", ns.id(), " version ", args.version));
    if (!created) {
      return with_hint(std::unexpected(std::move(created.error())), ExitCode::kConflict,
                       str_cat("a deployment of ", ns.id(), " may still be active; see ",
                               "'hotswapctl deployments --namespace ", ns.id(),
                               "', or supersede it with --replace"));
    }
    if (!args.wait) {
      emit(ctx, *created, render_deployment);
      return {};
    }
    if (member_or_null(*created, "rollout").is_object()) {
      return wait_for_rollout(ctx, *created, args);
    }
    return wait_for(ctx, *std::move(created), args);
  });
}

Result deployments(Context& ctx, const std::optional<std::string>& ns) {
  return list_filtered(ctx, "deployments", ns, render_deployments);
}

Result deployment_get(Context& ctx, const std::string& id) {
  return show(ctx, "GET", str_cat(kApi, "/deployments/", percent_encode(id)), std::nullopt,
              "get deployment " + id, render_deployment);
}

Result deployment_cancel(Context& ctx, const std::string& id) {
  return show(ctx, "POST", str_cat(kApi, "/deployments/", percent_encode(id), "/cancel"),
              json::object(), "cancel deployment " + id, render_deployment);
}

Result instances(Context& ctx, const std::optional<std::string>& ns) {
  return list_filtered(ctx, "instances", ns, [&](const json& body, std::ostream& out) {
    render_instances(body, ns, out);
  });
}

Result instance_get(Context& ctx, const std::string& node_id) {
  return show(ctx, "GET", str_cat(kApi, "/instances/", percent_encode(node_id)), std::nullopt,
              "get instance " + node_id, render_instance);
}

}  // namespace hotswap::cli
