// Malformed input never crashes the parser: every corpus sample, cut short at many points and
// with bytes flipped, and hostile shapes (deep nesting, thousands of parts or recipients).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "relay/bounce.hpp"

namespace {

const std::filesystem::path kCorpus =
    std::filesystem::path(__FILE__).parent_path() / ".." / ".." / "integration" / "bounce-parse" / "corpus";

std::vector<std::string> samples() {
  std::vector<std::string> out;
  for (const auto& entry : std::filesystem::directory_iterator(kCorpus)) {
    if (entry.path().extension() != ".eml") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    out.push_back(text.str());
  }
  return out;
}

void check(std::string_view message) {
  relay::bounce::Report report = relay::bounce::parse(message);
  for (const auto& r : report.recipients) {
    EXPECT_FALSE(r.address.empty());
    EXPECT_FALSE(relay::bounce::to_string(r.reason).empty());
  }
}

}  // namespace

TEST(Robustness, CorpusIsThere) { EXPECT_GE(samples().size(), 30u); }

TEST(Robustness, TruncatedSamples) {
  for (const std::string& sample : samples())
    for (size_t cut = 0; cut < sample.size(); cut += 1 + sample.size() / 97) check(std::string_view(sample).substr(0, cut));
}

TEST(Robustness, MutatedSamples) {
  std::mt19937 random(20260329);
  const char kSpecial[] = {'\0', '\n', '\r', '-', ':', ';', '=', '?', '"', '<', '>', '@', '\xFF', ' '};
  for (const std::string& sample : samples()) {
    for (int round = 0; round < 60; ++round) {
      std::string mutated = sample;
      int edits = 1 + static_cast<int>(random() % 16);
      for (int e = 0; e < edits && !mutated.empty(); ++e) {
        size_t at = random() % mutated.size();
        switch (random() % 4) {
          case 0: mutated[at] = kSpecial[random() % sizeof kSpecial]; break;
          case 1: mutated.erase(at, random() % 64); break;
          case 2: mutated.insert(at, mutated.substr(random() % mutated.size(), random() % 256)); break;
          default: mutated[at] = static_cast<char>(random()); break;
        }
      }
      check(mutated);
    }
  }
}

TEST(Robustness, DeepNestingStaysBounded) {
  std::string nested;
  for (int i = 0; i < 5000; ++i)
    nested += "Content-Type: multipart/report; report-type=delivery-status; boundary=b" + std::to_string(i) + "\n\n--b" +
              std::to_string(i) + "\n";
  nested += "Content-Type: message/delivery-status\n\nFinal-Recipient: rfc822; a@b.example\nAction: failed\n";
  check(nested);
  std::string messages;
  for (int i = 0; i < 5000; ++i) messages += "Content-Type: message/rfc822\n\n";
  check(messages);
}

TEST(Robustness, ManyRecipientsAreCapped) {
  std::string dsn =
      "Content-Type: multipart/report; report-type=delivery-status; boundary=x\n\n--x\n"
      "Content-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example\n";
  for (int i = 0; i < 5000; ++i)
    dsn += "\nFinal-Recipient: rfc822; user" + std::to_string(i) + "@example.com\nAction: failed\nStatus: 5.1.1\n";
  dsn += "--x--\n";
  relay::bounce::Report report = relay::bounce::parse(dsn);
  EXPECT_EQ(report.kind, relay::bounce::Kind::kBounce);
  EXPECT_EQ(report.recipients.size(), 1000u);
}

TEST(Robustness, LongLinesAndBinary) {
  std::string text = "From: MAILER-DAEMON@x.example\nSubject: Undelivered\nX-Failed-Recipients: " +
                     std::string(1 << 20, 'a') + "@b\n\n" + std::string(1 << 20, '\xFF');
  check(text);
  check(std::string(1 << 16, '\0'));
  check("=?utf-8?B?" + std::string(100000, 'A') + "?=");
}
