#include "app.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "approval_commands.h"
#include "audit_commands.h"
#include "cli_config.h"
#include "commands.h"
#include "exit_codes.h"
#include "hotswap/telemetry/trace_context.h"
#include "hotswap/version.h"
#include "quota_commands.h"
#include "rollout_commands.h"
#include "schema_commands.h"
#include "secret_commands.h"
#include "token_commands.h"
#include "value_parse.h"

namespace hotswap::cli {
namespace {

using Action = std::function<Result(Context&)>;

constexpr const char* kDefaultUrl = "http://127.0.0.1:7700";
constexpr const char* kUsageHint = "run 'hotswapctl --help' or 'hotswapctl COMMAND --help'\n";

struct GlobalArgs {
  std::string url = kDefaultUrl;
  std::string output = "table";
  std::string token;
  double timeout_seconds = 10;
  std::string ca_cert;
  std::string client_cert;
  std::string client_key;
};

// At least 1 ms: libcurl reads a timeout of 0 as "no timeout".
std::chrono::milliseconds to_millis(double seconds) {
  return std::chrono::milliseconds(std::max<int64_t>(1, static_cast<int64_t>(seconds * 1000.0)));
}

std::string help_footer() {
  return std::string("\n") + kExitCodeHelp +
         "\nNS is TENANT/NAME. Errors go to stderr; --output json prints the server's response\n"
         "body on stdout. Environment: HOTSWAP_URL, HOTSWAP_TOKEN, HOTSWAP_CA_CERT.\n"
         "The token (sent as 'Authorization: Bearer'): --token, else HOTSWAP_TOKEN, else the\n"
         "config file $XDG_CONFIG_HOME/hotswap/config (or ~/.config/hotswap/config): lines\n"
         "'token = ...' and 'url = ...', '#' comments; refused unless only its owner may read it\n"
         "(chmod 600). What you publish or deploy is recorded under the token's name.";
}

// Registers a subcommand whose parse selects `action` as the one to run.
CLI::App* command(CLI::App& parent, const std::string& name, const std::string& description,
                  Action& selected, Action action) {
  CLI::App* sub = parent.add_subcommand(name, description);
  sub->callback([&selected, action = std::move(action)] { selected = action; });
  return sub;
}

// Digits only: CLI11 2.1 converts "-1" to 18446744073709551615 for
// unsigned targets, and its NonNegativeNumber message prints DBL_MAX.
CLI::Option* non_negative(CLI::Option* option) {
  static const CLI::Validator kDigits(
      [](const std::string& text) -> std::string {
        const bool digits = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
          return c >= '0' && c <= '9';
        });
        return digits ? "" : "\"" + text + "\" is not a non-negative integer";
      },
      "UINT");
  return option->check(kDigits);
}

void add_global_options(CLI::App& app, GlobalArgs& args) {
  app.add_option("--url", args.url, "hotswap-control's HTTP address")
      ->envname("HOTSWAP_URL")
      ->capture_default_str();
  app.add_option("-o,--output", args.output,
                 "table (for people) or json (the response, for scripts)")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  app.add_option("--token", args.token, "API token (else HOTSWAP_TOKEN, else the config file)")
      ->envname("HOTSWAP_TOKEN");
  app.add_option("--timeout", args.timeout_seconds, "seconds per request")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--ca-cert", args.ca_cert,
                 "https: PEM CA certificates to verify control's certificate with (default: "
                 "the system's)")
      ->envname("HOTSWAP_CA_CERT");
  app.add_option("--client-cert", args.client_cert,
                 "https: PEM client certificate, for a control that requires one")
      ->envname("HOTSWAP_CLIENT_CERT");
  app.add_option("--client-key", args.client_key, "https: PEM private key of --client-cert")
      ->envname("HOTSWAP_CLIENT_KEY");
}

