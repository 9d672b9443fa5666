// The whole system on one machine: real hotswap-control and hotswap-sidecar
// processes on loopback ports chosen at run time, the test process reading
// through the SDK as an application does.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>

#include "holding_sidecars.h"
#include "hotswap/client.hpp"
#include "hotswap/harness/error_of.h"
#include "hotswap/harness/scale.h"
#include "hotswap/testing.hpp"
#include "lkg_cache.h"
#include "system_fixture.h"

namespace hotswap {
namespace {

using namespace std::chrono_literals;

TEST_F(System, PublishedVersionReachesTheAppThroughTheSdk) {
  sidecar("node-a");
  ASSERT_TRUE(eventually([&] { return connected("node-a"); }));
  const uint64_t v1 = release("node-a", {{"limit", int_entry(10)}, {"banner", str_entry("hi")}});
  ASSERT_NE(v1, 0u);

  auto client = Client::open(ns_, {.scope = "node-a"});
  ASSERT_TRUE(client) << client.error().message;
  auto limit = client->handle<int64_t>("limit").value();
  EXPECT_EQ(limit.get().value(), 10);
  EXPECT_EQ(client->get<std::string>("banner").value(), "hi");

  const uint64_t v2 = rest_->publish(ns_, {{"limit", int_entry(20)}, {"extra", str_entry("x")}});
  rest_->deploy(ns_, v2);
  auto changed = client->wait_for_change(20s);
  ASSERT_TRUE(changed) << changed.error().message;
  EXPECT_EQ(*changed, v2);
  EXPECT_EQ(limit.get().value(), 20);
  EXPECT_EQ(test::error_of(client->get<std::string>("banner")).code, ErrorCode::not_found);

  // History and diff as control tells them.
  const json versions = rest_->get("/api/v1/namespaces/" + ns_ + "/versions").body;
  ASSERT_EQ(versions["versions"].size(), 2u);
  EXPECT_EQ(versions["versions"][0]["number"], v2);
  EXPECT_EQ(versions["versions"][0]["parent"], v1);
  const json diff = rest_->get("/api/v1/namespaces/" + ns_ + "/diff?from=1&to=2").body;
  EXPECT_TRUE(diff["added"].contains("extra"));
  EXPECT_TRUE(diff["removed"].contains("banner"));
  EXPECT_EQ(diff["changed"]["limit"]["old"]["value"], 10);
  EXPECT_EQ(diff["changed"]["limit"]["new"]["value"], 20);
  // The app can see v2 a moment before the sidecar's ACK reaches control.
  json deployments;
  EXPECT_TRUE(eventually([&] {
    deployments = rest_->get("/api/v1/deployments?namespace=" + ns_).body;
    return deployments["deployments"][0]["state"] == "succeeded";
  })) << deployments.dump();
  EXPECT_EQ(deployments["deployments"][0]["version"], v2);
  EXPECT_EQ(deployments["deployments"][0]["targets"][0]["status"], "acked");
}

TEST_F(System, OneRequestPublishesAndDeploysToTheSelectedInstances) {
  sidecar("node-a", {}, {"--labels", "env=prod"});
  sidecar("node-b", {}, {"--labels", "env=dev"});
  ASSERT_TRUE(eventually([&] { return connected("node-a") && connected("node-b"); }));
  const auto r = rest_->post("/api/v1/namespaces/" + ns_ + "/versions",
                             {{"message", "ship"},
                              {"entries", {{"limit", int_entry(7)}}},
                              {"deploy", {{"selector", {{"env", "prod"}}}}}});
  ASSERT_EQ(r.status, 201) << r.raw;
  const uint64_t v = r.body["number"].get<uint64_t>();
  ASSERT_TRUE(r.body["deployment"].is_object()) << r.raw;
  EXPECT_EQ(r.body["deployment"]["version"], v);
  ASSERT_EQ(r.body["deployment"]["targets"].size(), 1u) << r.raw;
  EXPECT_EQ(r.body["deployment"]["targets"][0]["node_id"], "node-a");

  auto client = Client::open(ns_, {.scope = "node-a"});
  ASSERT_TRUE(eventually([&] {
    client = Client::open(ns_, {.scope = "node-a"});
    return client && client->get<int64_t>("limit").value_or(0) == 7;
  }));
  ASSERT_TRUE(eventually([&] { return applied("node-a", ns_) == v; }));
  EXPECT_EQ(applied("node-b", ns_), 0u) << "node-b was not selected";
  auto unselected = Client::open(ns_, {.scope = "node-b"});
  EXPECT_TRUE(!unselected || !unselected->version()) << "node-b's app sees a version";
}

// An instance that attaches after a release gets the newest version
// released to instances like it, never one released to another part of the
// fleet only.
TEST_F(System, AnInstanceThatAttachesLaterGetsOnlyWhatWasReleasedToItsLabels) {
  sidecar("node-a", {}, {"--labels", "env=prod"});
  ASSERT_TRUE(eventually([&] { return connected("node-a"); }));
  const auto everyone =
      rest_->post("/api/v1/namespaces/" + ns_ + "/versions",
                  {{"entries", {{"limit", int_entry(1)}}}, {"deploy", json::object()}});
  ASSERT_EQ(everyone.status, 201) << everyone.raw;
  const auto succeeded = [&](const test::HttpReply& r) {
    return eventually([&] {
      return rest_->get("/api/v1/deployments/" + r.body["deployment"]["id"].dump()).body["state"] ==
             "succeeded";
    });
  };
  ASSERT_TRUE(succeeded(everyone));
  const auto prod = rest_->post(
      "/api/v1/namespaces/" + ns_ + "/versions",
      {{"entries", {{"limit", int_entry(2)}}}, {"deploy", {{"selector", {{"env", "prod"}}}}}});
  ASSERT_EQ(prod.status, 201) << prod.raw;
  const uint64_t v1 = everyone.body["number"], v2 = prod.body["number"];
  ASSERT_TRUE(eventually([&] { return applied("node-a", ns_) == v2; }));
  ASSERT_TRUE(succeeded(prod));

  sidecar("node-b", {}, {"--labels", "env=dev"});
  sidecar("node-c", {}, {"--labels", "env=prod"});
  ASSERT_TRUE(eventually([&] { return applied("node-c", ns_) == v2; }));
  ASSERT_TRUE(eventually([&] { return applied("node-b", ns_) == v1; }))
      << "node-b applied " << applied("node-b", ns_) << ", not the version released to all";
  auto client = Client::open(ns_, {.scope = "node-b"});
  ASSERT_TRUE(client.has_value());
  EXPECT_EQ(client->get<int64_t>("limit").value_or(0), 1);
}

// What a release script polls at 10,000 instances: the counts, not a
// megabyte of targets. A bad value is refused before anything is published.
// How many times a process's main thread has gone to sleep (from
// /proc/PID/status); 0 when it cannot be read.
uint64_t main_thread_sleeps(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("voluntary_ctxt_switches:")) return std::stoull(line.substr(24));
  }
  return 0;
}

