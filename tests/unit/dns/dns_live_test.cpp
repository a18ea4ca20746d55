// Queries against a real server, run by tests/integration/dns/test_resolver.py, which starts NSD
// with the zones these expectations describe and sets RELAY_DNS_SERVER (and RELAY_DNS_MODE=silent
// while the server is stopped). Skipped in the plain unit run.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>

#include "relay/dns.hpp"

namespace relay::dns {
namespace {

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

class DnsLive : public ::testing::Test {
 protected:
  void SetUp() override {
    if (env("RELAY_DNS_SERVER").empty() || env("RELAY_DNS_MODE") == "silent") GTEST_SKIP() << "no live server";
    resolver = make_resolver({.server = env("RELAY_DNS_SERVER"), .timeout_ms = 3000});
  }
  std::unique_ptr<Resolver> resolver;
};

TEST_F(DnsLive, MxSortedByCallerNullMxAsEmpty) {
  auto mx = resolver->mx("example.test");
  ASSERT_EQ(mx.status, Status::kOk);
  std::sort(mx.records.begin(), mx.records.end(),
            [](const MxRecord& a, const MxRecord& b) { return a.preference < b.preference; });
  ASSERT_EQ(mx.records.size(), 2u);
  EXPECT_EQ(mx.records[0].exchange, "mx1.example.test");
  EXPECT_EQ(mx.records[1].preference, 20);
  auto null_mx = resolver->mx("nullmx.example.test");
  ASSERT_EQ(null_mx.records.size(), 1u);
  EXPECT_EQ(null_mx.records[0].exchange, "");
}

TEST_F(DnsLive, AddressesAndCnameChain) {
  auto a = resolver->a("mx.example.test");
  ASSERT_EQ(a.status, Status::kOk);
  EXPECT_EQ(a.records, std::vector<std::string>{"127.0.0.2"});
  EXPECT_EQ(a.cname_chain, std::vector<std::string>{"mx1.example.test"});
  auto aaaa = resolver->aaaa("mx1.example.test");
  EXPECT_EQ(aaaa.records, std::vector<std::string>{"::1"});
}

TEST_F(DnsLive, TxtJoinedAndLongAnswersOverTcp) {
  auto multi = resolver->txt("multi.example.test");
  EXPECT_EQ(multi.records, std::vector<std::string>{"firstsecondthird"});
  auto big = resolver->txt("big.example.test");  // about 3000 bytes: truncated over UDP
  ASSERT_EQ(big.status, Status::kOk);
  EXPECT_EQ(big.records.size(), 12u);
  for (const auto& text : big.records) EXPECT_EQ(text.size(), 250u);
}

TEST_F(DnsLive, NegativeAnswersKeepTheirKind) {
  EXPECT_EQ(resolver->a("nosuch.example.test").status, Status::kNxDomain);
  EXPECT_EQ(resolver->mx("mx1.example.test").status, Status::kNoData);
  EXPECT_EQ(resolver->a("www.broken.test").status, Status::kServFail);
  EXPECT_EQ(resolver->a("outside.invalid").status, Status::kServFail);  // REFUSED
}

TEST_F(DnsLive, PtrAndTlsa) {
  auto ptr = resolver->ptr("127.0.0.2");
  EXPECT_EQ(ptr.records, std::vector<std::string>{"mx1.example.test"});
  auto tlsa = resolver->tlsa("_25._tcp.mx1.example.test");
  ASSERT_EQ(tlsa.records.size(), 1u);
  EXPECT_EQ(tlsa.records[0].usage, 3);
  EXPECT_EQ(tlsa.records[0].data, std::string("\xab\xcd\xef", 3));
  EXPECT_EQ(resolver->queries(), 2u);
}

// "silent": the server is stopped (the kernel queues the queries); "unreachable": nothing listens.
TEST(DnsLiveSilent, NoAnswerIsATimeoutWithinBudget) {
  std::string mode = env("RELAY_DNS_MODE");
  if (mode != "silent" && mode != "unreachable") GTEST_SKIP() << "server answering";
  auto resolver = make_resolver({.server = env("RELAY_DNS_SERVER"), .timeout_ms = 600, .retries = 1});
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(resolver->a("example.test").status, Status::kTimeout);
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LT(elapsed, std::chrono::milliseconds(3000));
  if (mode == "silent") EXPECT_GE(elapsed, std::chrono::milliseconds(500));
}

}  // namespace
}  // namespace relay::dns
