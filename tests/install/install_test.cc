// The SDK as an application team outside this tree gets it: `cmake
// --install` into a fresh prefix, then programs built against only the
// installed files (a C program through pkg-config by gcc and by clang,
// shared and static; a C++ program through find_package, shared and
// static), each reading what a real sidecar published.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include "hotswap/client.hpp"
#include "hotswap/harness/cluster.h"
#include "hotswap/harness/eventually.h"
#include "hotswap/harness/temp_dir.h"
#include "hotswap/writer.hpp"

namespace hotswap {
namespace {

using namespace std::chrono_literals;

constexpr const char* kNamespace = "apps/installed";
// Of this process: another run's segments are never read (and removed after).
const std::string kScope = "install-" + std::to_string(::getpid());

struct ShellRun {
  int code;
  std::string out;  // stdout and stderr
};

// Runs `command` under /bin/sh, its output captured.
ShellRun sh(const std::string& command) {
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  std::string out;
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  const int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

class Installed : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir();
    const ShellRun install =
        sh("cmake --install " + std::string(HOTSWAP_BUILD_DIR) + " --prefix " + prefix());
    ASSERT_EQ(install.code, 0) << install.out;

    control_ = new test::ControlProcess(test::ControlProcess::start(dir_->path() + "/control"));
    test::Rest rest(control_->http_port());
    rest.create_namespace("apps", "installed");
    const uint64_t version = rest.publish(
        kNamespace, {{"greeting", {{"type", "string"}, {"value", "hello from hotswap"}}},
                     {"limit", {{"type", "int64"}, {"value", 42}}}});
    rest.deploy(kNamespace, version);
    test::SidecarConfig sidecar;
    sidecar.control = control_->rpc_address();
    sidecar.node_id = "install-node";
    sidecar.namespaces = {kNamespace};
    sidecar.cache_dir = dir_->path() + "/cache";
    sidecar.scope = kScope;
    sidecar_ = new test::Process(test::start_sidecar(sidecar));
    ASSERT_TRUE(test::eventually([] {
      auto client = Client::open(kNamespace, {.scope = kScope});
      return client && client->get<int64_t>("limit").value_or(0) == 42;
    }));
  }
  static void TearDownTestSuite() {
    delete sidecar_;
    delete control_;
    delete dir_;
    // Sidecars leave their versions in shared memory by design.
    auto removed = Writer::remove(kNamespace, kScope);
    EXPECT_TRUE(removed.has_value()) << removed.error().message;
  }

  static std::string prefix() { return dir_->path() + "/prefix"; }
  static std::string pkgconfig_dir() {
    for (const char* lib : {"/lib", "/lib64", "/lib/x86_64-linux-gnu"}) {
      if (std::filesystem::exists(prefix() + lib + "/pkgconfig/hotswap.pc")) {
        return prefix() + lib + "/pkgconfig";
      }
    }
    return prefix() + "/lib/pkgconfig";
  }
  // `pkg-config ARGS` against the installed prefix only, as shell text.
  static std::string pkg_config(const std::string& args) {
    return "$(PKG_CONFIG_PATH=" + pkgconfig_dir() + " PKG_CONFIG_LIBDIR= pkg-config " + args + ")";
  }

  // Builds examples/c/print_config.c with `compile` into `name`, runs it
  // and expects the published values.
  static void build_and_run_c(const std::string& name, const std::string& compile) {
    const std::string exe = dir_->path() + "/" + name;
    const ShellRun build = sh(compile + " -o " + exe);
    ASSERT_EQ(build.code, 0) << build.out;
    const ShellRun run = sh(exe + " " + kNamespace + " " + kScope);
    ASSERT_EQ(run.code, 0) << run.out;
    EXPECT_NE(run.out.find("version 1\n"), std::string::npos) << run.out;
    EXPECT_NE(run.out.find("greeting = hello from hotswap\n"), std::string::npos) << run.out;
    EXPECT_NE(run.out.find("limit = 42\n"), std::string::npos) << run.out;
  }

  static std::string c_source() {
    return std::string(HOTSWAP_SOURCE_DIR) + "/examples/c/print_config.c";
  }

