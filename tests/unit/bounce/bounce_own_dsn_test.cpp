// The relay reads its own DSNs: what mx-deliver and spool-retry write (relay::make_dsn) comes
// back through relay::bounce::parse with every recipient, status, reason and the original ids.
#include <gtest/gtest.h>

#include "relay/bounce.hpp"
#include "relay/dsn.hpp"

namespace {

relay::Envelope envelope() {
  relay::Envelope e;
  e.id = "1764395000.123456.4242_0.relay1";
  e.sender = "app@sender.example";
  e.arrival = 1764395000;
  auto add = [&](std::string address, relay::RecipientState state, std::string status, std::string response) {
    relay::Recipient r;
    r.address = std::move(address);
    r.state = state;
    r.status = std::move(status);
    r.response = std::move(response);
    r.remote = "mx.dest.example[192.0.2.7]:25";
    r.updated = 1764395100;
    e.recipients.push_back(std::move(r));
  };
  add("gone@dest.example", relay::RecipientState::kFailed, "5.1.1", "550 5.1.1 <gone@dest.example>: no such user");
  add("full@dest.example", relay::RecipientState::kFailed, "5.2.2", "552 5.2.2 mailbox over quota");
  add("ok@dest.example", relay::RecipientState::kSent, "2.0.0", "250 2.0.0 queued");
  add("slow@dest.example", relay::RecipientState::kDeferred, "4.4.1", "421 4.4.1 connection timed out");
  return e;
}

const std::string kMessage =
    "From: app@sender.example\r\nTo: gone@dest.example\r\nSubject: hi\r\n"
    "Message-ID: <orig-1@sender.example>\r\n\r\nhello\r\n";

}  // namespace

TEST(OwnDsn, FailuresAreReadBack) {
  relay::DsnOptions options;
  options.reporting_mta = "relay1.sender.example";
  options.now = 1764395200;
  auto dsn = relay::make_dsn(envelope(), kMessage, options);
  ASSERT_TRUE(dsn);
  relay::bounce::Report report = relay::bounce::parse(*dsn);
  EXPECT_EQ(report.kind, relay::bounce::Kind::kBounce);
  EXPECT_EQ(report.reporting_mta, "relay1.sender.example");
  EXPECT_EQ(report.message_id, "<orig-1@sender.example>");
  EXPECT_EQ(report.envelope_sender, "app@sender.example");
  ASSERT_EQ(report.recipients.size(), 2u);
  const auto& gone = report.recipients[0];
  EXPECT_EQ(gone.address, "gone@dest.example");
  EXPECT_EQ(gone.action, "failed");
  EXPECT_EQ(gone.status, "5.1.1");
  EXPECT_EQ(gone.smtp_code, 550);
  EXPECT_EQ(gone.reason, relay::bounce::Reason::kUserUnknown);
  EXPECT_TRUE(gone.hard);
  const auto& full = report.recipients[1];
  EXPECT_EQ(full.address, "full@dest.example");
  EXPECT_EQ(full.reason, relay::bounce::Reason::kMailboxFull);
  EXPECT_FALSE(full.hard);
}

TEST(OwnDsn, DelaysAreReadBack) {
  relay::DsnOptions options;
  options.action = relay::DsnAction::kDelayed;
  options.reporting_mta = "relay1.sender.example";
  options.now = 1764395200;
  options.retry_until = 1764827200;
  auto dsn = relay::make_dsn(envelope(), kMessage, options);
  ASSERT_TRUE(dsn);
  relay::bounce::Report report = relay::bounce::parse(*dsn);
  ASSERT_EQ(report.recipients.size(), 1u);
  EXPECT_EQ(report.recipients[0].address, "slow@dest.example");
  EXPECT_EQ(report.recipients[0].action, "delayed");
  EXPECT_EQ(report.recipients[0].status, "4.4.1");
  EXPECT_FALSE(report.recipients[0].hard);
}