// An attached sidecar with nothing to do wakes for its timers only: a
// heartbeat every 300 ms (control's interval here) with its answer, and a
// health collection a second. Its health sender sleeps until a collection
// has something to send; it used to look at the backlog 10 times a
// second, on every sidecar of a host.
TEST_F(System, AnIdleSidecarWakesOnlyForItsTimers) {
  const pid_t pid = sidecar("node-idle").pid();
  ASSERT_TRUE(eventually([&] { return connected("node-idle"); }));
  const uint64_t before = main_thread_sleeps(pid);
  ASSERT_GT(before, 0u);
  std::this_thread::sleep_for(std::chrono::seconds(3));  // the window measured, not a wait
  const uint64_t slept = main_thread_sleeps(pid) - before;
  // 10 heartbeats, a sleep before and after each answer; 3 collections.
  EXPECT_LE(slept, 2u * 10 + 3 + 6) << "slept " << slept;
}

TEST_F(System, DeploymentsAnswerWithTargetCountsOnlyWhenAsked) {
  sidecar("node-a");
  sidecar("node-b");
  ASSERT_TRUE(eventually([&] { return connected("node-a") && connected("node-b"); }));
  const std::string versions = "/api/v1/namespaces/" + ns_ + "/versions";
  const json body = {{"entries", {{"limit", int_entry(3)}}}, {"deploy", json::object()}};

  const auto bad = rest_->post(versions + "?targets=some", body);
  EXPECT_EQ(bad.status, 400) << bad.raw;
  EXPECT_NE(bad.raw.find("'targets'"), std::string::npos) << bad.raw;
  EXPECT_EQ(rest_->get("/api/v1/namespaces/" + ns_).body["latest_version"], 0) << "published";

  const auto r = rest_->post(versions + "?targets=none", body);
  ASSERT_EQ(r.status, 201) << r.raw;
  const json& created = r.body["deployment"];
  EXPECT_FALSE(created.contains("targets")) << r.raw;
  EXPECT_EQ(created["target_counts"]["total"], 2) << r.raw;
  EXPECT_EQ(
      created["target_counts"]["pending"].get<int>() + created["target_counts"]["acked"].get<int>(),
      2)
      << r.raw;
  const std::string path = "/api/v1/deployments/" + created["id"].dump();
  json polled;
  ASSERT_TRUE(eventually([&] {
    polled = rest_->get(path + "?targets=none").body;
    return polled["state"] == "succeeded";
  })) << polled.dump();
  EXPECT_FALSE(polled.contains("targets"));
  EXPECT_EQ(polled["target_counts"]["acked"], 2) << polled.dump();
  EXPECT_EQ(polled["target_counts"]["pending"], 0) << polled.dump();

  const json full = rest_->get(path).body;  // the default lists them
  ASSERT_EQ(full["targets"].size(), 2u) << full.dump();
  EXPECT_EQ(full["target_counts"], polled["target_counts"]);
  const json listed = rest_->get("/api/v1/deployments?targets=none&namespace=" + ns_).body;
  ASSERT_EQ(listed["deployments"].size(), 1u) << listed.dump();
  EXPECT_FALSE(listed["deployments"][0].contains("targets")) << listed.dump();
  EXPECT_EQ(rest_->get(path + "?targets=").status, 400);
}

