#include "relay/dsn.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "relay/clock.hpp"
#include "relay/headers.hpp"

namespace relay {
namespace {

constexpr int64_t kNow = 1764400000;

Envelope sample_envelope() {
  Envelope e;
  e.id = "1764390000.000001.42_1.relay";
  e.sender = "alice@example.org";
  e.arrival = kNow - 3600;
  e.envid = "QQ+2B1";
  e.attempts = 3;
  e.last_attempt = kNow - 60;
  Recipient failed;
  failed.address = "bob@remote.test";
  failed.state = RecipientState::kFailed;
  failed.status = "5.1.1";
  failed.response = "550 5.1.1 <bob@remote.test>: user unknown";
  failed.remote = "mx.remote.test[127.0.0.2]:25";
  failed.orcpt = "rfc822;Bob+2Bx@remote.test";
  failed.updated = kNow - 60;
  Recipient sent;
  sent.address = "carol@remote.test";
  sent.state = RecipientState::kSent;
  sent.status = "2.0.0";
  sent.notify = "SUCCESS,FAILURE";
  Recipient deferred;
  deferred.address = "dave@slow.test";
  deferred.state = RecipientState::kDeferred;
  deferred.status = "4.7.1";
  deferred.response = "451 4.7.1 greylisted, try again later";
  deferred.remote = "[127.0.0.3]:25";
  e.recipients = {failed, sent, deferred};
  return e;
}

const std::string kMessage =
    "From: Alice <alice@example.org>\r\n"
    "To: bob@remote.test\r\n"
    "Subject: hello\r\n"
    "Message-ID: <orig.1@example.org>\r\n"
    "\r\n"
    "Body line one.\r\n"
    "Body line two.\r\n";

DsnOptions options(DsnAction action) {
  DsnOptions o;
  o.action = action;
  o.reporting_mta = "relay.example.org";
  o.now = kNow;
  return o;
}

// A small MIME reader, enough to check the structure: the boundary parameter of the top
// Content-Type and the parts between the delimiters, each as header text and body text.
struct Part {
  std::string headers;
  std::string body;
};

std::vector<Part> split_parts(const std::string& dsn, std::string* top_headers) {
  HeaderBlock top(dsn);
  *top_headers = dsn.substr(0, top.header_end());
  const HeaderField* type = top.find("Content-Type");
  EXPECT_NE(type, nullptr);
  std::string value = type->value();
  size_t b = value.find("boundary=\"");
  EXPECT_NE(b, std::string::npos);
  std::string boundary = value.substr(b + 10, value.find('"', b + 10) - b - 10);
  std::string delimiter = "\r\n--" + boundary;
  std::vector<Part> parts;
  size_t pos = dsn.find(delimiter);
  while (pos != std::string::npos) {
    size_t start = pos + delimiter.size();
    if (dsn.compare(start, 2, "--") == 0) break;
    start += 2;  // CRLF after the delimiter
    size_t next = dsn.find(delimiter, start);
    std::string part = dsn.substr(start, next - start);
    size_t blank = part.find("\r\n\r\n");
    parts.push_back({part.substr(0, blank + 2), part.substr(blank + 4)});
    pos = next;
  }
  return parts;
}

// The recipient groups of a message/delivery-status body as field maps (first is per message).
std::vector<std::map<std::string, std::string>> status_groups(const std::string& body) {
  std::vector<std::map<std::string, std::string>> groups(1);
  size_t pos = 0;
  std::string last;
  while (pos < body.size()) {
    size_t end = body.find("\r\n", pos);
    std::string line = body.substr(pos, end - pos);
    pos = end + 2;
    if (line.empty()) {
      if (!groups.back().empty()) groups.emplace_back();
      continue;
    }
    if (line[0] == ' ' || line[0] == '\t') {
      groups.back()[last] += line;
      continue;
    }
    size_t colon = line.find(':');
    last = line.substr(0, colon);
    groups.back()[last] = line.substr(colon + 2);
  }
  if (groups.back().empty()) groups.pop_back();
  return groups;
}

TEST(Dsn, FailureReportHasTheRfc3464Structure) {
  Envelope e = sample_envelope();
  auto dsn = make_dsn(e, kMessage, options(DsnAction::kFailed));
  ASSERT_TRUE(dsn);
  std::string top;
  auto parts = split_parts(*dsn, &top);
  EXPECT_NE(top.find("From: Mail Delivery System <MAILER-DAEMON@relay.example.org>"), std::string::npos);
  EXPECT_NE(top.find("To: <alice@example.org>"), std::string::npos);
  EXPECT_NE(top.find("Auto-Submitted: auto-replied"), std::string::npos);
  EXPECT_NE(top.find("report-type=delivery-status"), std::string::npos);
  EXPECT_NE(top.find("In-Reply-To: <orig.1@example.org>"), std::string::npos);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_NE(parts[0].headers.find("text/plain"), std::string::npos);
  EXPECT_NE(parts[0].body.find("<bob@remote.test>: 5.1.1"), std::string::npos);
  EXPECT_NE(parts[1].headers.find("message/delivery-status"), std::string::npos);
  EXPECT_NE(parts[2].headers.find("message/rfc822"), std::string::npos);
  EXPECT_EQ(parts[2].body.substr(0, 33), "From: Alice <alice@example.org>\r\n");
  EXPECT_NE(parts[2].body.find("Body line two."), std::string::npos);

  auto groups = status_groups(parts[1].body);
  ASSERT_EQ(groups.size(), 2u);  // only the failed recipient
  EXPECT_EQ(groups[0]["Reporting-MTA"], "dns; relay.example.org");
  EXPECT_EQ(groups[0]["Original-Envelope-Id"], "QQ+1");
  EXPECT_EQ(groups[0]["Arrival-Date"], rfc5322_date(kNow - 3600));
  EXPECT_EQ(groups[1]["Final-Recipient"], "rfc822; bob@remote.test");
  EXPECT_EQ(groups[1]["Original-Recipient"], "rfc822; Bob+x@remote.test");
  EXPECT_EQ(groups[1]["Action"], "failed");
  EXPECT_EQ(groups[1]["Status"], "5.1.1");
  EXPECT_EQ(groups[1]["Remote-MTA"], "dns; mx.remote.test");
  EXPECT_EQ(groups[1]["Diagnostic-Code"], "smtp; 550 5.1.1 <bob@remote.test>: user unknown");
  EXPECT_EQ(groups[1]["Last-Attempt-Date"], rfc5322_date(kNow - 60));
}

TEST(Dsn, DelayReportNamesRetryUntil) {
  Envelope e = sample_envelope();
  DsnOptions o = options(DsnAction::kDelayed);
  o.retry_until = kNow + 4 * 86400;
  auto dsn = make_dsn(e, kMessage, o);
  ASSERT_TRUE(dsn);
  std::string top;
  auto parts = split_parts(*dsn, &top);
  ASSERT_EQ(parts.size(), 3u);
  auto groups = status_groups(parts[1].body);
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[1]["Final-Recipient"], "rfc822; dave@slow.test");
  EXPECT_EQ(groups[1]["Action"], "delayed");
  EXPECT_EQ(groups[1]["Status"], "4.7.1");
  EXPECT_EQ(groups[1]["Remote-MTA"], "dns; 127.0.0.3");
  EXPECT_EQ(groups[1]["Will-Retry-Until"], rfc5322_date(kNow + 4 * 86400));
}

TEST(Dsn, SuccessOnlyWhenAskedFor) {
  Envelope e = sample_envelope();
  auto dsn = make_dsn(e, kMessage, options(DsnAction::kDelivered));
  ASSERT_TRUE(dsn);
  std::string top;
  auto groups = status_groups(split_parts(*dsn, &top)[1].body);
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[1]["Final-Recipient"], "rfc822; carol@remote.test");
  EXPECT_EQ(groups[1]["Action"], "delivered");

