#include <gtest/gtest.h>

#include "relay/ip.hpp"

using namespace relay;

TEST(Ip, ParsesBothFamiliesAndMappedAsIpv4) {
  auto v4 = parse_ip("192.0.2.7");
  ASSERT_TRUE(v4);
  EXPECT_TRUE(v4->v4);
  EXPECT_EQ(v4->str(), "192.0.2.7");
  auto mapped = parse_ip("::ffff:192.0.2.7");
  ASSERT_TRUE(mapped);
  EXPECT_EQ(*mapped, *v4);
  EXPECT_EQ(parse_ip("2001:DB8:0::1")->str(), "2001:db8::1");
  EXPECT_FALSE(parse_ip("192.0.2"));
  EXPECT_FALSE(parse_ip("example.test"));
  EXPECT_FALSE(parse_ip(""));
}

TEST(Ip, NetworksMatchTheirFamilyOnly) {
  auto net = parse_network("192.0.2.0/25");
  ASSERT_TRUE(net);
  EXPECT_EQ(net->length, 25);
  EXPECT_TRUE(net->contains(*parse_ip("192.0.2.127")));
  EXPECT_TRUE(net->contains(*parse_ip("::ffff:192.0.2.1")));
  EXPECT_FALSE(net->contains(*parse_ip("192.0.2.128")));
  auto all6 = parse_network("::/0");
  ASSERT_TRUE(all6);
  EXPECT_TRUE(all6->contains(*parse_ip("2001:db8::1")));
  EXPECT_FALSE(all6->contains(*parse_ip("192.0.2.1")));
  auto all4 = parse_network("0.0.0.0/0");
  EXPECT_TRUE(all4->contains(*parse_ip("198.51.100.1")));
  EXPECT_FALSE(all4->contains(*parse_ip("2001:db8::1")));
  auto one = parse_network("198.51.100.7");
  EXPECT_TRUE(one->contains(*parse_ip("198.51.100.7")));
  EXPECT_FALSE(one->contains(*parse_ip("198.51.100.8")));
}

TEST(Ip, BadNetworksSayWhy) {
  std::string why;
  EXPECT_FALSE(parse_network("192.0.2.0/33", &why));
  EXPECT_EQ(why, "invalid prefix length");
  EXPECT_FALSE(parse_network("2001:db8::/129", &why));
  EXPECT_FALSE(parse_network("192.0.2.0/", &why));
  EXPECT_EQ(why, "invalid prefix length");
  EXPECT_FALSE(parse_network("192.0.2.1/24", &why));
  EXPECT_EQ(why, "host bits set");
  EXPECT_FALSE(parse_network("example.org/24", &why));
  EXPECT_EQ(why, "not an IP address");
}
