#include <gtest/gtest.h>

#include "relay/dkim_wire.hpp"

using relay::dkim::crlf_body;
using relay::dkim::field_without_line_end;

TEST(DkimWire, BodyLineEndsBecomeCrlf) {
  EXPECT_EQ(crlf_body("a\nb\r\nc"), "a\r\nb\r\nc");
  EXPECT_EQ(crlf_body("\n\n"), "\r\n\r\n");
  EXPECT_EQ(crlf_body("lone\rcr\n"), "lone\rcr\r\n");
  EXPECT_EQ(crlf_body(""), "");
}

TEST(DkimWire, FieldLosesOnlyItsFinalLineEnd) {
  EXPECT_EQ(field_without_line_end("Subject: a\n b\n"), "Subject: a\r\n b");
  EXPECT_EQ(field_without_line_end("To: x\r\n"), "To: x");
  EXPECT_EQ(field_without_line_end("To: x"), "To: x");
}
