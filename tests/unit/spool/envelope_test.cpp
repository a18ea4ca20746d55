#include <gtest/gtest.h>

#include "relay/envelope.hpp"
#include "relay/exit_codes.hpp"

using namespace relay;

namespace {

Envelope sample() {
  Envelope e;
  e.id = "1764395000.000001.42_0.host";
  e.sender = "\"john doe\"@example.org";
  e.arrival = 1764395000;
  e.ret = "HDRS";
  e.envid = "QQ+2B314";
  e.body = "8BITMIME";
  e.smtputf8 = true;
  e.auth_user = "app1";
  e.client_address = "::1";
  e.helo = "[IPv6:::1]";
  e.protocol = "ESMTPSA";
  e.tls = "TLSv1.3 TLS_AES_256_GCM_SHA384";
  Recipient a;
  a.address = "user+tag@[127.0.0.1]";
  a.notify = "SUCCESS,FAILURE";
  a.orcpt = "rfc822;user+2Btag@example.test";
  Recipient b;
  b.address = "用户@例子.测试";
  Recipient c;
  c.address = "a.b@example.test";
  e.recipients = {a, b, c};
  return e;
}

}  // namespace

TEST(Envelope, RoundTripsOddAddresses) {
  Envelope e = sample();
  std::string text = serialize(e);
  ASSERT_EQ(envelope_end(text + "message"), text.size());
  Envelope back = parse_envelope(text);
  EXPECT_EQ(back.sender, e.sender);
  EXPECT_EQ(back.arrival, e.arrival);
  EXPECT_EQ(back.ret, "HDRS");
  EXPECT_EQ(back.envid, "QQ+2B314");
  EXPECT_TRUE(back.smtputf8);
  EXPECT_EQ(back.tls, e.tls);
  ASSERT_EQ(back.recipients.size(), 3u);
  EXPECT_EQ(back.recipients[0].address, "user+tag@[127.0.0.1]");
  EXPECT_EQ(back.recipients[0].orcpt, "rfc822;user+2Btag@example.test");
  EXPECT_EQ(back.recipients[1].address, "用户@例子.测试");
  EXPECT_EQ(serialize(back), text);
}

TEST(Envelope, NullSenderRoundTrips) {
  Envelope e = sample();
  e.sender = "";
  Envelope back = parse_envelope(serialize(e));
  EXPECT_TRUE(back.null_sender());
}

TEST(Envelope, PartialDeliveryStateRoundTrips) {
  Envelope e = sample();
  e.recipients[0].state = RecipientState::kSent;
  e.recipients[0].status = "2.0.0";
  e.recipients[0].response = "250 2.0.0 Ok: queued as 4Xyz";
  e.recipients[0].remote = "mx1.example.test[127.0.0.2]:25";
  e.recipients[0].updated = 1764395100;
  e.recipients[1].state = RecipientState::kDeferred;
  e.recipients[1].status = "4.2.2";
  e.recipients[1].response = "452 4.2.2 Mailbox full";
  e.recipients[2].state = RecipientState::kFailed;
  e.recipients[2].status = "5.1.1";
  e.attempts = 1;
  e.next_attempt = 1764395400;
  e.defer_reason = "mailbox";
  Envelope back = parse_envelope(serialize(e));
  EXPECT_EQ(back.recipients[0].state, RecipientState::kSent);
  EXPECT_EQ(back.recipients[0].response, "250 2.0.0 Ok: queued as 4Xyz");
  EXPECT_EQ(back.recipients[1].state, RecipientState::kDeferred);
  EXPECT_EQ(back.recipients[2].state, RecipientState::kFailed);
  EXPECT_EQ(back.pending_count(), 1u);
  EXPECT_EQ(back.attempts, 1);
  EXPECT_EQ(back.next_attempt, 1764395400);
  EXPECT_EQ(back.defer_reason, "mailbox");
}

TEST(Envelope, KeepsUnknownFields) {
  std::string text = "version=1\nid=x\nsender=a@b\nfuture=42\nrcpt=c@d\nrcpt.state=pending\nrcpt.color=blue\n\n";
  Envelope e = parse_envelope(text);
  ASSERT_EQ(e.extra.size(), 1u);
  EXPECT_EQ(e.recipients[0].extra.size(), 1u);
  std::string again = serialize(e);
  EXPECT_NE(again.find("future=42\n"), std::string::npos);
  EXPECT_NE(again.find("rcpt.color=blue\n"), std::string::npos);
}

TEST(Envelope, RefusesValuesWithLineBreaks) {
  Envelope e = sample();
  e.recipients[0].response = "250 ok\r\nrcpt=injected@evil";
  EXPECT_THROW(serialize(e), Failure);
}

TEST(Envelope, RefusesUnknownVersionAndGarbage) {
  EXPECT_THROW(parse_envelope("version=2\nid=x\n\n"), Failure);
  EXPECT_THROW(parse_envelope("id=x\n\n"), Failure);
  EXPECT_THROW(parse_envelope("version=1\nno equals sign\n\n"), Failure);
  EXPECT_THROW(parse_envelope("version=1\nrcpt.state=sent\n\n"), Failure);
  EXPECT_THROW(parse_envelope(""), Failure);
}

TEST(Envelope, NotifyDefaultsFollowRfc3461) {
  Recipient r;
  EXPECT_TRUE(r.notify_on("FAILURE"));
  EXPECT_TRUE(r.notify_on("DELAY"));
  EXPECT_FALSE(r.notify_on("SUCCESS"));
  r.notify = "NEVER";
  EXPECT_FALSE(r.notify_on("FAILURE"));
  r.notify = "SUCCESS,delay";
  EXPECT_TRUE(r.notify_on("SUCCESS"));
  EXPECT_TRUE(r.notify_on("DELAY"));
  EXPECT_FALSE(r.notify_on("FAILURE"));
}
