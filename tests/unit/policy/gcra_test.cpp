#include <gtest/gtest.h>

#include "relay/policy_store.hpp"

using namespace relay::policy;

namespace {

constexpr int64_t kT0 = 1764395000 * kNanos;

// Takes one unit at a time until refused; returns how many passed.
int64_t fill(int64_t& tat, int64_t now, int64_t limit, int64_t window) {
  int64_t passed = 0;
  for (;;) {
    GcraStep s = gcra_step(tat, now, limit, window, 1);
    if (!s.allowed) return passed;
    tat = s.tat;
    ++passed;
  }
}

TEST(PolicyGcra, ExactlyTheLimitFitsAnIdleWindow) {
  for (int64_t limit : {1, 3, 7, 100, 9999, 1000000}) {
    int64_t tat = 0;
    EXPECT_EQ(fill(tat, kT0, limit, 60), limit) << limit;
  }
}

TEST(PolicyGcra, WindowRollsOver) {
  int64_t tat = 0;
  EXPECT_EQ(fill(tat, kT0, 100, 60), 100);
  GcraStep refused = gcra_step(tat, kT0, 100, 60, 1);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.retry_after, 600000000);  // one emission interval: 0.6 s
  EXPECT_EQ(fill(tat, kT0 + kNanos * 6 / 10, 100, 60), 1);
  EXPECT_EQ(fill(tat, kT0 + 30 * kNanos, 100, 60), 49);
  EXPECT_EQ(fill(tat, kT0 + 200 * kNanos, 100, 60), 100);  // a whole idle window: all of it again
}

TEST(PolicyGcra, CostAndUsage) {
  int64_t tat = 0;
  GcraStep s = gcra_step(tat, kT0, 10, 60, 4);
  ASSERT_TRUE(s.allowed);
  EXPECT_EQ(gcra_used(s.tat, kT0, 10, 60), 4);
  EXPECT_EQ(gcra_used(s.tat, kT0 + 6 * kNanos, 10, 60), 3);
  EXPECT_EQ(gcra_used(s.tat, kT0 + 60 * kNanos, 10, 60), 0);
  EXPECT_FALSE(gcra_step(s.tat, kT0, 10, 60, 7).allowed);
  EXPECT_TRUE(gcra_step(s.tat, kT0, 10, 60, 6).allowed);
  EXPECT_TRUE(gcra_step(0, kT0, 10, 60, 11).never);
}

}  // namespace
