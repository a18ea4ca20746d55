// Unit tests of smtp-listen's protocol pieces, linked from the program's parts library.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "address_list.hpp"
#include "command.hpp"
#include "data_reader.hpp"
#include "message_builder.hpp"

namespace smtp_listen {
namespace {

struct Read {
  std::string message;
  bool done = false;
  DataFault fault = DataFault::kNone;
  size_t used = 0;
};

// Feeds input to a DataReader in pieces of at most step bytes, as a session would with its
// buffer: unconsumed bytes stay and more are appended.
Read read_data(std::string_view input, size_t step, BareNewline mode = BareNewline::kNormalize, size_t max_line = 1000) {
  Read result;
  DataReader reader(max_line, mode, [&](std::string_view line) {
    result.message.append(line);
    result.message.append("\r\n");
  });
  std::string buffer;
  size_t fed = 0;
  while (!reader.done() && fed < input.size()) {
    size_t n = std::min(step, input.size() - fed);
    buffer.append(input.substr(fed, n));
    fed += n;
    size_t used = reader.consume(buffer);
    result.used += used;
    buffer.erase(0, used);
  }
  result.done = reader.done();
  result.fault = reader.fault();
  return result;
}

TEST(DataReader, EndsOnlyAtCrLfDotCrLfWhateverTheChunking) {
  const std::string input = "Subject: x\r\n\r\na\n.\nb\r\n.\nc\n.\r\n..d\r\n.\r\nMAIL FROM:<evil@x>\r\n";
  const std::string end_at = "\r\n.\r\n";
  size_t end = input.find(".\r\nMAIL");
  for (size_t step = 1; step <= input.size(); ++step) {
    Read r = read_data(input, step);
    ASSERT_TRUE(r.done) << step;
    EXPECT_EQ(r.used, end + 3) << step;  // nothing after the real end was taken
    EXPECT_EQ(r.message, "Subject: x\r\n\r\na\r\n.\r\nb\r\n.\r\nc\r\n.\r\n.d\r\n") << step;
    EXPECT_EQ(r.fault, DataFault::kNone);
  }
}

TEST(DataReader, BareCrAndNulAreFaultsButReadToTheEnd) {
  for (std::string body : {std::string("a\r.\rb\r\n"), std::string("a\rb\r\n"), std::string("a\0b\r\n", 5)}) {
    Read r = read_data(body + ".\r\nQUIT\r\n", 3);
    EXPECT_TRUE(r.done);
    EXPECT_NE(r.fault, DataFault::kNone);
    EXPECT_EQ(r.used, body.size() + 3);
  }
}

TEST(DataReader, RejectModeRefusesBareLf) {
  Read r = read_data("a\n.\n\r\n.\r\n", 100, BareNewline::kReject);
  EXPECT_TRUE(r.done);
  EXPECT_EQ(r.fault, DataFault::kBareLf);
}

TEST(DataReader, LongLineIsSkippedWithoutBuffering) {
  std::string input = std::string(5000, 'x') + "\r\n.\r\n";
  for (size_t step : {1, 7, 999, 5000}) {
    Read r = read_data(input, step, BareNewline::kNormalize, 100);
    EXPECT_TRUE(r.done) << step;
    EXPECT_EQ(r.fault, DataFault::kLineTooLong);
  }
  // the limit counts the CRLF
  EXPECT_EQ(read_data(std::string(98, 'y') + "\r\n.\r\n", 10, BareNewline::kNormalize, 100).fault, DataFault::kNone);
  EXPECT_EQ(read_data(std::string(99, 'y') + "\r\n.\r\n", 10, BareNewline::kNormalize, 100).fault,
            DataFault::kLineTooLong);
}

TEST(BdatReader, KeepsDotsAndJoinsLinesAcrossChunks) {
  std::string out;
  BdatReader reader(1000, BareNewline::kNormalize, [&](std::string_view line) {
    out.append(line);
    out.append("\r\n");
  });
  reader.consume("a\r\n.b\r");
  reader.consume("\nc\nlast");
  reader.finish();
  EXPECT_EQ(out, "a\r\n.b\r\nc\r\nlast\r\n");
  EXPECT_EQ(reader.fault(), DataFault::kNone);
}

TEST(MessageBuilder, AddsMissingDateAndMessageIdAtTheHeaderEnd) {
  std::string out;
  MessageOptions options{"Received: x\r\n", true, "DATE", "<ID@h>", 0};
  MessageBuilder builder(options, [&](std::string_view bytes) { out.append(bytes); });
  for (std::string_view line : {"From: a@example.org", "Subject: folded", " more", "", "Date: in the body"})
    builder.line(line);
  builder.finish();
  EXPECT_EQ(out,
            "Received: x\r\nFrom: a@example.org\r\nSubject: folded\r\n more\r\nDate: DATE\r\nMessage-ID: <ID@h>\r\n\r\n"
            "Date: in the body\r\n");
  EXPECT_EQ(builder.from_value(), " a@example.org");
}

TEST(MessageBuilder, KeepsPresentFieldsAndStopsWhenTooBig) {
  std::string out;
  MessageBuilder builder({"", true, "DATE", "<ID>", 0}, [&](std::string_view bytes) { out.append(bytes); });
  builder.line("date: x");
  builder.line("MESSAGE-ID: <y>");
  builder.line("");
  builder.finish();
  EXPECT_EQ(out, "date: x\r\nMESSAGE-ID: <y>\r\n\r\n");
  MessageBuilder small({"", false, "", "", 10}, [&](std::string_view) { FAIL(); });
  small.line("0123456789");
  small.finish();
  EXPECT_TRUE(small.too_big());
  EXPECT_EQ(small.size(), 12u);
}

TEST(Command, PathArgumentsAndParameters) {
  auto mail = parse_path_argument("from: <\"a>b\"@example.org> size=10 SMTPUTF8", "FROM:");
  ASSERT_TRUE(mail);
  EXPECT_EQ(mail->path, "<\"a>b\"@example.org>");
  ASSERT_EQ(mail->params.size(), 2u);
  EXPECT_EQ(mail->params[0], (std::pair<std::string, std::string>{"SIZE", "10"}));
  EXPECT_EQ(mail->params[1].first, "SMTPUTF8");
  EXPECT_FALSE(parse_path_argument("TO:b@example.org", "TO:"));
  EXPECT_FALSE(parse_path_argument("TO:<b@example.org>x", "TO:"));
  EXPECT_EQ(parse_command("mail FROM:<a>  ").verb, "MAIL");
}

TEST(Command, DsnValues) {
  EXPECT_TRUE(valid_xtext("abc+2B+3D"));
  EXPECT_FALSE(valid_xtext("a=b"));
  EXPECT_FALSE(valid_xtext("a+2"));
  EXPECT_FALSE(valid_xtext("a+zz"));
  EXPECT_TRUE(valid_orcpt("rfc822;a+40b", false));
  EXPECT_FALSE(valid_orcpt(";a", false));
  EXPECT_EQ(normalize_notify("success,Delay"), "SUCCESS,DELAY");
  EXPECT_FALSE(normalize_notify("NEVER,SUCCESS"));
  EXPECT_FALSE(normalize_notify("SUCCESS,SUCCESS"));
}

TEST(CidrList, MatchesV4V6AndMapped) {
  CidrList list;
  ASSERT_TRUE(list.add("192.0.2.0/25"));
  ASSERT_TRUE(list.add("2001:db8::/32"));
  ASSERT_TRUE(list.add("198.51.100.7"));
  EXPECT_FALSE(list.add("192.0.2.0/33"));
  EXPECT_FALSE(list.add("example.org"));
  EXPECT_TRUE(list.contains("192.0.2.127"));
  EXPECT_FALSE(list.contains("192.0.2.128"));
  EXPECT_TRUE(list.contains("::ffff:192.0.2.1"));
  EXPECT_TRUE(list.contains("2001:db8:ffff::1"));
  EXPECT_FALSE(list.contains("2001:db9::1"));
  EXPECT_TRUE(list.contains("198.51.100.7"));
  EXPECT_FALSE(list.contains("198.51.100.8"));
  socklen_t length = 0;
  EXPECT_TRUE(parse_listen_address("[::1]:25", &length));
  EXPECT_TRUE(parse_listen_address("*:587", &length));
  EXPECT_FALSE(parse_listen_address("127.0.0.1:65536", &length));
  EXPECT_FALSE(parse_listen_address("localhost:25", &length));
}

}  // namespace
}  // namespace smtp_listen