  static test::TempDir* dir_;
  static test::ControlProcess* control_;
  static test::Process* sidecar_;
};

test::TempDir* Installed::dir_ = nullptr;
test::ControlProcess* Installed::control_ = nullptr;
test::Process* Installed::sidecar_ = nullptr;

TEST_F(Installed, PutsHeadersLibrariesPackagesAndBinariesInPlace) {
  for (const char* path :
       {"/include/hotswap/client.h", "/include/hotswap/client.hpp", "/include/hotswap/version.h",
        "/include/hotswap/error.hpp", "/bin/hotswap-control", "/bin/hotswap-sidecar",
        "/bin/hotswapctl", "/bin/hotswap-watch"}) {
    EXPECT_TRUE(std::filesystem::exists(prefix() + path)) << path;
  }
  const std::string lib = pkgconfig_dir() + "/..";
  for (const char* path :
       {"/libhotswap.so", "/libhotswap.so.0.1", "/libhotswap.a", "/pkgconfig/hotswap.pc",
        "/pkgconfig/hotswap-static.pc", "/cmake/hotswap/hotswapConfig.cmake",
        "/cmake/hotswap/hotswapConfigVersion.cmake"}) {
    EXPECT_TRUE(std::filesystem::exists(lib + path)) << path;
  }
  const ShellRun version = sh(prefix() + "/bin/hotswapctl --version");
  EXPECT_EQ(version.code, 0) << version.out;
}

TEST_F(Installed, SharedLibraryHasASonameAndExportsOnlyThePublicApi) {
  const std::string so = pkgconfig_dir() + "/../libhotswap.so";
  EXPECT_NE(sh("readelf -d " + so).out.find("Library soname: [libhotswap.so.0.1]"),
            std::string::npos);
  // One demangled name per line, each line starting with a newline.
  const ShellRun exports = sh("nm -D --defined-only " + so + " | cut -d' ' -f3- | c++filt");
  ASSERT_EQ(exports.code, 0) << exports.out;
  EXPECT_NE(exports.out.find("\nhotswap_open_with@@HOTSWAP_0.1"), std::string::npos);
  EXPECT_NE(exports.out.find("\nhotswap::Client::open("), std::string::npos);
  EXPECT_NE(exports.out.find(" hotswap::Client::get<long>("), std::string::npos);
  // The internal layers stay inside: no function of layout::, shm:: or
  // health_layout:: is exported, nor anything of Boost.
  for (const char* internal :
       {"\nhotswap::layout::", "\nhotswap::shm::", "\nhotswap::health_layout::", "boost::"}) {
    EXPECT_EQ(exports.out.find(internal), std::string::npos) << internal;
  }
}

TEST_F(Installed, TheReadBenchmarkBuildsAndRunsAgainstTheInstalledLibraries) {
  // bench/read_bench.cc uses only public headers and much of the C++ API
  // (the writer, snapshot building, handles, views, health): every symbol
  // it needs must be exported (a && member once was not). Its publisher
  // opens segments through Boost, which throws and catches inside the SDK
  // (an archive whose exception tables were broken crashed there).
  const std::string source = std::string(HOTSWAP_SOURCE_DIR) + "/bench/read_bench.cc";
  for (const std::string pc : {"hotswap", "hotswap-static"}) {
    const std::string exe = dir_->path() + "/read_bench_" + pc;
    const ShellRun build =
        sh("g++ -std=c++23 -O1 " + source + " " + pkg_config("--cflags --libs " + pc) +
           " -lbenchmark -lpthread" + " -Wl,-rpath," + pkg_config("--variable=libdir hotswap") +
           " -o " + exe);
    ASSERT_EQ(build.code, 0) << pc << ": " << build.out;
    const ShellRun run = sh(exe + " --benchmark_filter='BM_SnapshotGet|BM_GetByName/1000$'" +
                            " --benchmark_min_time=0.01");
    EXPECT_EQ(run.code, 0) << pc << ": " << run.out;
    EXPECT_NE(run.out.find("BM_SnapshotGet"), std::string::npos) << run.out;
  }
}

TEST_F(Installed, CProgramBuiltByGccWithPkgConfigReadsTheSidecarsValues) {
  build_and_run_c("c_gcc", "gcc -std=c11 -Wall -Wextra -Werror " + c_source() + " " +
                               pkg_config("--cflags --libs hotswap") + " -Wl,-rpath," +
                               pkg_config("--variable=libdir hotswap"));
}

TEST_F(Installed, CProgramBuiltByClangWithPkgConfigReadsTheSidecarsValues) {
  build_and_run_c("c_clang", "clang -std=c11 -Wall -Wextra -Werror " + c_source() + " " +
                                 pkg_config("--cflags --libs hotswap") + " -Wl,-rpath," +
                                 pkg_config("--variable=libdir hotswap"));
}

TEST_F(Installed, StaticArchiveLinksWithGccClangAndClangxx) {
  // The archive holds plain machine code: any of these linkers reads it.
  build_and_run_c("c_gcc_static", "gcc -std=c11 " + c_source() + " " +
                                      pkg_config("--cflags --libs hotswap-static"));
  build_and_run_c("c_clang_static", "clang -std=c11 " + c_source() + " " +
                                        pkg_config("--cflags --libs hotswap-static"));
  const std::string object = dir_->path() + "/print_config.o";
  ASSERT_EQ(
      sh("clang -std=c11 -c " + c_source() + " " + pkg_config("--cflags hotswap") + " -o " + object)
          .code,
      0);
  build_and_run_c("c_clangxx_static", "clang++ " + object + " " +
                                          pkg_config("--variable=libdir hotswap") +
                                          "/libhotswap.a -lpthread -lrt");
}

TEST_F(Installed, CxxProgramWithFindPackageReadsTheSidecarsValues) {
  const std::string build = dir_->path() + "/cpp-build";
  const ShellRun configure =
      sh("cmake -S " + std::string(HOTSWAP_SOURCE_DIR) + "/tests/install/cpp_app -B " + build +
         " -DCMAKE_CXX_COMPILER=g++" + " -DCMAKE_PREFIX_PATH=" + prefix());
  ASSERT_EQ(configure.code, 0) << configure.out;
  const ShellRun make = sh("cmake --build " + build + " -j 2");
  ASSERT_EQ(make.code, 0) << make.out;
  for (const char* exe : {"/read_shared", "/read_static"}) {
    const ShellRun run = sh(build + exe + " " + kNamespace + " " + kScope);
    ASSERT_EQ(run.code, 0) << exe << ": " << run.out;
    EXPECT_NE(run.out.find("greeting=hello from hotswap limit=42"), std::string::npos) << run.out;
    EXPECT_NE(run.out.find(std::string("sdk ") + HOTSWAP_VERSION_STRING), std::string::npos);
  }
  // The shared one loads the installed library, the static one none.
  EXPECT_NE(sh("ldd " + build + "/read_shared").out.find(prefix()), std::string::npos);
  EXPECT_EQ(sh("ldd " + build + "/read_static").out.find("libhotswap"), std::string::npos);
}

}  // namespace
}  // namespace hotswap