// The option and argument values of every subcommand. CLI11 fills only the
// ones of the subcommand given; the selected action reads them after parse.
struct CommandArgs {
  std::string name;  // a tenant
  std::string ns;    // TENANT/NAME, validated by the command
  std::string key;
  std::string value;
  std::string type = "string";
  bool secret = false;   // set --secret
  bool no_wait = false;  // keys rotate --no-wait
  std::string id;        // a deployment or a node
  std::optional<std::string> description;
  std::optional<std::string> filter;  // --namespace of the list commands
  uint64_t number = 0;                // a version; diff's A
  uint64_t to = 0;                    // diff's B
  PublishArgs publish;
  ApplyArgs apply;
  VersionsArgs versions;
  DeployArgs deploy;
  std::optional<double> wait_timeout_seconds;
  std::string interval = "500ms";  // deploy --wait of a staged rollout, rollout status --watch
  StatusArgs status;
  bool full = false;              // rollout promote
  std::string reason;             // rollout rollback
  std::optional<uint64_t> limit;  // rollout gate
  HealthArgs health;
  AuditListArgs audit;
  std::string format = "csv";  // audit export
  SchemaSetArgs schema_set;
  ValidateArgs validate;
  std::optional<uint64_t> schema_version;  // schema get --version
  ApprovalSettingsArgs settings;           // ns create, ns update
  std::optional<std::string> state;        // approvals list
  std::optional<std::string> comment;      // approvals approve
  TokenArgs token;
  QuotaArgs quota;
};

void add_settings_options(CLI::App& cmd, ApprovalSettingsArgs& s) {
  cmd.add_option("--protected", s.is_protected,
                 "true: deployments wait for approval (false: they start at once)");
  cmd.add_option("--approval-levels", s.levels, "approvals needed, each by another person (1-3)");
  cmd.add_option("--approval-timeout", s.timeout,
                 "a request undecided this long expires, e.g. 72h (the default) or 30m");
}

void add_approval_commands(CLI::App& app, CommandArgs& a, Action& selected) {
  CLI::App* approvals = app.add_subcommand("approvals", "Approve or reject waiting deployments");
  command(*approvals, "list", "List approval requests, newest first", selected, [&a](Context& c) {
    return approvals_list(c, a.state);
  })->add_option("--state", a.state, "pending, approved, rejected, expired or cancelled");
  command(*approvals, "get", "Show an approval request and its decisions", selected,
          [&a](Context& c) { return approvals_get(c, a.id); })
      ->add_option("ID", a.id)
      ->required();
  CLI::App* approve =
      command(*approvals, "approve", "Approve the next level; the last one starts the deployment",
              selected, [&a](Context& c) { return approvals_approve(c, a.id, a.comment); });
  approve->add_option("ID", a.id)->required();
  approve->add_option("--comment", a.comment, "recorded with the decision");
  CLI::App* reject =
      command(*approvals, "reject", "Reject: the deployment ends, nothing moves", selected,
              [&a](Context& c) { return approvals_reject(c, a.id, a.reason); });
  reject->add_option("ID", a.id)->required();
  reject->add_option("--reason", a.reason, "why (recorded with the deployment)")->required();
}

void add_tenant_commands(CLI::App& app, CommandArgs& a, Action& selected) {
  CLI::App* tenant = app.add_subcommand("tenant", "Tenants");  // alone: see run()
  command(*tenant, "create", "Create a tenant", selected,
          [&a](Context& c) { return tenant_create(c, a.name); })
      ->add_option("NAME", a.name, "tenant name: [a-z0-9-], 1-63 characters")
      ->required();
  command(*tenant, "list", "List tenants", selected, [](Context& c) { return tenant_list(c); });
}

void add_namespace_commands(CLI::App& app, CommandArgs& a, Action& selected) {
  CLI::App* ns = app.add_subcommand("ns", "Namespaces");
  CLI::App* create = command(*ns, "create", "Create a namespace", selected, [&a](Context& c) {
    if (a.settings.any()) return ns_create_with_settings(c, a.ns, a.description, a.settings);
    return ns_create(c, a.ns, a.description);
  });
  create->add_option("NS", a.ns, "TENANT/NAME")->required();
  create->add_option("--description", a.description, "free text");
  add_settings_options(*create, a.settings);
  CLI::App* update = command(*ns, "update", "Change a namespace's approval settings", selected,
                             [&a](Context& c) { return ns_update(c, a.ns, a.settings); });
  update->add_option("NS", a.ns, "TENANT/NAME")->required();
  add_settings_options(*update, a.settings);
  command(*ns, "list", "List a tenant's namespaces", selected,
          [&a](Context& c) { return ns_list(c, a.name); })
      ->add_option("TENANT", a.name)
      ->required();
  command(*ns, "get", "Show a namespace", selected, [&a](Context& c) { return ns_get(c, a.ns); })
      ->add_option("NS", a.ns, "TENANT/NAME")
      ->required();
}

