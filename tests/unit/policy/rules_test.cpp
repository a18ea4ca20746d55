#include <gtest/gtest.h>

#include "relay/exit_codes.hpp"
#include "relay/domain.hpp"
#include "relay/policy_rules.hpp"

using namespace relay::policy;

namespace {

std::string error_of(std::string_view text) {
  try {
    parse_rules(text, "p.conf");
  } catch (const relay::Failure& e) {
    EXPECT_EQ(e.code(), relay::kExitConfig);
    return e.what();
  }
  return "";
}

TEST(PolicyRules, ErrorsNameFileAndLine) {
  EXPECT_NE(error_of("[defaults]\n\nmax-sise = 10\n").find("p.conf:3: unknown setting \"max-sise\""), std::string::npos);
  EXPECT_NE(error_of("[defaults]\nuser-messages = 10/fortnight\n").find("p.conf:2: invalid rate window"), std::string::npos);
  EXPECT_NE(error_of("[network 192.0.2.1/24]\n").find("p.conf:1: host bits set"), std::string::npos);
  EXPECT_NE(error_of("[network 2001:db8::/129]\n").find("invalid prefix length"), std::string::npos);
  EXPECT_NE(error_of("[user a]\n[user a]\n").find("p.conf:2: section [user a] repeats the one on line 1"), std::string::npos);
  EXPECT_NE(error_of("[defaults]\nalign = loose\n").find("expected none, relaxed or strict"), std::string::npos);
  EXPECT_NE(error_of("[defaults]\nhold = yes\nhold = no\n").find("p.conf:3: \"hold\" is set twice"), std::string::npos);
  EXPECT_NE(error_of("version = 2\n").find("unsupported version"), std::string::npos);
  EXPECT_NE(error_of("sender-domains = a.example\n").find("rules belong in a [section]"), std::string::npos);
  EXPECT_NE(error_of("[defaults]\nsender-domains = a..example\n").find("invalid domain"), std::string::npos);
  EXPECT_NE(error_of("[defaults]\nmax-size = 10X\n").find("invalid size"), std::string::npos);
  EXPECT_NE(error_of("[somewhere]\n").find("unknown section"), std::string::npos);
  EXPECT_NE(error_of("[defaults]\njust words\n").find("expected \"name = value\""), std::string::npos);
  EXPECT_NE(error_of(std::string("[defaults]\n# ") + std::string(5000, 'x') + "\n").find("p.conf:2: line longer"), std::string::npos);
}

TEST(PolicyRules, SectionsInheritDefaults) {
  Rules r = parse_rules(R"(
version = 1
store = /tmp/s
on-store-error = accept
[defaults]
sender-domains = none
max-size = 10M
max-recipients = 5
user-messages = 100/minute 10000/day
[user alice]
sender-domains = alice.example, *.alice.example
user-messages = none
[user bob]
from-domains = bob.example
)", "p.conf");
  EXPECT_EQ(r.store, "/tmp/s");
  EXPECT_TRUE(r.fail_open);
  const Section& alice = r.resolve("alice", "");
  EXPECT_EQ(alice.name, "user alice");
  EXPECT_EQ(alice.max_size, 10u << 20);
  EXPECT_EQ(alice.max_recipients, 5u);
  EXPECT_TRUE(alice.rates_for(Scope::kUser, Unit::kMessages).empty());
  EXPECT_TRUE(domain_allowed(alice.sender_domains, "alice.example"));
  EXPECT_TRUE(domain_allowed(alice.from_domains, "mail.alice.example"));  // from-domains follows sender-domains
  const Section& bob = r.resolve("bob", "");
  EXPECT_TRUE(bob.sender_domains.empty());
  ASSERT_EQ(bob.rates_for(Scope::kUser, Unit::kMessages).size(), 2u);
  EXPECT_EQ(bob.rates_for(Scope::kUser, Unit::kMessages)[1].window, 86400);
  EXPECT_EQ(bob.rates_for(Scope::kUser, Unit::kMessages)[1].count, 10000);
  EXPECT_EQ(r.resolve("carol", "").name, "defaults");
}

TEST(PolicyRules, DomainPatterns) {
  std::vector<DomainPattern> p = {{"example.com", false}, {"example.org", true}};
  EXPECT_TRUE(domain_allowed(p, "example.com"));
  EXPECT_FALSE(domain_allowed(p, "sub.example.com"));
  EXPECT_FALSE(domain_allowed(p, "example.org"));
  EXPECT_TRUE(domain_allowed(p, "a.b.example.org"));
  EXPECT_FALSE(domain_allowed(p, "badexample.org"));
  EXPECT_TRUE(domain_allowed({{"", false}}, "anything.example"));
  EXPECT_FALSE(domain_allowed({}, "anything.example"));
}

TEST(PolicyRules, LongestNetworkWins) {
  Rules r = parse_rules(R"(
[network 10.0.0.0/8]
max-recipients = 1
[network 10.1.0.0/16]
max-recipients = 2
[network 10.1.2.3]
max-recipients = 3
[network 2001:db8::/32]
max-recipients = 4
[user u]
max-recipients = 5
)", "p.conf");
  EXPECT_EQ(r.resolve("", "10.9.9.9").max_recipients, 1u);
  EXPECT_EQ(r.resolve("", "10.1.9.9").max_recipients, 2u);
  EXPECT_EQ(r.resolve("", "10.1.2.3").max_recipients, 3u);
  EXPECT_EQ(r.resolve("", "::ffff:10.1.2.3").max_recipients, 3u);
  EXPECT_EQ(r.resolve("", "2001:db8:1::1").max_recipients, 4u);
  EXPECT_EQ(r.resolve("", "2001:db9::1").max_recipients, 0u);
  EXPECT_EQ(r.resolve("u", "10.1.2.3").max_recipients, 5u);   // the user's section beats the network's
  EXPECT_EQ(r.resolve("nobody", "10.1.2.3").max_recipients, 3u);
  EXPECT_EQ(r.resolve("", "not-an-ip").max_recipients, 0u);
}

TEST(PolicyRules, OrganizationalDomain) {
  EXPECT_EQ(relay::organizational_domain("bounce.mail.example.com"), "example.com");
  EXPECT_EQ(relay::organizational_domain("shop.example.co.uk"), "example.co.uk");
  EXPECT_EQ(relay::organizational_domain("co.uk"), "co.uk");
}

}  // namespace
