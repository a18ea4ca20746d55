#include <gtest/gtest.h>

#include "relay/mime.hpp"

using relay::mime::decode_base64;
using relay::mime::decode_quoted_printable;

TEST(Base64, DecodesRfc4648Vectors) {
  EXPECT_EQ(decode_base64(""), "");
  EXPECT_EQ(decode_base64("Zg=="), "f");
  EXPECT_EQ(decode_base64("Zm8="), "fo");
  EXPECT_EQ(decode_base64("Zm9v"), "foo");
  EXPECT_EQ(decode_base64("Zm9vYg=="), "foob");
  EXPECT_EQ(decode_base64("Zm9vYmE="), "fooba");
  EXPECT_EQ(decode_base64("Zm9vYmFy"), "foobar");
}

TEST(Base64, SkipsLineBreaksAndJunk) {
  EXPECT_EQ(decode_base64("Zm9v\r\nYmFy\r\n"), "foobar");
  EXPECT_EQ(decode_base64(" Zm9v*Ym Fy "), "foobar");
}

TEST(Base64, StopsAtPaddingAndKeepsWholeBytesOfAShortGroup) {
  EXPECT_EQ(decode_base64("Zm8=Zm9v"), "fo");
  EXPECT_EQ(decode_base64("Zm9vYg"), "foob");  // padding left out
  EXPECT_EQ(decode_base64("Z"), "");
}

TEST(Base64, DecodesBinary) {
  EXPECT_EQ(decode_base64("AP8A/w=="), std::string("\x00\xff\x00\xff", 4));
}

TEST(QuotedPrintable, DecodesEscapesInEitherCase) {
  EXPECT_EQ(decode_quoted_printable("Caf=E9 =c3=a9"), "Caf\xE9 \xC3\xA9");
  EXPECT_EQ(decode_quoted_printable("a=3Db"), "a=b");
}

TEST(QuotedPrintable, JoinsSoftLineBreaks) {
  EXPECT_EQ(decode_quoted_printable("long li=\r\nne"), "long line");
  EXPECT_EQ(decode_quoted_printable("long li=\nne"), "long line");
  EXPECT_EQ(decode_quoted_printable("trailing=  \r\nspace"), "trailingspace");
  EXPECT_EQ(decode_quoted_printable("end="), "end");
}

TEST(QuotedPrintable, DropsWhitespaceBeforeHardLineBreaksOnly) {
  EXPECT_EQ(decode_quoted_printable("a  \r\nb"), "a\r\nb");
  EXPECT_EQ(decode_quoted_printable("a \tb"), "a \tb");
}

TEST(QuotedPrintable, KeepsMalformedEscapes) {
  EXPECT_EQ(decode_quoted_printable("100=%"), "100=%");
  EXPECT_EQ(decode_quoted_printable("=G1"), "=G1");
  EXPECT_EQ(decode_quoted_printable("=4"), "=4");
}

TEST(QuotedPrintable, HeaderQTurnsUnderscoreIntoSpace) {
  EXPECT_EQ(decode_quoted_printable("Juni_Angebote=3F", true), "Juni Angebote?");
  EXPECT_EQ(decode_quoted_printable("a_b", false), "a_b");
}