void add_draft_commands(CLI::App& app, CommandArgs& a, Action& selected) {
  CLI::App* set = command(app, "set", "Set a draft entry", selected, [&a](Context& c) {
    return entry_set(c, a.ns, a.key, a.type, a.value, a.secret);
  });
  set->add_option("NS", a.ns, "TENANT/NAME")->required();
  set->add_option("KEY", a.key)->required();
  set->add_option("VALUE", a.value, "converted to --type before sending")->required();
  set->add_option("--type", a.type, "string, int64, double, bool, json or duration")
      ->check(CLI::IsMember(std::vector<std::string>(kValueTypes.begin(), kValueTypes.end())))
      ->capture_default_str();
  set->add_flag("--secret", a.secret,
                "a secret: sealed at rest, masked in every listing; VALUE - reads it from stdin");

  CLI::App* get = command(app, "get", "Show a draft entry", selected,
                          [&a](Context& c) { return entry_get(c, a.ns, a.key); });
  CLI::App* unset = command(app, "unset", "Remove a draft entry", selected,
                            [&a](Context& c) { return entry_unset(c, a.ns, a.key); });
  for (CLI::App* sub : {get, unset}) {
    sub->add_option("NS", a.ns, "TENANT/NAME")->required();
    sub->add_option("KEY", a.key)->required();
  }
}

// `reveal NS VERSION KEY`, `keys status`, `keys rotate`.
void add_secret_commands(CLI::App& app, CommandArgs& a, Action& selected) {
  CLI::App* show = command(app, "reveal", "Show one entry of a version, a secret's value too",
                           selected, [&a](Context& c) { return reveal(c, a.ns, a.number, a.key); });
  show->add_option("NS", a.ns, "TENANT/NAME")->required();
  non_negative(show->add_option("VERSION", a.number))->required();
  show->add_option("KEY", a.key)->required();
  CLI::App* keys = app.add_subcommand("keys", "Master keys of secret entries");
  command(*keys, "status", "Key ids, the primary, secret values per key, the last rotation",
          selected, [](Context& c) { return keys_status(c); });
  command(*keys, "rotate", "Re-seal every secret under the primary key of the re-read ring",
          selected, [&a](Context& c) { return keys_rotate(c, a.no_wait); })
      ->add_flag("--no-wait", a.no_wait, "start it and return");
}

void add_publish_deploy_options(CLI::App& cmd, PublishDeployArgs& deploy) {
  cmd.add_flag("--deploy", deploy.deploy,
               "also deploy the new version (direct), in the same request");
  cmd.add_option("--selector", deploy.selector,
                 "with --deploy: only instances with these labels (k=v,...)");
}