  e.recipients[1].notify = "";  // RFC 3461 default: no success reports
  EXPECT_FALSE(make_dsn(e, kMessage, options(DsnAction::kDelivered)));
}

TEST(Dsn, NotifyNeverAndNullSenderGetNothing) {
  Envelope e = sample_envelope();
  e.recipients[0].notify = "NEVER";
  EXPECT_FALSE(make_dsn(e, kMessage, options(DsnAction::kFailed)));
  e.recipients[0].notify = "DELAY";
  EXPECT_FALSE(make_dsn(e, kMessage, options(DsnAction::kFailed)));
  e.recipients[0].notify = "FAILURE";
  e.sender = "";
  EXPECT_FALSE(make_dsn(e, kMessage, options(DsnAction::kFailed)));
  EXPECT_TRUE(dsn_recipients(e, options(DsnAction::kFailed)).empty());
}

TEST(Dsn, OnlySelectsRecipients) {
  Envelope e = sample_envelope();
  e.recipients[2].state = RecipientState::kFailed;
  DsnOptions o = options(DsnAction::kFailed);
  EXPECT_EQ(dsn_recipients(e, o), (std::vector<size_t>{0, 2}));
  o.only = {2};
  EXPECT_EQ(dsn_recipients(e, o), (std::vector<size_t>{2}));
}

TEST(Dsn, HeadersOnlyForRetHdrsAndOverTheCap) {
  Envelope e = sample_envelope();
  e.ret = "HDRS";
  auto check_headers_only = [](const std::string& dsn) {
    std::string top;
    auto parts = split_parts(dsn, &top);
    ASSERT_EQ(parts.size(), 3u);
    EXPECT_NE(parts[2].headers.find("text/rfc822-headers"), std::string::npos);
    EXPECT_NE(parts[2].body.find("Subject: hello"), std::string::npos);
    EXPECT_EQ(parts[2].body.find("Body line"), std::string::npos);
  };
  check_headers_only(*make_dsn(e, kMessage, options(DsnAction::kFailed)));
  e.ret = "FULL";
  DsnOptions o = options(DsnAction::kFailed);
  o.return_limit = 20;
  check_headers_only(*make_dsn(e, kMessage, o));
}

