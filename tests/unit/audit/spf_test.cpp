// SPF record syntax, evaluation details and the Received-SPF header, over a table resolver
// (the conformance suites run against a real DNS server in tests/integration/audit).
#include <gtest/gtest.h>

#include "relay/spf.hpp"
#include "table_resolver.hpp"

namespace relay::spf {
namespace {

std::string parse_error(std::string_view text) {
  std::string error;
  EXPECT_FALSE(parse_record(text, &error)) << text;
  return error;
}

TEST(SpfRecord, TermsQualifiersAndCidrs) {
  std::string error;
  auto record = parse_record("v=spf1 -ip4:192.0.2.0/24 a:mail.example.test/28//64 ~mx ?include:_spf.example.test "
                             "exp=why.example.test redirect=other.example.test x-note=hello",
                             &error);
  ASSERT_TRUE(record) << error;
  ASSERT_EQ(record->terms.size(), 4u);
  EXPECT_EQ(record->terms[0].qualifier, Qualifier::kFail);
  EXPECT_EQ(record->terms[0].cidr4, 24);
  EXPECT_EQ(record->terms[1].domain_spec, "mail.example.test");
  EXPECT_EQ(record->terms[1].cidr4, 28);
  EXPECT_EQ(record->terms[1].cidr6, 64);
  EXPECT_EQ(record->terms[2].mechanism, Mechanism::kMx);
  EXPECT_EQ(record->terms[3].qualifier, Qualifier::kNeutral);
  EXPECT_EQ(record->redirect, "other.example.test");
  EXPECT_EQ(record->exp, "why.example.test");
  EXPECT_EQ(record->unknown_modifiers, std::vector<std::string>{"x-note=hello"});
}

TEST(SpfRecord, SyntaxErrorsSayWhat) {
  EXPECT_NE(parse_error("v=spf1 ip4:192.0.2.1/33").find("invalid CIDR length"), std::string::npos);
  EXPECT_NE(parse_error("v=spf1 foo:bar").find("unknown mechanism"), std::string::npos);
  EXPECT_NE(parse_error("v=spf1 a:example").find("top-level label"), std::string::npos);
  EXPECT_NE(parse_error("v=spf1 redirect=a.test redirect=b.test").find("twice"), std::string::npos);
  EXPECT_NE(parse_error("v=spf1 a:%{x}.test").find("not allowed"), std::string::npos);
  EXPECT_NE(parse_error("v=spf1 -all\t").find("0x09"), std::string::npos);
  EXPECT_FALSE(is_spf_record("v=spf10"));
  EXPECT_TRUE(is_spf_record("V=SPF1"));
}

TEST(SpfCheck, MacrosExpandInExistsAndExplanation) {
  testing::TableResolver dns;
  dns.txt_records["example.test"] = {"v=spf1 exists:%{ir}.%{l1r-}.allow.example.test -all exp=why.example.test"};
  dns.a_records["1.2.0.192.bob.allow.example.test"] = {"127.0.0.2"};
  dns.txt_records["why.example.test"] = {"%{c} may not send for %{d} (%{L})"};
  Query query{.ip = "192.0.2.1", .sender = "bob-jo@example.test", .helo = "h.example.test"};
  EXPECT_EQ(check(dns, query).result, Result::kPass);
  query.ip = "192.0.2.9";
  Verdict verdict = check(dns, query);
  EXPECT_EQ(verdict.result, Result::kFail);
  EXPECT_EQ(verdict.mechanism, "-all");
  EXPECT_EQ(verdict.explanation, "192.0.2.9 may not send for example.test (bob-jo)");
}

TEST(SpfCheck, TimeoutsAreTemperrorsAndLimitsPermerrors) {
  testing::TableResolver dns;
  dns.txt_records["example.test"] = {"v=spf1 a:slow.example.test -all"};
  dns.failures["A slow.example.test"] = dns::Status::kTimeout;
  Query query{.ip = "192.0.2.1", .sender = "a@example.test", .helo = ""};
  Verdict verdict = check(dns, query);
  EXPECT_EQ(verdict.result, Result::kTempError);
  EXPECT_NE(verdict.problem.find("timeout"), std::string::npos);
  dns.txt_records["example.test"] = {"v=spf1 a:v1.example.test a:v2.example.test a:v3.example.test -all"};
  verdict = check(dns, query);
  EXPECT_EQ(verdict.result, Result::kPermError);
  EXPECT_EQ(verdict.void_lookups, 3);
}

TEST(SpfCheck, NullSenderChecksHelo) {
  testing::TableResolver dns;
  dns.txt_records["mail.example.test"] = {"v=spf1 ip6:2001:db8::/32 -all"};
  Verdict verdict = check(dns, {.ip = "2001:db8::25", .sender = "", .helo = "mail.example.test"});
  EXPECT_EQ(verdict.result, Result::kPass);
  EXPECT_EQ(verdict.identity, "helo");
}

TEST(SpfHeader, ReceivedSpfFieldsAndFolding) {
  Verdict verdict;
  verdict.result = Result::kSoftFail;
  verdict.identity = "mailfrom";
  verdict.mechanism = "~all";
  Query query{.ip = "192.0.2.1", .sender = "a b@example.test", .helo = "h.example.test", .receiver = "mx.test"};
  std::string header = received_spf_header(verdict, query);
  EXPECT_TRUE(header.starts_with("Received-SPF: softfail\n\t(mx.test: domain of transitioning a b@example.test "
                                  "does not designate 192.0.2.1 as permitted sender)\n\t"));
  EXPECT_NE(header.find("envelope-from=\"a b@example.test\";"), std::string::npos);
  EXPECT_TRUE(header.ends_with("mechanism=~all"));
  // Lines break between parts; only the long comment exceeds 78 characters.
  for (size_t start = 0, end; start < header.size(); start = end + 1) {
    end = header.find('\n', start);
    if (end == std::string::npos) end = header.size();
    if (header[start + 1] != '(') {
      EXPECT_LE(end - start, 78u) << header.substr(start, end - start);
    }
  }
}

TEST(SpfAnalyze, CountsNestedLookupsAndVoids) {
  testing::TableResolver dns;
  dns.txt_records["_a.example.test"] = {"v=spf1 mx a:gone.example.test include:_b.example.test"};
  dns.txt_records["_b.example.test"] = {"v=spf1 exists:%{i}.bl.example.test ?all"};
  dns.a_records["_a.example.test"] = {"192.0.2.1"};
  std::string error;
  auto record = parse_record("v=spf1 include:_a.example.test redirect=_b.example.test", &error);
  ASSERT_TRUE(record);
  Analysis analysis = analyze(dns, "example.test", *record);
  EXPECT_EQ(analysis.lookups, 7);  // include, mx, a, include, exists; redirect, exists
  EXPECT_EQ(analysis.void_lookups, 2);  // mx of _a has no MX; gone.example.test
  EXPECT_EQ(analysis.all, Qualifier::kNeutral);  // from the redirect target
  EXPECT_TRUE(analysis.problems.empty());
}

}  // namespace
}  // namespace relay::spf
