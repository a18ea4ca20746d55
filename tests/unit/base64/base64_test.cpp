#include <gtest/gtest.h>

#include "relay/base64.hpp"

using namespace relay;

TEST(Base64, EncodesWithPadding) {
  EXPECT_EQ(base64_encode("Username:"), "VXNlcm5hbWU6");
  EXPECT_EQ(base64_encode("a"), "YQ==");
  EXPECT_EQ(base64_encode(""), "");
}

TEST(Base64, DecodesExactlyWhatWasEncoded) {
  EXPECT_EQ(base64_decode("AGFsaWNlAHNlY3JldA=="), std::string("\0alice\0secret", 13));
  EXPECT_EQ(base64_decode("YQ=="), "a");
  EXPECT_EQ(base64_decode("YWI="), "ab");
  EXPECT_EQ(base64_decode(""), "");
}

TEST(Base64, RefusesWhatIsNotBase64) {
  EXPECT_FALSE(base64_decode("abc"));
  EXPECT_FALSE(base64_decode("a*c="));
  EXPECT_FALSE(base64_decode("YQ==\r\n"));
}

TEST(Base64, SkipsFoldingWhenAsked) {
  EXPECT_EQ(base64_decode("AGFs aWNl\r\n AHNl Y3Jl dA==", true), std::string("\0alice\0secret", 13));
  EXPECT_FALSE(base64_decode("AGFs aWNl", false));
}