TEST_F(System, ControlKilledMidTrafficLosesNoAcknowledgedVersion) {
  sidecar("node-a");
  sidecar("node-b");
  ASSERT_TRUE(eventually([&] { return connected("node-a") && connected("node-b"); }));
  // Each request's own entries and message, by the version it was
  // acknowledged as; read only after the join.
  struct Sent {
    json entries;
    std::string message;
  };
  std::map<uint64_t, Sent> acknowledged;
  std::atomic<size_t> count{0};
  std::atomic<bool> stop{false};
  std::thread traffic([&] {
    Rest rest(control_->http_port());
    for (int i = 0; !stop.load(); ++i) {
      Sent sent{{{"i", int_entry(i)}, {"who", str_entry("request " + std::to_string(i))}},
                "m" + std::to_string(i)};
      auto r = rest.post("/api/v1/namespaces/" + ns_ + "/versions",
                         {{"message", sent.message}, {"entries", sent.entries}});
      if (r.status == 201) {
        acknowledged.emplace(r.body["number"].get<uint64_t>(), std::move(sent));
        ++count;
      }
    }
  });
  ASSERT_TRUE(eventually([&] { return count.load() >= 20; }));
  control_->kill();
  stop = true;
  traffic.join();
  control_->restart();
  // Every version the API acknowledged is there after the restart, holding
  // what its request sent.
  ASSERT_EQ(acknowledged.size(), count.load()) << "a version number was acknowledged twice";
  for (const auto& [v, sent] : acknowledged) {
    const auto r = rest_->get("/api/v1/namespaces/" + ns_ + "/versions/" + std::to_string(v));
    ASSERT_EQ(r.status, 200) << "version " << v << " was acknowledged, then lost";
    EXPECT_EQ(r.body["entries"], sent.entries) << "version " << v;
    EXPECT_EQ(r.body["message"], sent.message) << "version " << v;
  }
  // Sidecars reconnect by themselves and converge on a new deployment.
  ASSERT_TRUE(eventually([&] { return connected("node-a") && connected("node-b"); }, 30s));
  const uint64_t latest = acknowledged.rbegin()->first;
  rest_->deploy(ns_, latest);
  ASSERT_TRUE(eventually(
      [&] { return applied("node-a", ns_) == latest && applied("node-b", ns_) == latest; }));
  auto client = Client::open(ns_, {.scope = "node-b"}).value();
  EXPECT_EQ(client.version().value(), latest);
}

