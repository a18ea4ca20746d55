#include "relay/retry_schedule.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace relay {
namespace {

Envelope deferred(int attempts, std::string reason = "remote", std::string status = "4.2.0",
                  std::string response = "450 4.2.0 try later", std::string id = "1764390000.000001.1_1.host") {
  Envelope e;
  e.id = std::move(id);
  e.attempts = attempts;
  e.last_attempt = 1764400000;
  e.defer_reason = std::move(reason);
  Recipient r;
  r.address = "bob@remote.test";
  r.state = RecipientState::kDeferred;
  r.status = std::move(status);
  r.response = std::move(response);
  e.recipients.push_back(r);
  return e;
}

const RetryPolicy kPolicy;  // 300 s .. 4000 s

TEST(RetrySchedule, ExponentialWithinJitterAndBounds) {
  const int64_t expected[] = {300, 600, 1200, 2400, 4000, 4000, 4000};
  for (int n = 1; n <= 7; ++n) {
    int64_t d = retry_delay(deferred(n), kPolicy);
    int64_t base = expected[n - 1];
    EXPECT_GE(d, std::max<int64_t>(300, base * 4 / 5)) << "attempt " << n;
    EXPECT_LE(d, std::min<int64_t>(4000, base * 6 / 5)) << "attempt " << n;
  }
}

TEST(RetrySchedule, SameEnvelopeSameAnswerAndIdsSpreadOut) {
  EXPECT_EQ(retry_delay(deferred(2), kPolicy), retry_delay(deferred(2), kPolicy));
  std::set<int64_t> seen;
  for (int i = 0; i < 100; ++i)
    seen.insert(retry_delay(deferred(2, "remote", "4.2.0", "450 busy", "id" + std::to_string(i)), kPolicy));
  EXPECT_GT(seen.size(), 50u);
}

TEST(RetrySchedule, GreylistingRetriesSoonForThreeAttempts) {
  for (int n = 1; n <= 3; ++n) {
    int64_t d = retry_delay(deferred(n, "remote", "4.7.1", "451 4.7.1 Please try again later"), kPolicy);
    EXPECT_GE(d, 300);
    EXPECT_LE(d, 360);
  }
  EXPECT_GE(retry_delay(deferred(5, "greylist"), kPolicy), 960);  // then the schedule resumes
}

TEST(RetrySchedule, RateLimitWaitsOneStepLonger) {
  int64_t d = retry_delay(deferred(1, "remote", "4.7.0", "421 4.7.0 Too many connections from your IP"), kPolicy);
  EXPECT_GE(d, 480);
  EXPECT_LE(d, 720);
}

TEST(RetrySchedule, DnsTroubleNeverWaitsTheLongest) {
  for (int n = 5; n <= 9; ++n) EXPECT_LE(retry_delay(deferred(n, "dns", "4.4.3", ""), kPolicy), 2400);
}

TEST(RetrySchedule, NamedRetryTimeIsHonoured) {
  int64_t d = retry_delay(deferred(1, "remote", "4.7.1", "451 4.7.1 Greylisted, please try again in 10 minutes"), kPolicy);
  EXPECT_GE(d, 600);
  EXPECT_LE(d, 660);
  d = retry_delay(deferred(1, "remote", "4.2.1", "421 4.2.1 Service busy, retry after 7200 seconds"), kPolicy);
  EXPECT_GE(d, 7200);  // above max_backoff: trying sooner would be refused
  EXPECT_LE(d, 7920);
  d = retry_delay(deferred(1, "remote", "4.7.1", "451 4.7.1 try again in 30s"), kPolicy);
  EXPECT_GE(d, 300);  // never below min_backoff
}

TEST(RetrySchedule, NamedRetryParsing) {
  EXPECT_EQ(named_retry_delay("451 4.7.1 Try again in 5 minutes"), 300);
  EXPECT_EQ(named_retry_delay("450 greylisted for 60 seconds"), 60);
  EXPECT_EQ(named_retry_delay("421 please retry after 2 hours"), 7200);
  EXPECT_EQ(named_retry_delay("451 Try again in 90s."), 90);
  EXPECT_EQ(named_retry_delay("451 4.7.1 Please try again later"), std::nullopt);
  EXPECT_EQ(named_retry_delay("452 4.2.2 Mailbox full, 5 minutes of quota"), std::nullopt);
  EXPECT_EQ(named_retry_delay("421 retry in 48 hours"), std::nullopt);  // longer than a day
  EXPECT_EQ(named_retry_delay("450 Greylisted for 60 seconds, try again in 5 minutes"), 60);  // the first one
  EXPECT_EQ(named_retry_delay("451 try again in 12345678 seconds"), std::nullopt);
  EXPECT_EQ(named_retry_delay("451 RETRY IN 2 MIN"), 120);
}

TEST(RetrySchedule, Classification) {
  EXPECT_EQ(classify_deferral(deferred(1, "greylist")), DeferralKind::kGreylist);
  EXPECT_EQ(classify_deferral(deferred(1, "rate")), DeferralKind::kRate);
  EXPECT_EQ(classify_deferral(deferred(1, "dns", "4.4.3", "")), DeferralKind::kDns);
  EXPECT_EQ(classify_deferral(deferred(1, "connect", "4.4.1", "Connection refused")), DeferralKind::kConnect);
  EXPECT_EQ(classify_deferral(deferred(1, "lost", "4.4.2", "lost connection")), DeferralKind::kConnect);
  EXPECT_EQ(classify_deferral(deferred(1, "remote", "4.7.1", "451 4.7.1 greylisting in action")), DeferralKind::kGreylist);
  EXPECT_EQ(classify_deferral(deferred(1, "remote", "4.7.28", "421 4.7.28 rate limited")), DeferralKind::kRate);
  EXPECT_EQ(classify_deferral(deferred(1, "tls", "4.7.5", "TLS handshake failed")), DeferralKind::kOther);
  EXPECT_EQ(classify_deferral(deferred(1, "remote", "4.2.2", "452 Mailbox full")), DeferralKind::kOther);
}

TEST(RetrySchedule, NextAttemptCountsFromTheLastAttempt) {
  Envelope e = deferred(1);
  EXPECT_EQ(next_attempt_time(e, 1764500000, kPolicy), e.last_attempt + retry_delay(e, kPolicy));
  e.last_attempt = 0;
  EXPECT_EQ(next_attempt_time(e, 1764500000, kPolicy), 1764500000 + retry_delay(e, kPolicy));
}

}  // namespace
}  // namespace relay