void add_version_commands(CLI::App& app, CommandArgs& a, Action& selected) {
  CLI::App* publish_cmd = command(app, "publish", "Publish the draft as a new version", selected,
                                  [&a](Context& c) { return publish(c, a.publish); });
  publish_cmd->add_option("NS", a.publish.ns, "TENANT/NAME")->required();
  publish_cmd->add_option("-m,--message", a.publish.message, "what changed and why")->required();
  non_negative(
      publish_cmd->add_option("--expected-parent", a.publish.expected_parent,
                              "fail (exit 4) unless this is the latest version (0: none)"));

  add_publish_deploy_options(*publish_cmd, a.publish.deploy);

  CLI::App* apply_cmd = command(app, "apply", "Publish a whole JSON document as a new version",
                                selected, [&a](Context& c) { return apply(c, a.apply); });
  apply_cmd->add_option("NS", a.apply.ns, "TENANT/NAME")->required();
  apply_cmd
      ->add_option("-f,--file", a.apply.file,
                   "JSON object of key -> {\"type\",\"value\"} or key -> plain value; - for stdin")
      ->required();
  apply_cmd->add_option("-m,--message", a.apply.message, "default: apply FILE");
  non_negative(apply_cmd->add_option("--expected-parent", a.apply.expected_parent,
                                     "fail (exit 4) unless this is the latest version (0: none)"));
  add_publish_deploy_options(*apply_cmd, a.apply.deploy);

  CLI::App* list = command(app, "versions", "List versions, newest first", selected,
                           [&a](Context& c) { return versions(c, a.versions); });
  list->add_option("NS", a.versions.ns, "TENANT/NAME")->required();
  non_negative(list->add_option("--limit", a.versions.limit, "at most this many"));
  non_negative(
      list->add_option("--before", a.versions.before, "only versions older than this number"));

  CLI::App* show = command(app, "version", "Show one version with its entries", selected,
                           [&a](Context& c) { return version_get(c, a.ns, a.number); });
  show->add_option("NS", a.ns, "TENANT/NAME")->required();
  non_negative(show->add_option("NUMBER", a.number))->required();

  CLI::App* diff_cmd = command(app, "diff", "Show what changed from version A to B", selected,
                               [&a](Context& c) { return diff(c, a.ns, a.number, a.to); });
  diff_cmd->add_option("NS", a.ns, "TENANT/NAME")->required();
  non_negative(diff_cmd->add_option("A", a.number, "0 for the empty version"))->required();
  non_negative(diff_cmd->add_option("B", a.to))->required();
}

// The rollout settings of `deploy` (docs/rest-api.md, "Deployments").
void add_rollout_options(CLI::App& cmd, RolloutArgs& r) {
  const std::string group = "Staged rollouts (canary, blue-green, rolling)";
  auto option = [&](const char* name, std::optional<std::string>& target, const char* help) {
    return cmd.add_option(name, target, help)->group(group);
  };
  option("--preset", r.preset,
         "all-at-once, linear-20pct-every-6m, canary-10pct-20m or linear-50pct-every-30s "
         "(implies canary; other flags override it)");
  option("--stages", r.stages, "canary: cumulative percentages, e.g. 10,25,50,100");
  option("--batch", r.batch, "rolling: instances per batch, 3 or 20%");
  option("--order-by", r.order_by, "rolling: label keys ordering the batches, e.g. tier,region");
  option("--bake", r.bake, "time each stage runs before it may promote, e.g. 30s");
  option("--max-hold", r.max_hold, "how long a stage waits for enough traffic after its bake");
  option("--on-inconclusive", r.on_inconclusive, "when the hold runs out: pause or rollback")
      ->check(CLI::IsMember({"pause", "rollback"}));
  option("--baseline-window", r.baseline_window,
         "with no instance left on the previous version: how far back the baseline looks");
  option("--webhook", r.webhook, "URL that must answer 2xx before each promotion");
  option("--alpha", r.alpha, "gate: chance of a false rollback over the whole rollout, e.g. 0.05");
  option("--max-error-increase", r.max_error_increase,
         "gate: error-rate increase that counts as a regression, e.g. 5% (of the baseline's)");
  option("--error-increase-floor", r.error_increase_floor,
         "gate: ... and at least this much in absolute terms, e.g. 0.1%");
  option("--max-latency-ratio", r.max_latency_ratio, "gate: canary/baseline latency, e.g. 2");
  option("--latency-quantile", r.latency_quantile, "gate: the latency compared, e.g. p99");
  option("--min-requests", r.min_requests, "gate: requests each side needs before a promotion");
  option("--min-requests-per-instance", r.min_requests_per_instance,
         "gate: requests every canary instance needs before a promotion (0: off)");
}

