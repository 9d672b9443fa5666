// `hotswapctl rollout status ID --watch` as a person sees it: run in a real
// terminal (a detached tmux session of a known size) against a scripted
// control that the test moves from stage to stage; the pane is read back
// with `tmux capture-pane` after each move.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "hotswap/harness/eventually.h"
#include "hotswap/harness/http_receiver.h"
#include "hotswap/harness/process.h"
#include "hotswap/harness/temp_dir.h"
#include "rollout_samples.h"

namespace hotswap::cli {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr const char* kTmux = "/usr/bin/tmux";

size_t count_of(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// A tmux server of the test's own (its socket in a temporary directory, no
// user configuration), killed with everything in it on destruction.
class Tmux {
 public:
  explicit Tmux(const std::string& dir)
      : socket_(dir + "/tmux.sock"), config_(dir + "/tmux.conf"), status_(dir + "/status") {
    // A pane outlives its program (so its last screen and exit status can
    // be read) and there is no status line: the pane is the whole window.
    std::ofstream(config_) << "set-option -g remain-on-exit on\nset-option -g status off\n";
  }
  ~Tmux() { tmux({"kill-server"}); }

  // Runs `argv` in a new detached session "watch" of `columns` x `rows`;
  // a shell around it writes its exit status to a file once it ends.
  void start(const std::vector<std::string>& argv, int columns, int rows) {
    std::vector<std::string> args = {"-f",          config_,
                                     "new-session", "-d",
                                     "-s",          "watch",
                                     "-x",          std::to_string(columns),
                                     "-y",          std::to_string(rows),
                                     "--",          "/bin/sh",
                                     "-c",          "\"$0\" \"$@\"; echo $? > " + status_};
    args.insert(args.end(), argv.begin(), argv.end());
    ASSERT_EQ(tmux(args).code, 0);
  }
  // The pane's text, one line per row (no escape codes), from the first
  // line that scrolled off the top: a frame printed below the one before
  // would show, however far down.
  std::string capture() { return tmux({"capture-pane", "-p", "-S", "-", "-t", "watch"}).out; }
  // The program's exit status once it ended.
  std::optional<int> exit_status() const {
    std::ifstream file(status_);
    int status = -1;
    if (!(file >> status)) return std::nullopt;
    return status;
  }

 private:
  struct Ran {
    int code;
    std::string out;
  };
  Ran tmux(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {kTmux, "-S", socket_};
    argv.insert(argv.end(), args.begin(), args.end());
    hotswap::test::Process process = hotswap::test::Process::spawn(argv);
    std::string out = process.read_all(10s);
    const auto status = process.wait(10s);
    return {status ? hotswap::test::exit_code(*status) : -1, std::move(out)};
  }

  std::string socket_;
  std::string config_;
  std::string status_;
};

// Deployment 7 as the test's control shows it, stage by stage.
class MovingControl {
 public:
  MovingControl()
      : server_([this](const hotswap::test::HttpReceiver::Request& request) {
          const int phase = phase_.load();
          if (request.target == "/api/v1/deployments/7") return reply(deployment(phase));
          if (request.target == "/api/v1/deployments/7/gate?limit=1") {
            return reply(test::decisions({decision(phase)}));
          }
          return hotswap::test::HttpReceiver::Reply{404, R"({"error":{"code":"not_found"}})"};
        }) {}

  std::string url() const { return server_.url(); }
  void move_to(int phase) { phase_.store(phase); }

 private:
  static hotswap::test::HttpReceiver::Reply reply(const json& body) { return {200, body.dump()}; }
  static json deployment(int phase) {
    if (phase == 1) {
      return test::canary_deployment("running", 1, {"pending", "waiting", "waiting", "waiting"});
    }
    if (phase == 2) {
      return test::canary_deployment("running", 2, {"acked", "acked", "waiting", "waiting"});
    }
    return test::canary_deployment("succeeded", 4, {"acked", "acked", "acked", "acked"});
  }
  static json decision(int phase) {
    if (phase == 1) return test::gate_decision(1, 1, "insufficient", 120, 0.0, 2100, 1.1, 0.93);
    if (phase == 2) return test::gate_decision(2, 2, "healthy", 2400, 0.0075, 3900, 55, 0.004);
    return test::gate_decision(3, 4, "healthy", 4100, 0.0081, 4010, 61, 0.002);
  }

  std::atomic<int> phase_{1};
  hotswap::test::HttpReceiver server_;
};

TEST(WatchInATerminal, TheFrameIsRedrawnInPlaceUntilTheRolloutSucceeds) {
  hotswap::test::TempDir dir;
  MovingControl control;
  Tmux tmux(dir.path());
  tmux.start({HOTSWAPCTL_PATH, "--url", control.url(), "rollout", "status", "7", "--watch",
              "--interval", "50ms"},
             110, 30);
  std::string pane;
  const auto shows = [&](const std::vector<std::string>& texts) {
    return hotswap::test::eventually([&] {
      pane = tmux.capture();
      for (const std::string& text : texts) {
        if (pane.find(text) == std::string::npos) return false;
      }
      return true;
    });
  };

  ASSERT_TRUE(shows({"stage 1 of 4  [+++++++.......................]  1 of 4 moved",
                     "stage 1, decision 1: insufficient: 120 canary requests",
                     "  canary    120       0       0.00%       812us  2.10ms"}))
      << pane;
  // The frame starts on the pane's first row and nothing but it is there.
  EXPECT_EQ(pane.rfind("deployment 7  acme/web  version 2 (from 1)  canary  running\n", 0), 0u)
      << pane;

  control.move_to(2);
  ASSERT_TRUE(shows({"stage 2 of 4  [###############...............]  2 of 4 moved",
                     "stage 2, decision 2: healthy: 2400 canary requests",
                     "  canary    2400      18      0.75%       812us  3.90ms",
                     "  errors   e-value 55 (fires at 40)"}))
      << pane;
  // Redrawn over the first frame, not printed below it.
  EXPECT_EQ(count_of(pane, "deployment 7  acme/web"), 1u) << pane;
  EXPECT_EQ(pane.find("stage 1 of 4"), std::string::npos) << pane;
  EXPECT_EQ(pane.find("decision 1:"), std::string::npos) << pane;
  EXPECT_EQ(pane.rfind("deployment 7  acme/web", 0), 0u) << pane;
  EXPECT_FALSE(tmux.exit_status().has_value()) << "still watching a running rollout";

  control.move_to(3);
  ASSERT_TRUE(hotswap::test::eventually([&] { return tmux.exit_status().has_value(); }))
      << tmux.capture();
  EXPECT_EQ(tmux.exit_status(), 0);
  pane = tmux.capture();
  EXPECT_EQ(pane.rfind("deployment 7  acme/web  version 2 (from 1)  canary  succeeded\n", 0), 0u)
      << pane;
  EXPECT_NE(pane.find("stage 4 of 4  [##############################]  4 of 4 moved"),
            std::string::npos)
      << pane;
  EXPECT_NE(pane.find("instances  v2: 4, v1: 0  (acked 4)"), std::string::npos) << pane;
  EXPECT_EQ(count_of(pane, "deployment 7  acme/web"), 1u) << pane;
  EXPECT_EQ(count_of(pane, "REQUESTS"), 1u) << pane;
}

TEST(WatchInATerminal, WithoutATerminalEachChangeIsOneLine) {
  MovingControl control;
  control.move_to(3);
  hotswap::test::Process process = hotswap::test::Process::spawn(
      {HOTSWAPCTL_PATH, "--url", control.url(), "rollout", "status", "7", "--watch"});
  const std::string out = process.read_all(20s);
  const auto status = process.wait(10s);
  ASSERT_TRUE(status.has_value());
  EXPECT_EQ(hotswap::test::exit_code(*status), 0);
  EXPECT_EQ(out.find('\x1b'), std::string::npos) << out;
  EXPECT_EQ(count_of(out, "\n"), 1u) << out;
  EXPECT_EQ(out.rfind("deployment 7 succeeded, stage 4/4; v2: 4, v1: 0 (acked 4); gate healthy", 0),
            0u)
      << out;
}

}  // namespace
}  // namespace hotswap::cli
