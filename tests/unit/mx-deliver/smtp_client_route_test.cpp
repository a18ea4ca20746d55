#include "relay/smtp_client_route.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace relay::smtp {
namespace {

// Answers from a table, as the Resolver interface allows.
class TableResolver : public dns::Resolver {
 public:
  std::map<std::string, dns::Answer<dns::MxRecord>> mx_table;
  std::map<std::string, dns::Answer<std::string>> a_table, aaaa_table;

  dns::Answer<std::string> a(std::string_view name) override { return find(a_table, name); }
  dns::Answer<std::string> aaaa(std::string_view name) override { return find(aaaa_table, name); }
  dns::Answer<dns::MxRecord> mx(std::string_view name) override {
    ++queries_;
    auto it = mx_table.find(std::string(name));
    if (it == mx_table.end()) return {dns::Status::kNxDomain, {}, {}};
    return it->second;
  }
  dns::Answer<std::string> txt(std::string_view) override { return {}; }
  dns::Answer<std::string> ptr(std::string_view) override { return {}; }
  dns::Answer<dns::TlsaRecord> tlsa(std::string_view) override { return {}; }
  uint64_t queries() const override { return queries_; }

 private:
  dns::Answer<std::string> find(std::map<std::string, dns::Answer<std::string>>& table, std::string_view name) {
    ++queries_;
    auto it = table.find(std::string(name));
    if (it == table.end()) return {dns::Status::kNoData, {}, {}};
    return it->second;
  }
  uint64_t queries_ = 0;
};

dns::Answer<std::string> addresses(std::vector<std::string> list) { return {dns::Status::kOk, std::move(list), {}}; }

class Route : public ::testing::Test {
 protected:
  void SetUp() override {
    dns.mx_table["example.test"] = {dns::Status::kOk, {{20, "mx2.example.test"}, {10, "mx1.example.test"}}, {}};
    dns.a_table["mx1.example.test"] = addresses({"192.0.2.1"});
    dns.aaaa_table["mx1.example.test"] = addresses({"2001:db8::1"});
    dns.a_table["mx2.example.test"] = addresses({"192.0.2.2"});
  }
  TableResolver dns;
  RouteOptions options;
  std::mt19937 random{42};
};

TEST_F(Route, PreferenceOrderThenFamilyOrder) {
  RouteResult r = route_by_mx(dns, "Example.TEST", options, random);
  ASSERT_EQ(r.targets.size(), 3u);
  EXPECT_EQ(r.targets[0].address, "192.0.2.1");
  EXPECT_EQ(r.targets[1].address, "2001:db8::1");
  EXPECT_EQ(r.targets[2].host, "mx2.example.test");
  options.family = AddressFamily::kPreferIpv6;
  r = route_by_mx(dns, "example.test", options, random);
  EXPECT_EQ(r.targets[0].address, "2001:db8::1");
  options.family = AddressFamily::kIpv4Only;
  r = route_by_mx(dns, "example.test", options, random);
  EXPECT_EQ(r.targets.size(), 2u);
}

TEST_F(Route, AddressLimit) {
  options.max_addresses = 1;
  EXPECT_EQ(route_by_mx(dns, "example.test", options, random).targets.size(), 1u);
}

TEST_F(Route, EqualPreferencesAreShuffled) {
  dns.mx_table["equal.test"] = {dns::Status::kOk, {{10, "a.test"}, {10, "b.test"}}, {}};
  dns.a_table["a.test"] = addresses({"192.0.2.10"});
  dns.a_table["b.test"] = addresses({"192.0.2.11"});
  std::set<std::string> first;
  for (int i = 0; i < 40; ++i) first.insert(route_by_mx(dns, "equal.test", options, random).targets[0].host);
  EXPECT_EQ(first.size(), 2u);
}

TEST_F(Route, NoMxMeansTheDomainItself) {
  dns.mx_table["plain.test"] = {dns::Status::kNoData, {}, {}};
  dns.a_table["plain.test"] = addresses({"192.0.2.5"});
  RouteResult r = route_by_mx(dns, "plain.test", options, random);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.targets[0].host, "plain.test");
}

TEST_F(Route, FailuresByKind) {
  dns.mx_table["null.test"] = {dns::Status::kOk, {{0, ""}}, {}};
  dns.mx_table["broken.test"] = {dns::Status::kServFail, {}, {}};
  dns.mx_table["slow.test"] = {dns::Status::kTimeout, {}, {}};
  dns.mx_table["noaddr.test"] = {dns::Status::kOk, {{10, "nothing.test"}}, {}};
  EXPECT_EQ(route_by_mx(dns, "null.test", options, random).status, "5.1.10");
  EXPECT_EQ(route_by_mx(dns, "nosuch.test", options, random).status, "5.1.2");
  RouteResult servfail = route_by_mx(dns, "broken.test", options, random);
  EXPECT_FALSE(servfail.permanent);
  EXPECT_EQ(servfail.status, "4.4.3");
  EXPECT_EQ(route_by_mx(dns, "slow.test", options, random).status, "4.4.3");
  EXPECT_EQ(route_by_mx(dns, "noaddr.test", options, random).status, "5.4.4");
}

TEST_F(Route, MyselfAsMxLeavesOnlyBetterHosts) {
  options.self_names = {"mx2.example.test"};
  RouteResult r = route_by_mx(dns, "example.test", options, random);
  ASSERT_TRUE(r.ok());
  for (const auto& t : r.targets) EXPECT_EQ(t.host, "mx1.example.test");
  options.self_names = {"mx1.example.test"};
  EXPECT_EQ(route_by_mx(dns, "example.test", options, random).status, "5.4.6");
}

TEST_F(Route, AddressLiteralNeedsNoDns) {
  RouteResult r = route_by_mx(dns, "[192.0.2.77]", options, random);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.targets[0].address, "192.0.2.77");
  r = route_by_mx(dns, "[IPv6:2001:db8::7]", options, random);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.targets[0].address, "2001:db8::7");
}

TEST(NextHop, Parses) {
  auto hop = parse_next_hop("Smtp.Example.test:587", 25);
  ASSERT_TRUE(hop);
  EXPECT_EQ(hop->host, "smtp.example.test");
  EXPECT_EQ(hop->port, 587);
  EXPECT_EQ(parse_next_hop("relay.test", 25)->port, 25);
  EXPECT_EQ(parse_next_hop("[2001:db8::1]:2525", 25)->host, "2001:db8::1");
  EXPECT_FALSE(parse_next_hop("2001:db8::1", 25));
  EXPECT_FALSE(parse_next_hop("host:0", 25));
  EXPECT_FALSE(parse_next_hop("host:70000", 25));
  EXPECT_FALSE(parse_next_hop("host:", 25));
  EXPECT_FALSE(parse_next_hop(":25", 25));
}

}  // namespace
}  // namespace relay::smtp