// Heartbeats are recorded in batches, not one commit each: they still
// move the instance's last heartbeat on (times are ISO 8601 in seconds, so
// later times compare greater as strings).
TEST_F(System, HeartbeatsAdvanceTheInstancesLastHeartbeat) {
  sidecar("node-a");
  ASSERT_TRUE(eventually([&] { return connected("node-a"); }));
  const std::string registered = instance("node-a")["registered_at"].get<std::string>();
  ASSERT_TRUE(eventually([&] {
    const json i = instance("node-a");
    return i.value("last_heartbeat", "") > registered && i.value("status", "") == "connected";
  }));
}

TEST_F(System, RestartedSidecarServesLastKnownGoodWhileControlIsDown) {
  Process& first = sidecar("node-a");
  ASSERT_TRUE(eventually([&] { return connected("node-a"); }));
  const uint64_t v1 = release("node-a", {{"limit", int_entry(42)}});
  ASSERT_NE(v1, 0u);
  // The sidecar ACKs before it writes its last-known-good copy: the kill
  // waits until the copy on disk verifies.
  const auto lkg = sidecar::LkgCache::open(data_.path() + "/cache-node-a").value();
  ASSERT_TRUE(eventually([&] {
    auto saved = lkg.load(ns_);
    return saved && saved->has_value() && (*saved)->version() == v1;
  }));
  control_->kill();
  first.signal(SIGKILL);
  ASSERT_TRUE(first.wait(10s));
  // The host lost its shared memory too (a reboot): only the disk cache is left.
  ASSERT_TRUE(Writer::remove(ns_, "node-a"));
  ASSERT_EQ(test::error_of(Client::open(ns_, {.scope = "node-a"})).code, ErrorCode::no_segment);
  sidecar("node-a");
  std::optional<Client> client;
  ASSERT_TRUE(eventually([&] {
    auto c = Client::open(ns_, {.scope = "node-a"});
    if (!c || !c->version()) return false;
    client.emplace(std::move(*c));
    return true;
  }));
  EXPECT_EQ(client->version().value(), v1);
  EXPECT_EQ(client->get<int64_t>("limit").value(), 42);
}

TEST_F(System, AcksRecordedTogetherSurviveAControlKill) {
  const std::vector<std::string> nodes = {"node-a", "node-b", "node-c", "node-d", "node-e"};
  for (const auto& node : nodes) sidecar(node);
  ASSERT_TRUE(eventually([&] {
    return std::all_of(nodes.begin(), nodes.end(), [&](const auto& n) { return connected(n); });
  }));
  const uint64_t v1 = rest_->publish(ns_, {{"limit", int_entry(7)}});
  const int64_t id = rest_->deploy(ns_, v1);
  const std::string path = "/api/v1/deployments/" + std::to_string(id);
  ASSERT_TRUE(eventually([&] { return rest_->get(path).body.value("state", "") == "succeeded"; }));
  // What the API reported is committed: a killed control still has it.
  control_->kill();
  control_->restart();
  rest_ = std::make_unique<Rest>(control_->http_port());
  const json deployment = rest_->get(path).body;
  EXPECT_EQ(deployment.value("state", ""), "succeeded");
  ASSERT_EQ(deployment["targets"].size(), nodes.size());
  for (const json& target : deployment["targets"]) EXPECT_EQ(target["status"], "acked");
  for (const auto& node : nodes) EXPECT_EQ(applied(node, ns_), v1) << node;
}

