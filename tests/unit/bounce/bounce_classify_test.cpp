#include <gtest/gtest.h>

#include "relay/bounce.hpp"

using relay::bounce::classify;
using relay::bounce::Reason;

TEST(Classify, StatusCodesSettleTheReason) {
  EXPECT_EQ(classify("5.1.1", "whatever"), Reason::kUserUnknown);
  EXPECT_EQ(classify("5.1.10", "RESOLVER.ADR.RecipientNotFound"), Reason::kUserUnknown);
  EXPECT_EQ(classify("5.1.10", "Recipient address has null MX"), Reason::kHostUnknown);
  EXPECT_EQ(classify("5.1.2", ""), Reason::kHostUnknown);
  EXPECT_EQ(classify("4.2.2", ""), Reason::kMailboxFull);
  EXPECT_EQ(classify("5.3.4", ""), Reason::kMessageTooLarge);
  EXPECT_EQ(classify("4.4.7", ""), Reason::kExpired);
  EXPECT_EQ(classify("5.7.26", "unauthenticated"), Reason::kPolicy);
  EXPECT_EQ(classify("5.7.10", ""), Reason::kTlsSecurity);
  EXPECT_EQ(classify("5.4.6", "routing loop"), Reason::kMailerError);
  EXPECT_EQ(classify("4.1.8", "<a@b.example>: Sender address rejected: Domain not found"), Reason::kPolicy);
  EXPECT_EQ(classify("5.4.1", "Recipient address rejected: Access denied. AS(201806281)"), Reason::kUserUnknown);
  EXPECT_EQ(classify("5.7.1", "<a@b.example>: Recipient address rejected: Access denied"), Reason::kPolicy);
}

TEST(Classify, TextDecidesWhenTheCodeIsGeneric) {
  EXPECT_EQ(classify("5.0.0", "550 No such user here"), Reason::kUserUnknown);
  EXPECT_EQ(classify("", "Host or domain name not found"), Reason::kHostUnknown);
  EXPECT_EQ(classify("5.7.1", "blocked using zen.spamhaus.org"), Reason::kSpamBlocked);
  EXPECT_EQ(classify("5.7.1", "Relay access denied"), Reason::kPolicy);
  EXPECT_EQ(classify("5.0.0", "Verification failed for <a@b.example> Unrouteable address Sender verify failed"),
            Reason::kPolicy);
  EXPECT_EQ(classify("5.7.1", "nothing specific"), Reason::kPolicy);
  EXPECT_EQ(classify("4.7.0", "[TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume or user "
                             "complaints"), Reason::kSpamBlocked);
  EXPECT_EQ(classify("4.7.0", "Too many messages, slow down"), Reason::kRateLimited);
  EXPECT_EQ(classify("4.2.1", "The recipient is receiving mail at a rate that prevents additional messages"),
            Reason::kRateLimited);
  EXPECT_EQ(classify("5.7.708", "Access denied, traffic not accepted from this IP."), Reason::kSpamBlocked);
  EXPECT_EQ(classify("5.7.0", "Must issue a STARTTLS command first"), Reason::kTlsSecurity);
  EXPECT_EQ(classify("", "Command died with status 1"), Reason::kMailerError);
  EXPECT_EQ(classify("", "this message has been in the queue too long"), Reason::kExpired);
  EXPECT_EQ(classify("4.4.1", "Connection timed out"), Reason::kExpired);
  EXPECT_EQ(classify("", "Deferred: Connection timed out with mx.down.example."), Reason::kExpired);
  EXPECT_EQ(classify("4.4.1", "connect to mx.example[192.0.2.1]:25: Connection refused"), Reason::kExpired);
  EXPECT_EQ(classify("5.4.0", "Error: too many hops"), Reason::kMailerError);
  EXPECT_EQ(classify("5.7.606", "Access denied, banned sending IP [192.0.2.1]"), Reason::kSpamBlocked);
  EXPECT_EQ(classify("5.7.0", "Reject, id=04213-07 - INFECTED: Eicar-Signature"), Reason::kSpamBlocked);
  EXPECT_EQ(classify("4.7.1", "Client host rejected: cannot find your hostname, [192.0.2.1]"), Reason::kPolicy);
}

TEST(Classify, HardOnlyForPermanentAddressFailuresAndComplaints) {
  using relay::bounce::is_hard;
  EXPECT_TRUE(is_hard(Reason::kUserUnknown, "5.1.1", 550, "failed"));
  EXPECT_TRUE(is_hard(Reason::kHostUnknown, "", 0, "failed"));
  EXPECT_TRUE(is_hard(Reason::kComplaint, "", 0, "complained"));
  EXPECT_FALSE(is_hard(Reason::kUserUnknown, "4.1.1", 450, "delayed"));
  EXPECT_FALSE(is_hard(Reason::kUserUnknown, "", 450, "failed"));
  EXPECT_FALSE(is_hard(Reason::kMailboxFull, "5.2.2", 552, "failed"));
  EXPECT_FALSE(is_hard(Reason::kSpamBlocked, "5.7.1", 550, "failed"));
  EXPECT_FALSE(is_hard(Reason::kAutoReply, "", 0, "auto-replied"));
}

TEST(Codes, FindsReplyCodesNotNumbersInGeneral) {
  using relay::bounce::find_smtp_code;
  EXPECT_EQ(find_smtp_code("550 5.1.1 unknown"), 550);
  EXPECT_EQ(find_smtp_code("host mx[192.0.2.1] said: 452-4.2.2 full"), 452);
  EXPECT_EQ(find_smtp_code("#550 5.1.1 RESOLVER ##"), 550);
  EXPECT_EQ(find_smtp_code("554: delivery error"), 554);
  EXPECT_EQ(find_smtp_code("[192.168.250.1]:587 2026 x550 id-421"), 0);
  EXPECT_EQ(find_smtp_code("no code"), 0);
}

TEST(Codes, FindsEnhancedStatusNotAddresses) {
  using relay::bounce::find_status;
  EXPECT_EQ(find_status("550 5.1.1 unknown"), "5.1.1");
  EXPECT_EQ(find_status("(#5.1.2)"), "5.1.2");
  EXPECT_EQ(find_status("5.1.10 RESOLVER"), "5.1.10");
  EXPECT_EQ(find_status("from 5.1.1.1 and v2.4.6.8"), "");
  EXPECT_EQ(find_status("version 4.16.55.1"), "");
}

TEST(Dates, ReadsRfc5322DatesWithZones) {
  using relay::bounce::parse_rfc5322_date;
  EXPECT_EQ(parse_rfc5322_date("Sun, 29 Nov 2026 06:02:17 +0000 (UTC)"), 1795932137);
  EXPECT_EQ(parse_rfc5322_date("29 Nov 2026 07:02:17 +0100"), 1795932137);
  EXPECT_EQ(parse_rfc5322_date("Sun, 29 Nov 2026 01:02:17 EST"), 1795932137);
  EXPECT_EQ(parse_rfc5322_date("29 Nov 26 06:02 GMT"), 1795932120);
  EXPECT_EQ(parse_rfc5322_date("Thu, 1 Jan 1970 00:00:00 -0000"), 0);
  EXPECT_FALSE(parse_rfc5322_date("yesterday"));
  EXPECT_FALSE(parse_rfc5322_date("32 Jan 2026 00:00:00 +0000"));
  EXPECT_FALSE(parse_rfc5322_date("1 Foo 2026 00:00:00 +0000"));
  EXPECT_FALSE(parse_rfc5322_date("1 Jan 2026 25:00:00 +0000"));
}