void add_deploy_command(CLI::App& app, CommandArgs& a, Action& selected) {
  CLI::App* deploy_cmd =
      command(app, "deploy", "Deploy a version to instances", selected, [&a](Context& c) -> Result {
        if (a.wait_timeout_seconds) a.deploy.wait_timeout = to_millis(*a.wait_timeout_seconds);
        auto interval = parse_cli_duration("--interval", a.interval);
        if (!interval) return std::unexpected(make_failure(ExitCode::kUsage, interval.error()));
        a.deploy.interval = *interval;
        return deploy(c, a.deploy);
      });
  deploy_cmd->add_option("NS", a.deploy.ns, "TENANT/NAME")->required();
  non_negative(deploy_cmd->add_option("VERSION", a.deploy.version))->required();
  deploy_cmd
      ->add_option("--strategy", a.deploy.strategy,
                   "direct (the server's default), canary, blue-green or rolling")
      ->check(CLI::IsMember({"direct", "canary", "blue-green", "rolling"}));
  deploy_cmd->add_option("--selector", a.deploy.selector,
                         "only instances with these labels: k=v,k2=v2");
  deploy_cmd->add_flag("--replace", a.deploy.replace,
                       "supersede the namespace's active deployment instead of failing");
  deploy_cmd->add_option("--rollback-reason", a.deploy.rollback_reason,
                         "this deployment rolls back to an earlier version, for this reason");
  add_rollout_options(*deploy_cmd, a.deploy.rollout);
  CLI::Option* wait = deploy_cmd->add_flag(
      "--wait", a.deploy.wait,
      "wait until the deployment ended; exit 8 unless it succeeded (a staged one shows its "
      "progress)");
  deploy_cmd
      ->add_option("--wait-timeout", a.wait_timeout_seconds,
                   "seconds --wait waits (default: 60 for direct, no limit for staged)")
      ->check(CLI::PositiveNumber)
      ->needs(wait);
  deploy_cmd->add_option("--interval", a.interval, "how often --wait looks at a staged rollout")
      ->needs(wait)
      ->capture_default_str();
}

// `rollout status|pause|resume|promote|rollback|abort|gate ID`.
void add_rollout_group(CLI::App& app, CommandArgs& a, Action& selected) {
  CLI::App* rollout = app.add_subcommand("rollout", "Follow and steer staged rollouts");
  CLI::App* status =
      command(*rollout, "status", "Show a deployment's progress and its gate's numbers", selected,
              [&a](Context& c) -> Result {
                auto interval = parse_cli_duration("--interval", a.interval);
                if (!interval)
                  return std::unexpected(make_failure(ExitCode::kUsage, interval.error()));
                a.status.interval = *interval;
                return rollout_status(c, a.status);
              });
  status->add_option("ID", a.status.id)->required();
  CLI::Option* watch = status->add_flag(
      "-w,--watch", a.status.watch,
      "follow it until it ended (redrawn in place on a terminal); exit 8 unless it succeeded");
  status->add_option("--interval", a.interval, "how often --watch looks, e.g. 500ms or 2s")
      ->needs(watch)
      ->capture_default_str();

  command(*rollout, "pause", "Pause a rollout: nothing advances", selected,
          [&a](Context& c) { return rollout_pause(c, a.id); })
      ->add_option("ID", a.id)
      ->required();
  command(*rollout, "resume", "Resume a paused rollout", selected,
          [&a](Context& c) { return rollout_resume(c, a.id); })
      ->add_option("ID", a.id)
      ->required();
  CLI::App* promote =
      command(*rollout, "promote", "Move to the next stage now, without bake or gate", selected,
              [&a](Context& c) { return rollout_promote(c, a.id, a.full); });
  promote->add_option("ID", a.id)->required();
  promote->add_flag("--full", a.full, "move every remaining instance at once");
  CLI::App* rollback =
      command(*rollout, "rollback", "Send the moved instances back to the previous version",
              selected, [&a](Context& c) { return rollout_rollback(c, a.id, a.reason); });
  rollback->add_option("ID", a.id)->required();
  rollback->add_option("--reason", a.reason, "why (recorded with the deployment)")->required();
  command(*rollout, "abort", "End a rollout where it is: instances keep what they have", selected,
          [&a](Context& c) { return rollout_abort(c, a.id); })
      ->add_option("ID", a.id)
      ->required();
  CLI::App* gate = command(*rollout, "gate", "List the gate's decisions, newest first", selected,
                           [&a](Context& c) { return rollout_gate(c, a.id, a.limit); });
  gate->add_option("ID", a.id)->required();
  non_negative(gate->add_option("--limit", a.limit, "at most this many (server default 50)"));
}