TEST_F(System, RefusedSnapshotIsNackedAndTheAppKeepsTheOldValues) {
  sidecar("node-a", {}, {"--max-snapshot-bytes", "1000"});
  ASSERT_TRUE(eventually([&] { return connected("node-a"); }));
  const uint64_t v1 = release("node-a", {{"limit", int_entry(1)}});
  ASSERT_NE(v1, 0u);
  auto client = Client::open(ns_, {.scope = "node-a"}).value();

  const uint64_t v2 =
      rest_->publish(ns_, {{"limit", int_entry(2)}, {"blob", str_entry(std::string(5000, 'x'))}});
  const int64_t id = rest_->deploy(ns_, v2);
  ASSERT_TRUE(eventually([&] {
    return rest_->get("/api/v1/deployments/" + std::to_string(id)).body["state"] == "failed";
  }));
  const json i = instance("node-a");
  const json& nack = i["namespaces"][0]["last_nack"];
  ASSERT_TRUE(nack.is_object()) << i.dump();
  EXPECT_EQ(nack["version"], v2);
  EXPECT_NE(nack["reason"].get<std::string>().find("--max-snapshot-bytes"), std::string::npos);
  EXPECT_EQ(i["namespaces"][0]["applied_version"], v1);
  EXPECT_EQ(client.version().value(), v1);
  EXPECT_EQ(client.get<int64_t>("limit").value(), 1);
  const json d = rest_->get("/api/v1/deployments/" + std::to_string(id)).body;
  EXPECT_EQ(d["targets"][0]["status"], "nacked");
}

TEST_F(System, SidecarsReceiveOnlyTheNamespacesTheySubscribeTo) {
  rest_->create_namespace(tenant_, "api");
  const std::string api = tenant_ + "/api";
  sidecar("node-web", {ns_});
  sidecar("node-api", {api});
  sidecar("node-both", {ns_, api});
  ASSERT_TRUE(eventually(
      [&] { return connected("node-web") && connected("node-api") && connected("node-both"); }));
  rest_->deploy(ns_, rest_->publish(ns_, {{"who", str_entry("web")}}));
  rest_->deploy(api, rest_->publish(api, {{"who", str_entry("api")}}));
  ASSERT_TRUE(eventually([&] {
    return applied("node-web", ns_) == 1 && applied("node-api", api) == 1 &&
           applied("node-both", ns_) == 1 && applied("node-both", api) == 1;
  }));
  EXPECT_EQ(Client::open(ns_, {.scope = "node-web"}).value().get<std::string>("who").value(),
            "web");
  EXPECT_EQ(Client::open(api, {.scope = "node-api"}).value().get<std::string>("who").value(),
            "api");
  EXPECT_EQ(Client::open(api, {.scope = "node-both"}).value().get<std::string>("who").value(),
            "api");
  // Nothing of the other namespace reached the single-namespace sidecars.
  EXPECT_EQ(test::error_of(Client::open(api, {.scope = "node-web"})).code, ErrorCode::no_segment);
  EXPECT_EQ(test::error_of(Client::open(ns_, {.scope = "node-api"})).code, ErrorCode::no_segment);
  EXPECT_EQ(instance("node-web")["namespaces"].size(), 1u);
}

// One running deployment per namespace: a second is refused whole (no
// version, no deployment) until the first ends; the first, its only target
// gone, ends failed with the reason after --deployment-timeout (3 s, 9 s
// in sanitized builds: the 409s are checked well within it, whole seconds
// and all).
TEST_F(System, ASecondDeploymentWaitsForTheRunningOneWhichFailsWhenItsTargetsAreGone) {
  control_ = std::make_unique<ControlProcess>(
      ControlProcess::start(data_.path() + "/control-timeout",
                            {"--deployment-timeout", std::to_string(3 * test::kWaitScale)}));
  rest_ = std::make_unique<Rest>(control_->http_port());
  rest_->create_namespace(tenant_, "web");
  sidecar("node-a");
  ASSERT_TRUE(eventually([&] { return connected("node-a"); }));
  ASSERT_NE(release("node-a", {{"limit", int_entry(1)}}), 0u);
  sidecars_.clear();  // node-a goes away
  ASSERT_TRUE(eventually([&] { return instance("node-a")["status"] == "disconnected"; }));

  const uint64_t v2 = rest_->publish(ns_, {{"limit", int_entry(2)}});
  const int64_t running = rest_->deploy(ns_, v2);
  const auto refused = rest_->post("/api/v1/deployments", {{"namespace", ns_}, {"version", v2}});
  EXPECT_EQ(refused.status, 409) << refused.raw;
  EXPECT_EQ(refused.body["error"]["code"], "conflict");
  const auto publish_deploy =
      rest_->post("/api/v1/namespaces/" + ns_ + "/versions",
                  {{"entries", {{"limit", int_entry(3)}}}, {"deploy", json::object()}});
  EXPECT_EQ(publish_deploy.status, 409) << publish_deploy.raw;
  EXPECT_EQ(rest_->get("/api/v1/namespaces/" + ns_).body["latest_version"], v2);

  const std::string path = "/api/v1/deployments/" + std::to_string(running);
  ASSERT_TRUE(eventually([&] { return rest_->get(path).body["state"] == "failed"; }));
  EXPECT_EQ(rest_->get(path).body["reason"],
            "1 target can no longer answer: node-a (disconnected)");
  EXPECT_GT(rest_->deploy(ns_, v2), running);  // the namespace is free again
}

