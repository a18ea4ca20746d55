#include <gtest/gtest.h>

#include "relay/address.hpp"

using namespace relay;

TEST(Address, PlainAndDotted) {
  auto r = parse_mailbox("first.last+tag@sub.example.test", false);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.mailbox->local_part, "first.last+tag");
  EXPECT_EQ(r.mailbox->domain, "sub.example.test");
  EXPECT_FALSE(r.mailbox->utf8);
}

TEST(Address, QuotedLocalParts) {
  EXPECT_TRUE(parse_mailbox("\"john doe\"@example.test", false).ok());
  EXPECT_TRUE(parse_mailbox("\"a\\\"b@c\"@example.test", false).ok());
  EXPECT_TRUE(parse_mailbox("\"\"@example.test", false).ok());
  EXPECT_FALSE(parse_mailbox("\"unterminated@example.test", false).ok());
  EXPECT_FALSE(parse_mailbox("\"bad\tchar\"@example.test", false).ok());
}

TEST(Address, DotRules) {
  EXPECT_FALSE(parse_mailbox(".a@example.test", false).ok());
  EXPECT_FALSE(parse_mailbox("a.@example.test", false).ok());
  EXPECT_FALSE(parse_mailbox("a..b@example.test", false).ok());
  EXPECT_FALSE(parse_mailbox("a@example..test", false).ok());
  EXPECT_FALSE(parse_mailbox("a@-example.test", false).ok());
  EXPECT_FALSE(parse_mailbox("a@example.test.", false).ok());
  EXPECT_FALSE(parse_mailbox("a b@example.test", false).ok());
  EXPECT_FALSE(parse_mailbox("ab", false).ok());
  EXPECT_FALSE(parse_mailbox("a@", false).ok());
}

TEST(Address, IpLiterals) {
  auto r = parse_mailbox("postmaster@[127.0.0.1]", false);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.mailbox->literal);
  EXPECT_TRUE(parse_mailbox("a@[IPv6:2001:db8::1]", false).ok());
  EXPECT_TRUE(parse_mailbox("a@[x-tag:stuff]", false).ok());
  EXPECT_FALSE(parse_mailbox("a@[999.0.0.1]", false).ok());
  EXPECT_FALSE(parse_mailbox("a@[IPv6:zz::1]", false).ok());
  EXPECT_FALSE(parse_mailbox("a@[127.0.0.1", false).ok());
}

TEST(Address, Smtputf8) {
  EXPECT_FALSE(parse_mailbox("用户@例子.测试", false).ok());
  auto r = parse_mailbox("用户@例子.测试", true);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_TRUE(r.mailbox->utf8);
  EXPECT_FALSE(parse_mailbox("a\xff@example.test", true).ok()) << "invalid UTF-8";
  EXPECT_EQ(parse_mailbox("é@example.test", false).error, "non-ASCII address without SMTPUTF8");
}

TEST(Address, LengthLimits) {
  std::string local64(64, 'a'), local65(65, 'a');
  EXPECT_TRUE(parse_mailbox(local64 + "@example.test", false).ok());
  EXPECT_FALSE(parse_mailbox(local65 + "@example.test", false).ok());
  std::string label(63, 'b');
  EXPECT_TRUE(parse_mailbox("a@" + label + ".test", false).ok());
  EXPECT_FALSE(parse_mailbox("a@" + label + "b.test", false).ok());
  std::string long_domain;
  for (int i = 0; i < 5; ++i) long_domain += label + ".";
  EXPECT_FALSE(parse_mailbox("a@" + long_domain + "test", false).ok());
  EXPECT_FALSE(parse_path("<" + local64 + "@" + std::string(63, 'c') + "." + std::string(63, 'c') + "." +
                              std::string(63, 'c') + "." + std::string(60, 'c') + ">",
                          false, false)
                   .ok());
}

TEST(Address, Paths) {
  auto null = parse_path("<>", false, true);
  EXPECT_TRUE(null.ok());
  EXPECT_FALSE(null.mailbox);
  EXPECT_FALSE(parse_path("<>", false, false).ok());
  auto routed = parse_path("<@relay1,@relay2:user@example.test>", false, false);
  ASSERT_TRUE(routed.ok());
  EXPECT_EQ(routed.mailbox->str(), "user@example.test");
  EXPECT_FALSE(parse_path("user@example.test", false, false).ok());
  EXPECT_FALSE(parse_path("<user@example.test", false, false).ok());
}

TEST(AddressList, DisplayNamesCommentsAndGroups) {
  auto list = parse_address_list(
      "\"Doe, John\" <john@example.test>, jane@example.test (Jane), undisclosed:;, "
      "Team: a@example.test, \"b c\"@example.test;, <@route:d@example.test>");
  ASSERT_TRUE(list);
  std::vector<std::string> expected = {"john@example.test", "jane@example.test", "a@example.test",
                                       "\"b c\"@example.test", "d@example.test"};
  EXPECT_EQ(*list, expected);
}

TEST(AddressList, Malformed) {
  EXPECT_FALSE(parse_address_list("<a@b"));
  EXPECT_FALSE(parse_address_list("\"open quote <a@b>"));
  EXPECT_FALSE(parse_address_list("a@b (open comment"));
  EXPECT_EQ(domain_of("User@Example.TEST"), "example.test");
}
