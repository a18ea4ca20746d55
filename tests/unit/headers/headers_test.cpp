#include <gtest/gtest.h>

#include "relay/headers.hpp"

using namespace relay;

TEST(Headers, FoldedFieldsKeepRawBytes) {
  std::string msg = "From: a@example.test\r\nSubject: one\r\n two\r\n\tthree\r\nTo: b@example.test\r\n\r\nbody\r\n";
  HeaderBlock h(msg);
  ASSERT_EQ(h.fields().size(), 3u);
  EXPECT_FALSE(h.malformed());
  EXPECT_TRUE(h.crlf());
  const HeaderField* s = h.find("subject");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->raw, "Subject: one\r\n two\r\n\tthree\r\n");
  EXPECT_EQ(s->value(), "one two\tthree");
  EXPECT_EQ(msg.substr(h.body_offset()), "body\r\n");
  EXPECT_EQ(msg.substr(0, h.header_end()) + "\r\n" + msg.substr(h.body_offset()), msg);
}

TEST(Headers, LfLineEndsAndRepeatedFields) {
  std::string msg = "Received: x\nReceived: y\nFrom: a@b\n\nbody";
  HeaderBlock h(msg);
  EXPECT_FALSE(h.crlf());
  EXPECT_EQ(h.count("received"), 2u);
  EXPECT_EQ(h.find_all("RECEIVED")[1]->value(), "y");
  EXPECT_EQ(msg.substr(h.body_offset()), "body");
}

TEST(Headers, HeaderlessInputIsAllBody) {
  HeaderBlock h("just some text\nmore\n");
  EXPECT_TRUE(h.fields().empty());
  EXPECT_TRUE(h.malformed());
  EXPECT_EQ(h.body_offset(), 0u);
  HeaderBlock empty("");
  EXPECT_TRUE(empty.fields().empty());
}

TEST(Headers, NoBodyAndNoEmptyLine) {
  std::string msg = "From: a@b\r\nSubject: x\r\n";
  HeaderBlock h(msg);
  EXPECT_EQ(h.fields().size(), 2u);
  EXPECT_EQ(h.body_offset(), msg.size());
}

TEST(Headers, MessageIdHasHost) {
  std::string id = make_message_id("relay.example.test");
  EXPECT_EQ(id.front(), '<');
  EXPECT_NE(id.find("@relay.example.test>"), std::string::npos);
  EXPECT_NE(make_message_id("h"), make_message_id("h"));
}