void add_token_commands(CLI::App& app, CommandArgs& a, Action& selected) {
  CLI::App* token = app.add_subcommand("token", "API and node tokens");
  CLI::App* create = command(*token, "create", "Create a token; its secret is printed once",
                             selected, [&a](Context& c) { return token_create(c, a.token); });
  create->add_option("NAME", a.token.name, "who holds it (the author of what it changes)")
      ->required();
  create->add_option("--role", a.token.role, "admin, operator, developer or viewer (API tokens)");
  create->add_option("--tenant", a.token.tenant, "the one tenant it may act on (else all)");
  create->add_flag("--node", a.token.node, "a node token, for sidecars (HOTSWAP_NODE_TOKEN)");
  create->add_option("--tenants", a.token.tenants, "a node token's tenants (else all)")
      ->delimiter(',');
  create->add_option("--expires", a.token.expires, "lifetime, e.g. 30d or 12h (else none)");
  command(*token, "list", "List tokens (never their secrets)", selected,
          [](Context& c) { return token_list(c); });
  command(*token, "revoke", "Revoke a token at once", selected,
          [&a](Context& c) { return token_revoke(c, a.token.id); })
      ->add_option("ID", a.token.id, "the token's id (token list)")
      ->required();
}

void add_quota_commands(CLI::App& app, CommandArgs& a, Action& selected) {
  CLI::App* quota = app.add_subcommand("quota", "A tenant's quotas (docs/limits.md)");
  command(*quota, "show", "Show a tenant's quotas", selected,
          [&a](Context& c) { return quota_show(c, a.quota.tenant); })
      ->add_option("TENANT", a.quota.tenant)
      ->required();
  CLI::App* set =
      command(*quota, "set",
              "Set a tenant's quotas (an admin for every tenant); a limit not given is unlimited",
              selected, [&a](Context& c) { return quota_set(c, a.quota); });
  set->add_option("TENANT", a.quota.tenant)->required();
  set->add_option("--namespaces", a.quota.namespaces, "namespaces the tenant may hold");
  set->add_option("--entries-per-version", a.quota.entries_per_version,
                  "entries one published version may hold");
  set->add_option("--bytes-per-version", a.quota.bytes_per_version,
                  "bytes of keys and values one version may hold");
  set->add_option("--deployments-per-hour", a.quota.deployments_per_hour,
                  "deployments the tenant may start in any hour");
}

void add_health_command(CLI::App& app, CommandArgs& a, Action& selected) {
  CLI::App* cmd = command(app, "health", "Show what a namespace's instances report", selected,
                          [&a](Context& c) { return health(c, a.health); });
  cmd->add_option("NS", a.health.ns, "TENANT/NAME")->required();
  cmd->add_option("--window", a.health.window, "how far back, e.g. 5m (server default 5m)");
  non_negative(cmd->add_option("--version", a.health.version, "only this version"));
}

void add_deployment_commands(CLI::App& app, CommandArgs& a, Action& selected) {
  command(app, "deployments", "List deployments, newest first", selected, [&a](Context& c) {
    return deployments(c, a.filter);
  })->add_option("--namespace", a.filter, "only this TENANT/NAME");
  command(app, "deployment", "Show a deployment and its targets", selected,
          [&a](Context& c) { return deployment_get(c, a.id); })
      ->add_option("ID", a.id)
      ->required();
  command(app, "cancel", "Cancel a running deployment (its targets keep what they were given)",
          selected, [&a](Context& c) { return deployment_cancel(c, a.id); })
      ->add_option("ID", a.id)
      ->required();
  command(app, "instances", "List registered instances", selected, [&a](Context& c) {
    return instances(c, a.filter);
  })->add_option("--namespace", a.filter, "only instances subscribed to this TENANT/NAME");
  command(app, "instance", "Show an instance and its namespaces", selected,
          [&a](Context& c) { return instance_get(c, a.id); })
      ->add_option("NODE_ID", a.id)
      ->required();
}

