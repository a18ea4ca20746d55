// relay::dkim::verify_message with key records answered from a table, as dmarc-check calls it.
#include <gtest/gtest.h>

#include <map>

#include "relay/dkim_verify.hpp"

namespace {

using relay::dns::Answer;
using relay::dns::Status;

class TableResolver : public relay::dns::Resolver {
 public:
  std::map<std::string, Answer<std::string>> txt_answers;
  Answer<std::string> a(std::string_view) override { return {Status::kNxDomain, {}, {}}; }
  Answer<std::string> aaaa(std::string_view) override { return {Status::kNxDomain, {}, {}}; }
  Answer<relay::dns::MxRecord> mx(std::string_view) override { return {Status::kNxDomain, {}, {}}; }
  Answer<std::string> ptr(std::string_view) override { return {Status::kNxDomain, {}, {}}; }
  Answer<relay::dns::TlsaRecord> tlsa(std::string_view) override { return {Status::kNxDomain, {}, {}}; }
  Answer<std::string> txt(std::string_view name) override {
    ++queries_;
    auto it = txt_answers.find(std::string(name));
    return it == txt_answers.end() ? Answer<std::string>{Status::kNxDomain, {}, {}} : it->second;
  }
  uint64_t queries() const override { return queries_; }

 private:
  uint64_t queries_ = 0;
};

// RFC 8463 Appendix A: one message signed with ed25519-sha256 and rsa-sha256.
const char* kRfc8463Message =
    "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;\r\n"
    " d=football.example.com; i=@football.example.com;\r\n"
    " q=dns/txt; s=brisbane; t=1528637909; h=from : to :\r\n"
    " subject : date : message-id : from : subject : date;\r\n"
    " bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
    " b=/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11Bus\r\n"
    " Fa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==\r\n"
    "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;\r\n"
    " d=football.example.com; i=@football.example.com;\r\n"
    " q=dns/txt; s=test; t=1528637909; h=from : to : subject :\r\n"
    " date : message-id : from : subject : date;\r\n"
    " bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
    " b=F45dVWDfMbQDGHJFlXUNB2HKfbCeLRyhDXgFpEL8GwpsRe0IeIixNTe3\r\n"
    " DhCVlUrSjV4BwcVcOF6+FF3Zo9Rpo1tFOeS9mPYQTnGdaSGsgeefOsk2Jz\r\n"
    " dA+L10TeYt9BgDfQNZtKdN1WO//KgIqXP7OdEFE4LjFYNcUxZQ4FADY+8=\r\n"
    "From: Joe SixPack <joe@football.example.com>\r\n"
    "To: Suzie Q <suzie@shopping.example.net>\r\n"
    "Subject: Is dinner ready?\r\n"
    "Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\n"
    "Message-ID: <20030712040037.46341.5F8J@football.example.com>\r\n"
    "\r\n"
    "Hi.\r\n"
    "\r\n"
    "We lost the game.  Are you hungry yet?\r\n"
    "\r\n"
    "Joe.\r\n";

const char* kEdRecord = "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
const char* kRsaRecord =
    "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/"
    "J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+"
    "2kryOTIKT+l/K4w3QIDAQAB";

TableResolver rfc_keys() {
  TableResolver resolver;
  resolver.txt_answers["brisbane._domainkey.football.example.com"] = {Status::kOk, {kEdRecord}, {}};
  resolver.txt_answers["test._domainkey.football.example.com"] = {Status::kOk, {kRsaRecord}, {}};
  return resolver;
}

}  // namespace

TEST(DkimVerify, Rfc8463BothSignaturesPass) {
  TableResolver resolver = rfc_keys();
  auto results = relay::dkim::verify_message(kRfc8463Message, resolver);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].result, relay::dkim::Result::kPass) << results[0].reason;
  EXPECT_EQ(results[0].algorithm, "ed25519-sha256");
  EXPECT_EQ(results[0].selector, "brisbane");
  EXPECT_EQ(results[1].result, relay::dkim::Result::kPass) << results[1].reason;
  EXPECT_EQ(results[1].algorithm, "rsa-sha256");
  EXPECT_EQ(results[1].domain, "football.example.com");
  EXPECT_EQ(results[1].key_bits, 1024u);
}

TEST(DkimVerify, ChangedBodyFailsOnBodyHash) {
  TableResolver resolver = rfc_keys();
  std::string message = kRfc8463Message;
  message.replace(message.find("hungry"), 6, "Hungry");
  for (const auto& r : relay::dkim::verify_message(message, resolver)) {
    EXPECT_EQ(r.result, relay::dkim::Result::kFail);
    EXPECT_EQ(r.reason, "body hash did not verify");
  }
}

TEST(DkimVerify, DnsFailuresKeepTheirMeaning) {
  TableResolver resolver;
  resolver.txt_answers["brisbane._domainkey.football.example.com"] = {Status::kServFail, {}, {}};
  resolver.txt_answers["test._domainkey.football.example.com"] = {Status::kOk, {"v=DKIM1; k=rsa; p="}, {}};
  auto results = relay::dkim::verify_message(kRfc8463Message, resolver);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].result, relay::dkim::Result::kTempError);
  EXPECT_EQ(results[1].result, relay::dkim::Result::kPermError);
  EXPECT_EQ(results[1].reason, "key revoked (empty p=)");
}

TEST(DkimVerify, MissingKeyIsPermError) {
  TableResolver resolver;
  auto results = relay::dkim::verify_message(kRfc8463Message, resolver);
  ASSERT_EQ(results.size(), 2u);
  for (const auto& r : results) EXPECT_EQ(r.result, relay::dkim::Result::kPermError);
}

TEST(DkimVerify, UnsignedMessageHasNoResults) {
  TableResolver resolver;
  EXPECT_TRUE(relay::dkim::verify_message("From: a@b.example\r\n\r\nhi\r\n", resolver).empty());
  EXPECT_EQ(resolver.queries(), 0u);
}