TEST(Dsn, BareLineFeedsBecomeCrlf) {
  Envelope e = sample_envelope();
  std::string lf = "Subject: lf\n\nbody\n";
  auto dsn = make_dsn(e, lf, options(DsnAction::kFailed));
  ASSERT_TRUE(dsn);
  EXPECT_NE(dsn->find("Subject: lf\r\n\r\nbody\r\n"), std::string::npos);
  for (size_t i = 0; i < dsn->size(); ++i) {
    if ((*dsn)[i] == '\n') {
      ASSERT_TRUE(i > 0 && (*dsn)[i - 1] == '\r') << "bare LF at " << i;
    }
  }
}

TEST(Dsn, PeerTextCannotInjectFields) {
  Envelope e = sample_envelope();
  e.recipients[0].response = "550 no\r\nX-Injected: yes";
  auto dsn = make_dsn(e, kMessage, options(DsnAction::kFailed));
  ASSERT_TRUE(dsn);
  EXPECT_EQ(dsn->find("\r\nX-Injected"), std::string::npos);
}

TEST(Dsn, LongDiagnosticIsFolded) {
  Envelope e = sample_envelope();
  std::string words;
  for (int i = 0; i < 60; ++i) words += " word" + std::to_string(i);
  e.recipients[0].response = "550 5.7.1" + words;
  auto dsn = make_dsn(e, kMessage, options(DsnAction::kFailed));
  ASSERT_TRUE(dsn);
  size_t start = 0;
  while (start < dsn->size()) {
    size_t end = dsn->find("\r\n", start);
    EXPECT_LE(end - start, 998u);
    start = end + 2;
  }
  std::string top;
  auto groups = status_groups(split_parts(*dsn, &top)[1].body);
  EXPECT_EQ(groups[1]["Diagnostic-Code"], "smtp; 550 5.7.1" + words);
}

TEST(Dsn, EnvelopeGoesFromNullSenderToTheSender) {
  Envelope e = sample_envelope();
  auto dsn = make_dsn(e, kMessage, options(DsnAction::kFailed));
  Envelope out = dsn_envelope(e, *dsn, kNow);
  EXPECT_TRUE(out.null_sender());
  ASSERT_EQ(out.recipients.size(), 1u);
  EXPECT_EQ(out.recipients[0].address, "alice@example.org");
  EXPECT_EQ(out.recipients[0].notify, "NEVER");
  EXPECT_EQ(out.arrival, kNow);
}

TEST(Dsn, OwnDiagnosticsAreNotCalledSmtp) {
  Envelope e = sample_envelope();
  e.recipients[0].response = "connect to mx.remote.test[127.0.0.2]:25: Connection refused";
  auto dsn = make_dsn(e, kMessage, options(DsnAction::kFailed));
  ASSERT_TRUE(dsn);
  std::string top;
  auto groups = status_groups(split_parts(*dsn, &top)[1].body);
  EXPECT_EQ(groups[1]["Diagnostic-Code"], "X-Relay; connect to mx.remote.test[127.0.0.2]:25: Connection refused");
}

TEST(Dsn, Utf8RecipientsGetTheGlobalReportType) {
  Envelope e = sample_envelope();
  e.smtputf8 = true;
  e.recipients[0].address = "b\xc3\xb6" "b@r\xc3\xa9" "mote.test";
  auto dsn = make_dsn(e, kMessage, options(DsnAction::kFailed));
  ASSERT_TRUE(dsn);
  EXPECT_NE(dsn->find("report-type=global-delivery-status"), std::string::npos);
  EXPECT_NE(dsn->find("Content-Type: message/global-delivery-status"), std::string::npos);
  EXPECT_NE(dsn->find("Final-Recipient: utf-8; b\xc3\xb6" "b@r\xc3\xa9" "mote.test"), std::string::npos);
  EXPECT_NE(dsn->find("Content-Transfer-Encoding: 8bit"), std::string::npos);
  EXPECT_EQ(dsn_envelope(e, *dsn, kNow).body, "8BITMIME");

  e.smtputf8 = false;  // without SMTPUTF8 no byte above 127 reaches the report
  dsn = make_dsn(e, kMessage, options(DsnAction::kFailed));
  ASSERT_TRUE(dsn);
  EXPECT_NE(dsn->find("report-type=delivery-status"), std::string::npos);
  EXPECT_NE(dsn->find("Final-Recipient: utf-8; b??b@r??mote.test"), std::string::npos);
}

TEST(Dsn, XtextDecoding) {
  EXPECT_EQ(xtext_decode("a+2Bb+3Dc"), "a+b=c");
  EXPECT_EQ(xtext_decode("plain"), "plain");
  EXPECT_EQ(xtext_decode("bad+zz"), "bad+zz");
  EXPECT_EQ(xtext_decode("end+2"), "end+2");
}

}  // namespace
}  // namespace relay
