// RFC 6376 3.4 canonicalization, with the examples of 3.4.5 and the edge cases signers trip on.
#include <gtest/gtest.h>

#include "relay/dkim_canonical.hpp"

using relay::dkim::Canon;
using relay::dkim::canonical_body;
using relay::dkim::canonical_header;

TEST(DkimCanonical, Rfc6376Example345Headers) {
  EXPECT_EQ(canonical_header("A: X\r\n", Canon::kRelaxed, true), "a:X\r\n");
  EXPECT_EQ(canonical_header("B : Y\t\r\n\tZ  \r\n", Canon::kRelaxed, true), "b:Y Z\r\n");
  EXPECT_EQ(canonical_header("B : Y\t\r\n\tZ  \r\n", Canon::kSimple, true), "B : Y\t\r\n\tZ  \r\n");
}

TEST(DkimCanonical, Rfc6376Example345Body) {
  EXPECT_EQ(canonical_body(" C \r\nD \t E\r\n\r\n\r\n", Canon::kRelaxed), " C\r\nD E\r\n");
  EXPECT_EQ(canonical_body(" C \r\nD \t E\r\n\r\n\r\n", Canon::kSimple), " C \r\nD \t E\r\n");
}

TEST(DkimCanonical, BareLfReadsAsCrlf) {
  EXPECT_EQ(canonical_header("Subject: a\n b\n", Canon::kSimple, true), "Subject: a\r\n b\r\n");
  EXPECT_EQ(canonical_body("line\n\n", Canon::kSimple), "line\r\n");
  EXPECT_EQ(canonical_body("a \nb\n", Canon::kRelaxed), "a\r\nb\r\n");
}

TEST(DkimCanonical, EmptyBodies) {
  EXPECT_EQ(canonical_body("", Canon::kSimple), "\r\n");   // 3.4.3: simple is at least CRLF
  EXPECT_EQ(canonical_body("", Canon::kRelaxed), "");      // 3.4.4: relaxed may be empty
  EXPECT_EQ(canonical_body("\r\n\r\n", Canon::kSimple), "\r\n");
  EXPECT_EQ(canonical_body(" \t\r\n\r\n", Canon::kRelaxed), "");
}

TEST(DkimCanonical, MissingFinalLineEndIsAdded) {
  EXPECT_EQ(canonical_body("last", Canon::kSimple), "last\r\n");
  EXPECT_EQ(canonical_body("last  ", Canon::kRelaxed), "last\r\n");
}

TEST(DkimCanonical, InnerEmptyLinesStay) {
  EXPECT_EQ(canonical_body("a\r\n\r\n\r\nb\r\n\r\n", Canon::kRelaxed), "a\r\n\r\n\r\nb\r\n");
  EXPECT_EQ(canonical_body("a\r\n  \r\nb\r\n", Canon::kSimple), "a\r\n  \r\nb\r\n");
}

TEST(DkimCanonical, SignatureFieldHasNoLineEnd) {
  EXPECT_EQ(canonical_header("DKIM-Signature: v=1; b=", Canon::kRelaxed, false), "dkim-signature:v=1; b=");
  EXPECT_EQ(canonical_header("DKIM-Signature: v=1;\r\n\tb=", Canon::kSimple, false), "DKIM-Signature: v=1;\r\n\tb=");
}

TEST(DkimCanonical, EightBitBytesPassThrough) {
  EXPECT_EQ(canonical_body("caf\xc3\xa9 \xff\r\n", Canon::kRelaxed), "caf\xc3\xa9 \xff\r\n");
  EXPECT_EQ(canonical_header("Subject:  caf\xc3\xa9\r\n", Canon::kRelaxed, true), "subject:caf\xc3\xa9\r\n");
}

// The copy-free body agrees with canonical_body on every body it accepts, and accepts the
// common shape (CRLF lines, single spaces).
TEST(DkimCanonical, InPlaceBodyMatchesTheCopyWheneverItApplies) {
  using relay::dkim::canonical_body_in_place;
  EXPECT_EQ(canonical_body_in_place("a b\r\nc\r\n\r\n\r\n", Canon::kRelaxed), "a b\r\nc\r\n");
  EXPECT_EQ(canonical_body_in_place("a  b\r\n", Canon::kSimple), "a  b\r\n");
  EXPECT_FALSE(canonical_body_in_place("a  b\r\n", Canon::kRelaxed));
  EXPECT_FALSE(canonical_body_in_place("a\nb\r\n", Canon::kSimple));
  EXPECT_FALSE(canonical_body_in_place("no line end", Canon::kRelaxed));
  const char alphabet[] = {'a', ' ', '\t', '\r', '\n'};
  uint32_t state = 12345;
  size_t accepted = 0;
  for (int round = 0; round < 200000; ++round) {
    std::string body;
    state = state * 1103515245 + 12345;
    size_t length = (state >> 16) % 60;  // past 16 and 32: the vector loop and its tail
    for (size_t i = 0; i < length; ++i) {
      state = state * 1103515245 + 12345;
      body += alphabet[(state >> 16) % 5];
    }
    if (round % 2) body += "\r\n";
    for (Canon canon : {Canon::kSimple, Canon::kRelaxed}) {
      auto in_place = canonical_body_in_place(body, canon);
      if (!in_place) continue;
      ++accepted;
      ASSERT_EQ(std::string(*in_place), canonical_body(body, canon)) << testing::PrintToString(body);
    }
  }
  EXPECT_GT(accepted, 1000u);
}