// `schema set|get|versions|rm NS` and `validate NS -f FILE`.
void add_schema_commands(CLI::App& app, CommandArgs& a, Action& selected) {
  CLI::App* schema = app.add_subcommand("schema", "A namespace's JSON Schema (versioned)");
  CLI::App* set = command(*schema, "set", "Set the schema (a new schema version)", selected,
                          [&a](Context& c) { return schema_set(c, a.schema_set); });
  set->add_option("NS", a.schema_set.ns, "TENANT/NAME")->required();
  set->add_option("-f,--file", a.schema_set.file, "a JSON Schema, draft-07 ('-' for stdin)")
      ->required();
  set->add_flag("--force", a.schema_set.force,
                "set it even though the latest version or the draft breaks it");
  CLI::App* get = command(*schema, "get", "Show the current schema, or one version", selected,
                          [&a](Context& c) { return schema_get(c, a.ns, a.schema_version); });
  get->add_option("NS", a.ns, "TENANT/NAME")->required();
  non_negative(get->add_option("--version", a.schema_version, "this schema version"));
  command(*schema, "versions", "List schema versions, newest first", selected,
          [&a](Context& c) { return schema_versions(c, a.ns); })
      ->add_option("NS", a.ns, "TENANT/NAME")
      ->required();
  command(*schema, "rm", "Remove the schema (a new schema version without one)", selected,
          [&a](Context& c) { return schema_remove(c, a.ns); })
      ->add_option("NS", a.ns, "TENANT/NAME")
      ->required();

  CLI::App* check = command(app, "validate", "Check a document against the schema, publish nothing",
                            selected, [&a](Context& c) { return validate(c, a.validate); });
  check->add_option("NS", a.validate.ns, "TENANT/NAME")->required();
  check->add_option("-f,--file", a.validate.file, "a document as apply takes it ('-' for stdin)")
      ->required();
  non_negative(check->add_option("--schema-version", a.validate.schema_version,
                                 "against this schema version (default: the current one)"));
}

// The message for a parse that selected no command: `hotswapctl` alone or
// a group such as `hotswapctl tenant`.
std::string missing_command_message(const CLI::App& app) {
  const CLI::App* level = &app;
  std::string path;
  while (!level->get_subcommands().empty()) {
    level = level->get_subcommands().front();
    path += level->get_name() + " ";
  }
  std::string names;
  for (const CLI::App* sub : level->get_subcommands([](const CLI::App*) { return true; })) {
    names += (names.empty() ? "" : ", ") + sub->get_name();
  }
  return "hotswapctl: " + path + "needs a command: " + names + "\n";
}

// Parse errors: CLI11's message in our format, exit 2; help and version: exit 0.
int parse_error_exit(CLI::App& app, const CLI::ParseError& e, std::ostream& out,
                     std::ostream& err) {
  if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) return app.exit(e, out, err);
  err << "hotswapctl: " << e.what() << '\n' << kUsageHint;
  return to_int(ExitCode::kUsage);
}

}  // namespace

std::unique_ptr<Api> make_http_api(const HttpOptions& options) {
  return std::make_unique<HttpClient>(options);
}

void add_audit_filters(CLI::App& cmd, AuditFilterArgs& f) {
  cmd.add_option("--actor", f.actor, "token name or id");
  cmd.add_option("--action", f.action,
                 "an action such as version.publish, or a prefix ending in '.' (deployment.)");
  cmd.add_option("--tenant", f.tenant, "rows of this tenant");
  cmd.add_option("--namespace", f.ns, "rows of this namespace (TENANT/NAME)");
  cmd.add_option("--since", f.since, "from this RFC 3339 UTC time on, e.g. 2026-12-02T15:00:00Z");
  cmd.add_option("--until", f.until, "before this RFC 3339 UTC time");
}

// `audit list|export|verify`.
void add_audit_group(CLI::App& app, CommandArgs& a, Action& selected) {
  CLI::App* audit = app.add_subcommand("audit", "Read and verify the audit log");
  CLI::App* list = command(*audit, "list", "List audit events, oldest first", selected,
                           [&a](Context& c) { return audit_list(c, a.audit); });
  add_audit_filters(*list, a.audit.filter);
  non_negative(list->add_option("--after", a.audit.after, "the rows after this id (the cursor)"));
  non_negative(list->add_option("--limit", a.audit.limit, "rows at most (1-10000, default 100)"));
  CLI::App* exp = command(*audit, "export", "Print every matching event as CSV or JSON", selected,
                          [&a](Context& c) { return audit_export(c, a.audit.filter, a.format); });
  add_audit_filters(*exp, a.audit.filter);
  exp->add_option("--format", a.format, "csv or json")->capture_default_str();
  command(*audit, "verify", "Check the hash chain; name the first broken row (exit 9)", selected,
          [](Context& c) { return audit_verify(c); });
}

