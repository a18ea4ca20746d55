#include "relay/smtp_client_reply.hpp"

#include <gtest/gtest.h>

namespace relay::smtp {
namespace {

TEST(ReplyLine, ParsesCodeSeparatorAndText) {
  int code = 0;
  bool last = false;
  std::string text;
  ASSERT_TRUE(parse_reply_line("250-mx.example.test", code, last, text));
  EXPECT_EQ(code, 250);
  EXPECT_FALSE(last);
  EXPECT_EQ(text, "mx.example.test");
  ASSERT_TRUE(parse_reply_line("550 5.1.1 no such user", code, last, text));
  EXPECT_TRUE(last);
  ASSERT_TRUE(parse_reply_line("354", code, last, text));
  EXPECT_TRUE(last);
  EXPECT_TRUE(text.empty());
}

TEST(ReplyLine, RejectsWhatIsNotAReply) {
  int code = 0;
  bool last = false;
  std::string text;
  EXPECT_FALSE(parse_reply_line("25", code, last, text));
  EXPECT_FALSE(parse_reply_line("2x0 ok", code, last, text));
  EXPECT_FALSE(parse_reply_line("250:ok", code, last, text));
  EXPECT_FALSE(parse_reply_line("150 too low", code, last, text));
  EXPECT_FALSE(parse_reply_line("650 too high", code, last, text));
}

TEST(EnhancedCode, FoundOnlyWhenWellFormed) {
  EXPECT_EQ(enhanced_code("5.1.1 no such user"), "5.1.1");
  EXPECT_EQ(enhanced_code("4.7.500 long detail"), "4.7.500");
  EXPECT_EQ(enhanced_code("2.0.0"), "2.0.0");
  EXPECT_EQ(enhanced_code("3.0.0 wrong class"), "");
  EXPECT_EQ(enhanced_code("5.1 short"), "");
  EXPECT_EQ(enhanced_code("5.1.1x glued"), "");
  EXPECT_EQ(enhanced_code("Ok"), "");
}

TEST(ReplyStatus, ClassAlwaysAgreesWithTheCode) {
  Reply r{450, {"5.1.1 confused server"}};
  EXPECT_EQ(r.status(), "4.0.0");
  Reply ok{250, {"2.1.5 Ok"}};
  EXPECT_EQ(ok.status(), "2.1.5");
  Reply plain{554, {"no"}};
  EXPECT_EQ(plain.status(), "5.0.0");
  EXPECT_EQ(plain.one_line(), "554 no");
}

TEST(Ehlo, ReadsTheExtensionsMxDeliverUses) {
  Reply r{250, {"mx.example.test", "PIPELINING", "SIZE 10240000", "8BITMIME", "SMTPUTF8", "DSN",
                "STARTTLS", "ENHANCEDSTATUSCODES", "AUTH login PLAIN"}};
  Capabilities c = parse_ehlo(r);
  EXPECT_TRUE(c.esmtp && c.pipelining && c.eightbitmime && c.smtputf8 && c.dsn && c.starttls && c.enhanced);
  EXPECT_TRUE(c.size_offered);
  EXPECT_EQ(c.size_limit, 10240000u);
  EXPECT_TRUE(c.auth_offers("LOGIN"));
  EXPECT_TRUE(c.auth_offers("plain"));
  EXPECT_FALSE(c.auth_offers("CRAM-MD5"));
}

TEST(Ehlo, SizeWithoutLimitAndTheGreetingLineIsNoExtension) {
  Capabilities c = parse_ehlo(Reply{250, {"PIPELINING", "SIZE"}});
  EXPECT_FALSE(c.pipelining);  // the first line is the server's name
  EXPECT_TRUE(c.size_offered);
  EXPECT_EQ(c.size_limit, 0u);
  EXPECT_FALSE(parse_ehlo(Reply{502, {"no"}}).esmtp);
}

}  // namespace
}  // namespace relay::smtp