// Control's resident memory while it serves version after version of a
// large namespace: bounded by --snapshot-cache-bytes (8 MiB here) plus
// what parsing one request takes, not growing with every version (it grew
// by about 1.4 MB a version of 10,000 keys when recent snapshots were
// bounded by count). The bound is the production allocator's: a sanitizer
// replaces malloc (AddressSanitizer holds freed memory in quarantine), so
// sanitized builds only publish (HOTSWAP_STRESS_SCALE times 60 versions)
// and check what control answers.
TEST_F(System, ControlMemoryStaysWithinItsSnapshotBudget) {
  control_ = std::make_unique<ControlProcess>(ControlProcess::start(
      data_.path() + "/control-budget", {"--snapshot-cache-bytes", std::to_string(8 << 20)}));
  rest_ = std::make_unique<Rest>(control_->http_port());
  rest_->create_namespace(tenant_, "web");
  auto rss_mb = [&] { return test::resident_kb(control_->process().pid()) / 1024; };
  json entries = json::object();
  for (int i = 0; i < 10000; ++i)
    entries["key-" + std::to_string(i)] = str_entry(std::string(40, 'v'));
  ASSERT_EQ(rest_->publish(ns_, entries), 1u);
  const long first = rss_mb();
  ASSERT_GT(first, 0);
  const int versions = 1 + std::max(3, static_cast<int>(60 * test::stress_scale()));
  long halfway = first;
  for (int v = 2; v <= versions; ++v) {
    entries["key-0"] = str_entry("version " + std::to_string(v));
    ASSERT_EQ(rest_->publish(ns_, entries), static_cast<uint64_t>(v));
    if (v == (versions + 1) / 2) halfway = rss_mb();
  }
  const json last_version =
      rest_->get("/api/v1/namespaces/" + ns_ + "/versions/" + std::to_string(versions)).body;
  EXPECT_EQ(last_version["entries"], entries);
  if (test::kSanitized) return;
  const long last = rss_mb();
  const std::string seen = "MB resident after 1 version: " + std::to_string(first) + ", after " +
                           std::to_string((versions + 1) / 2) + ": " + std::to_string(halfway) +
                           ", after " + std::to_string(versions) + ": " + std::to_string(last);
  // The budget, and room for the allocator: each handler thread keeps an
  // arena of its own with a 0.6 MB body's parse transients (32 MB after 1
  // version, 68-69 after 31 in four runs, 69-76 after 61 in five).
  EXPECT_LE(last, first + 8 + 48) << seen;
  // Once the cache is full the second half adds little (1-4 MB in those
  // runs): an unbounded cache grew about 1.4 MB a version.
  EXPECT_LE(last, halfway + 12) << seen;
}

TEST_F(System, SigtermStopsSidecarAndControlCleanly) {
  Process& node = sidecar("node-a");
  ASSERT_TRUE(eventually([&] { return connected("node-a"); }));
  // A push makes the sidecar start its disk-cache thread: SIGTERM must
  // still reach the main thread and end in a clean exit.
  const uint64_t v = release("node-a", {{"limit", int_entry(1)}});
  ASSERT_NE(v, 0u);
  node.signal(SIGTERM);
  auto status = node.wait(20s);
  ASSERT_TRUE(status) << "the sidecar did not stop";
  EXPECT_EQ(test::exit_code(*status), 0);
  control_->process().signal(SIGTERM);
  auto control_status = control_->process().wait(20s);
  ASSERT_TRUE(control_status) << "control did not stop";
  EXPECT_EQ(test::exit_code(*control_status), 0);
}