TerminalSize terminal_of(int fd) {
  winsize size{};
  if (::isatty(fd) != 1 || ::ioctl(fd, TIOCGWINSZ, &size) != 0 || size.ws_col == 0) return {};
  return {size.ws_row, size.ws_col};
}

namespace {

// What the config file adds to what flags and the environment left unset;
// the error when it cannot be used.
std::optional<std::string> apply_config(const CLI::App& app, GlobalArgs& global) {
  const bool url_given = app.get_option("--url")->count() > 0;
  if (!global.token.empty() && url_given) return std::nullopt;
  const auto path = config_path();
  if (!path) return std::nullopt;
  auto config = read_config(*path);
  if (!config) return config.error();
  if (global.token.empty() && config->token) global.token = *config->token;
  if (!url_given && config->url) global.url = *config->url;
  return std::nullopt;
}

}  // namespace

int run(int argc, const char* const* argv, std::istream& in, std::ostream& out, std::ostream& err,
        const ApiFactory& make_api, TerminalSize terminal) {
  CLI::App app("hotswapctl: manage hotswap tenants, namespaces, versions and deployments",
               "hotswapctl");
  app.footer(help_footer());
  app.fallthrough();  // global options may follow the subcommand too
  app.set_version_flag("--version", "hotswapctl " HOTSWAP_VERSION);

  GlobalArgs global;
  CommandArgs args;
  Action selected;
  add_global_options(app, global);
  add_tenant_commands(app, args, selected);
  add_namespace_commands(app, args, selected);
  add_draft_commands(app, args, selected);
  add_version_commands(app, args, selected);
  add_deploy_command(app, args, selected);
  add_deployment_commands(app, args, selected);
  add_rollout_group(app, args, selected);
  add_secret_commands(app, args, selected);
  add_health_command(app, args, selected);
  add_audit_group(app, args, selected);
  add_schema_commands(app, args, selected);
  add_approval_commands(app, args, selected);
  add_token_commands(app, args, selected);
  add_quota_commands(app, args, selected);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return parse_error_exit(app, e, out, err);
  }
  if (!selected) {
    err << missing_command_message(app) << kUsageHint;
    return to_int(ExitCode::kUsage);
  }

  if (auto failed = apply_config(app, global)) {
    err << "hotswapctl: " << *failed << '\n';
    return to_int(ExitCode::kUsage);
  }
  if (global.client_cert.empty() != global.client_key.empty()) {
    err << "hotswapctl: --client-cert and --client-key go together\n" << kUsageHint;
    return to_int(ExitCode::kUsage);
  }
  // A trace started by the caller's tooling (TRACEPARENT, as other
  // command-line tools take it) goes on; else this invocation starts one.
  const char* inherited = std::getenv("TRACEPARENT");
  const HttpOptions http{global.url,
                         global.token,
                         to_millis(global.timeout_seconds),
                         {global.ca_cert, global.client_cert, global.client_key},
                         telemetry::traceparent_or_new(inherited != nullptr ? inherited : "")};
  try {
    const std::unique_ptr<Api> api = make_api(http);
    Context ctx{*api,
                in,
                out,
                global.output == "json" ? OutputFormat::kJson : OutputFormat::kTable,
                global.url,
                [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); },
                [] { return std::chrono::steady_clock::now(); },
                terminal};
    const Result result = selected(ctx);
    out.flush();
    if (result) return to_int(ExitCode::kOk);
    render_failure(result.error(), err);
    return to_int(result.error().code);
  } catch (const std::exception& e) {
    // A response the renderers could not handle, or a bug.
    err << "hotswapctl: internal error: " << e.what() << '\n';
    return to_int(ExitCode::kInternal);
  }
}

}  // namespace hotswap::cli
