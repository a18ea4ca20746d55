// DMARC records, organizational domains, alignment, policy choice and Authentication-Results.
#include <gtest/gtest.h>

#include "relay/dmarc.hpp"
#include "relay/domain.hpp"
#include "table_resolver.hpp"

namespace relay::dmarc {
namespace {

TEST(DmarcRecord, ParsesEveryTag) {
  std::string error;
  auto record = parse_record(
      "v=DMARC1; p=quarantine; sp=reject; np=reject; adkim=s; aspf=r; pct=25; "
      "rua=mailto:a@example.test,mailto:b@reports.test!10m; ruf=mailto:f@example.test; fo=1:d; rf=afrf; ri=3600;",
      &error);
  ASSERT_TRUE(record) << error;
  EXPECT_EQ(record->p, Policy::kQuarantine);
  EXPECT_EQ(record->sp, Policy::kReject);
  EXPECT_EQ(record->np, Policy::kReject);
  EXPECT_EQ(record->adkim, Alignment::kStrict);
  EXPECT_EQ(record->pct, 25);
  EXPECT_EQ(record->rua.size(), 2u);
  EXPECT_EQ(record->fo, "1:d");
  EXPECT_TRUE(record->warnings.empty());
}

TEST(DmarcRecord, ClearErrors) {
  std::string error;
  EXPECT_FALSE(parse_record("v=DMARC1; p=reject; pct=101", &error));
  EXPECT_EQ(error, "pct=101: must be an integer from 0 to 100");
  EXPECT_FALSE(parse_record("v=DMARC1; p=reject; p=none", &error));
  EXPECT_EQ(error, "p= appears twice");
  EXPECT_FALSE(parse_record("v=DMARC1; p=reject; rua=a@example.test", &error));
  EXPECT_NE(error.find("not a valid report URI"), std::string::npos);
  EXPECT_FALSE(parse_record("p=reject; v=DMARC1", &error));
  EXPECT_FALSE(parse_record("v=DMARC1; sp=reject", &error));
  EXPECT_EQ(error, "p= is missing");
  EXPECT_FALSE(is_dmarc_record("v=DMARC2; p=none"));
}

TEST(DmarcOrgDomain, PublicSuffixList) {
  EXPECT_EQ(organizational_domain("mail.example.co.uk"), "example.co.uk");
  EXPECT_EQ(organizational_domain("a.b.example.com"), "example.com");
  EXPECT_EQ(organizational_domain("Sub.Example.Test."), "example.test");
  EXPECT_TRUE(aligned("bounce.example.com", "example.com", Alignment::kRelaxed));
  EXPECT_FALSE(aligned("bounce.example.com", "example.com", Alignment::kStrict));
  EXPECT_FALSE(aligned("example.net", "example.com", Alignment::kRelaxed));
}

TEST(DmarcEvaluate, SubdomainPolicyAndHeader) {
  testing::TableResolver dns;
  dns.txt_records["_dmarc.example.test"] = {"v=DMARC1; p=reject; sp=quarantine"};
  dns.a_records["news.example.test"] = {"192.0.2.1"};
  Identifiers ids{.from_domain = "news.example.test", .spf_result = "fail", .spf_domain = "other.test", .dkim = {}};
  ids.dkim.push_back({"example.test", "s1", "fail"});
  Evaluation evaluation = evaluate(dns, ids, 0);
  EXPECT_EQ(evaluation.result, Result::kFail);
  EXPECT_TRUE(evaluation.discovery.from_org_domain);
  EXPECT_EQ(evaluation.policy_tag, "sp");
  EXPECT_EQ(evaluation.disposition, Policy::kQuarantine);
  EXPECT_EQ(authentication_results("mx.test", ids, evaluation),
            "Authentication-Results: mx.test;\n\tspf=fail smtp.mailfrom=other.test;\n\t"
            "dkim=fail header.d=example.test header.s=s1;\n\t"
            "dmarc=fail (sp=quarantine dis=quarantine) header.from=news.example.test");
}

TEST(DmarcEvaluate, TimeoutIsTemperror) {
  testing::TableResolver dns;
  dns.failures["TXT _dmarc.example.test"] = dns::Status::kTimeout;
  Evaluation evaluation = evaluate(dns, {.from_domain = "example.test", .spf_result = "pass", .spf_domain = "example.test", .dkim = {}}, 0);
  EXPECT_EQ(evaluation.result, Result::kTempError);
  EXPECT_NE(evaluation.problem.find("timeout"), std::string::npos);
}

}  // namespace
}  // namespace relay::dmarc
