// The fixture of command tests: a scripted Api, in-memory streams and a
// fake clock that each sleep advances (recorded), so polling commands run
// without waiting.
#ifndef HOTSWAP_TESTS_CLI_COMMAND_FIXTURE_H_
#define HOTSWAP_TESTS_CLI_COMMAND_FIXTURE_H_

#include <gtest/gtest.h>

#include <chrono>
#include <sstream>
#include <vector>

#include "commands.h"
#include "fake_api.h"

namespace hotswap::cli::test {

class CommandFixture : public ::testing::Test {
 protected:
  // A Context over the fixture's parts; `terminal` describes `out`.
  Context context(OutputFormat format = OutputFormat::kTable, TerminalSize terminal = {}) {
    return Context{api,
                   in,
                   out,
                   format,
                   "http://control:7700",
                   [this](std::chrono::milliseconds d) {
                     sleeps.push_back(d);
                     clock += d;
                   },
                   [this] { return clock; },
                   terminal};
  }

  FakeApi api;
  std::istringstream in;
  std::ostringstream out;
  std::chrono::steady_clock::time_point clock{};
  std::vector<std::chrono::milliseconds> sleeps;
};

}  // namespace hotswap::cli::test

#endif  // HOTSWAP_TESTS_CLI_COMMAND_FIXTURE_H_