// A control that lets two pushes await their answer at a time deploys to
// five sidecars that hold their answers until the test releases them: two
// pushes go out, then one more per answer, never more than two awaiting an
// answer, and all five arrive and are recorded.
TEST_F(System, PushesBeyondTheInFlightLimitWaitTheirTurnAndAllArrive) {
  constexpr size_t kLimit = 2;
  control_ = std::make_unique<ControlProcess>(ControlProcess::start(
      data_.path() + "/control-limited", {"--max-pushes-in-flight", std::to_string(kLimit)}));
  rest_ = std::make_unique<Rest>(control_->http_port());
  rest_->create_namespace(tenant_, "web");
  const std::vector<std::string> nodes = {"held-1", "held-2", "held-3", "held-4", "held-5"};
  test::HoldingSidecars held(control_->rpc_address(), nodes, ns_);
  ASSERT_TRUE(eventually([&] {
    return std::all_of(nodes.begin(), nodes.end(), [&](const auto& n) { return connected(n); });
  }));
  const uint64_t v = rest_->publish(ns_, {{"limit", int_entry(1)}});
  // Control has sent or queued every push when the deploy returns.
  const int64_t id = rest_->deploy(ns_, v);
  ASSERT_TRUE(held.run_until([&] { return held.held() >= kLimit; }, 20s));
  held.round_trip();
  EXPECT_EQ(held.received(), kLimit) << "more pushes sent than --max-pushes-in-flight allows";
  // Each answer frees one slot, for one more push.
  while (held.received() < nodes.size()) {
    const size_t before = held.received();
    ASSERT_TRUE(held.release_oldest()) << "nothing held, " << before << " pushes received";
    ASSERT_TRUE(held.run_until([&] { return held.received() > before; }, 20s))
        << "no push went out after an answer";
    held.round_trip();
    EXPECT_EQ(held.received(), before + 1);
    EXPECT_LE(held.held(), kLimit);
  }
  while (held.release_oldest()) {
  }
  const std::string path = "/api/v1/deployments/" + std::to_string(id);
  json deployment;
  EXPECT_TRUE(held.run_until(
      [&] {
        deployment = rest_->get(path).body;
        return deployment.value("state", "") == "succeeded";
      },
      20s))
      << deployment.dump();
  EXPECT_EQ(held.most_held(), kLimit);
  EXPECT_EQ(held.versions(), std::vector<uint64_t>(nodes.size(), v));
  for (const auto& node : nodes) EXPECT_EQ(applied(node, ns_), v) << node;
}

// Writes raw bytes to control's RPC port; true if the server then closed
// the connection (read returns 0 or an error).
bool rpc_drops(int port, const std::string& bytes) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return false;
  }
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  (void)::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) {
  }
  ::close(fd);
  return n == 0 || (n < 0 && errno == ECONNRESET);
}

TEST_F(System, GarbageAndOversizedRpcMessagesDropOnlyThatConnection) {
  const int rpc_port = std::stoi(control_->rpc_address().substr(10));
  std::string garbage(4096, '\0');
  for (size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<char>(i * 131 + 7);
  EXPECT_TRUE(rpc_drops(rpc_port, garbage)) << "garbage did not end the connection";
  // A well-formed frame header announcing one 1 GiB segment.
  std::string oversized(8, '\0');
  const uint32_t segments_minus_one = 0, words = (1u << 30) / 8;
  std::memcpy(&oversized[0], &segments_minus_one, 4);
  std::memcpy(&oversized[4], &words, 4);
  oversized += std::string(64, 'x');
  EXPECT_TRUE(rpc_drops(rpc_port, oversized)) << "an oversized message was not refused";
  // The server is up and serves others.
  EXPECT_EQ(rest_->get("/healthz").status, 200);
  sidecar("node-a");
  ASSERT_TRUE(eventually([&] { return connected("node-a"); }));
  const uint64_t v = release("node-a", {{"ok", int_entry(1)}});
  EXPECT_NE(v, 0u);
}

}  // namespace
}  // namespace hotswap
