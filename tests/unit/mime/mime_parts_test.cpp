#include <gtest/gtest.h>

#include "relay/mime.hpp"

using relay::mime::parse;
using relay::mime::parse_content_type;

TEST(ContentType, ReadsTypeAndParameters) {
  auto ct = parse_content_type("Multipart/Report; report-type=delivery-status;\r\n\tboundary=\"a b;c\"");
  EXPECT_EQ(ct.type, "multipart");
  EXPECT_EQ(ct.subtype, "report");
  EXPECT_EQ(ct.param("report-type"), "delivery-status");
  EXPECT_EQ(ct.param("boundary"), "a b;c");
  EXPECT_TRUE(ct.is_multipart());
}

TEST(ContentType, IsLenientAboutBoundariesAndComments) {
  auto ct = parse_content_type("multipart/mixed; boundary==_Part/1=; charset=us-ascii (plain text)");
  EXPECT_EQ(ct.param("boundary"), "=_Part/1=");
  EXPECT_EQ(ct.param("charset"), "us-ascii");
  EXPECT_EQ(parse_content_type("text/plain; name=\"q\\\"uote\"").param("name"), "q\"uote");
}

TEST(ContentType, DefaultsToTextPlain) {
  EXPECT_TRUE(parse_content_type("").is("text", "plain"));
  EXPECT_TRUE(parse_content_type("garbage").is("text", "plain"));
  EXPECT_TRUE(parse_content_type("text/").is("text", "plain"));
  EXPECT_TRUE(parse_content_type("(comment").is("text", "plain"));
}

TEST(ContentType, JoinsRfc2231Continuations) {
  auto ct = parse_content_type(
      "application/x-stuff; title*0*=us-ascii'en'This%20is%20even%20more%20; title*1*=%2A%2A%2Afun%2A%2A%2A%20; "
      "title*2=\"isn't it!\"");
  EXPECT_EQ(ct.param("title"), "This is even more ***fun*** isn't it!");
  EXPECT_EQ(parse_content_type("text/plain; name*=iso-8859-1''caf%E9.txt").param("name"), "caf\xC3\xA9.txt");
}

TEST(Parts, SplitsNestedMultipartsAndEnclosedMessages) {
  std::string message =
      "Content-Type: multipart/report; boundary=outer\r\n"
      "\r\n"
      "preamble\r\n"
      "--outer\r\n"
      "Content-Type: multipart/alternative; boundary=inner\r\n"
      "\r\n"
      "--inner\r\n"
      "Content-Type: text/plain; charset=iso-8859-1\r\n"
      "Content-Transfer-Encoding: quoted-printable\r\n"
      "\r\n"
      "Caf=E9\r\n"
      "--inner--\r\n"
      "--outer\r\n"
      "Content-Type: message/rfc822\r\n"
      "\r\n"
      "Message-ID: <x@y>\r\n"
      "\r\n"
      "body\r\n"
      "--outer--\r\n"
      "epilogue\r\n";
  auto root = parse(message);
  ASSERT_EQ(root.children.size(), 2u);
  ASSERT_EQ(root.children[0].children.size(), 1u);
  EXPECT_EQ(root.children[0].children[0].text(), "Caf\xC3\xA9");
  const auto& enclosed = root.children[1];
  ASSERT_EQ(enclosed.children.size(), 1u);
  EXPECT_EQ(enclosed.children[0].header("Message-ID"), "<x@y>");
  EXPECT_EQ(enclosed.children[0].body, "body");
}

TEST(Parts, DecodesBase64Bodies) {
  auto root = parse("Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: BASE64\n\nw6k=\n");
  EXPECT_EQ(root.transfer_encoding, "base64");
  EXPECT_EQ(root.text(), "\xC3\xA9");
}

TEST(Parts, UnclosedMultipartKeepsItsLastPart) {
  auto root = parse("Content-Type: multipart/mixed; boundary=b\n\n--b\n\nfirst\n--b\n\nsecond, never closed\n");
  ASSERT_EQ(root.children.size(), 2u);
  EXPECT_EQ(root.children[0].body, "first");
  EXPECT_EQ(root.children[1].body, "second, never closed\n");
}

TEST(Parts, DigestPartsDefaultToMessages) {
  auto root = parse("Content-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: one\n\nbody\n--d--\n");
  ASSERT_EQ(root.children.size(), 1u);
  EXPECT_TRUE(root.children[0].content_type.is("message", "rfc822"));
  ASSERT_EQ(root.children[0].children.size(), 1u);
  EXPECT_EQ(root.children[0].children[0].header("Subject"), "one");
}

TEST(Parts, LimitsDepthAndCount) {
  std::string nested;
  for (int i = 0; i < 100; ++i) nested += "Content-Type: message/rfc822\n\n";
  nested += "Subject: deep\n\nbody\n";
  auto root = parse(nested, {.max_depth = 5, .max_parts = 500});
  size_t depth = 0;
  for (const auto* p = &root; !p->children.empty(); p = &p->children.front()) ++depth;
  EXPECT_EQ(depth, 5u);

  std::string many = "Content-Type: multipart/mixed; boundary=m\n\n";
  for (int i = 0; i < 1000; ++i) many += "--m\n\nx\n";
  auto wide = parse(many, {.max_depth = 12, .max_parts = 50});
  EXPECT_LE(wide.children.size(), 50u);
}
