#include "hotswap/telemetry/trace_context.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>

namespace hotswap::telemetry {
namespace {

constexpr const char* kSent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

TEST(TraceContext, ValidTraceparentsFollowVersion00) {
  EXPECT_TRUE(valid_traceparent(kSent));
  EXPECT_FALSE(valid_traceparent(""));
  EXPECT_FALSE(valid_traceparent("01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"));
  EXPECT_FALSE(valid_traceparent("00-00000000000000000000000000000000-b7ad6b7169203331-01"));
  EXPECT_FALSE(valid_traceparent("00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01"));
  EXPECT_FALSE(valid_traceparent("00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01"));
  EXPECT_FALSE(valid_traceparent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-1"));
  EXPECT_FALSE(valid_traceparent("00-0af7651916cd43dd8448eb211c80319g-b7ad6b7169203331-01"));
}

TEST(TraceContext, KeepsAValidOneLowercasedAndMakesOneOtherwise) {
  EXPECT_EQ(traceparent_or_new("00-0AF7651916CD43DD8448EB211C80319C-B7AD6B7169203331-01"), kSent);
  std::set<std::string> made;
  for (int i = 0; i < 100; ++i) {
    const std::string t = traceparent_or_new("garbage");
    EXPECT_TRUE(valid_traceparent(t)) << t;
    made.insert(t);
  }
  EXPECT_EQ(made.size(), 100u);
  EXPECT_EQ(trace_id_of(kSent), "0af7651916cd43dd8448eb211c80319c");
  EXPECT_EQ(trace_id_of("nonsense"), "");
}

TEST(TraceContext, ScopesNestPerThread) {
  EXPECT_EQ(current_traceparent(), "");
  {
    TraceScope outer(kSent);
    EXPECT_EQ(current_traceparent(), kSent);
    std::string seen_elsewhere = "unset";
    std::thread([&] { seen_elsewhere = current_traceparent(); }).join();
    EXPECT_EQ(seen_elsewhere, "");
    {
      TraceScope inner("");
      EXPECT_EQ(current_traceparent(), "");
    }
    EXPECT_EQ(current_traceparent(), kSent);
  }
  EXPECT_EQ(current_traceparent(), "");
}

}  // namespace
}  // namespace hotswap::telemetry
