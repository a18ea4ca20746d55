#include <gtest/gtest.h>

#include "relay/spool_tools_listing.hpp"

using namespace relay;

namespace {

Envelope deferred_envelope() {
  Envelope e;
  e.id = "1700000000.000001.42_7.host";
  e.sender = "app\"x\"@example.test";
  e.arrival = 1700000000;
  e.attempts = 2;
  e.defer_reason = "connect";
  e.auth_user = "app";
  e.client_address = "::1";
  Recipient a;
  a.address = "J\xc3\xb6rg@example.test";
  a.state = RecipientState::kDeferred;
  a.status = "4.4.1";
  a.response = "connect to mx[192.0.2.1]:25: refused \xff";
  a.remote = "mx[192.0.2.1]:25";
  a.updated = 1700000100;
  Recipient b;
  b.address = "b@example.test";
  b.state = RecipientState::kSent;
  e.recipients = {a, b};
  return e;
}

SpoolEntry deferred_entry() {
  return SpoolEntry{.id = "1700000000.000001.42_7.host", .stage = Stage::kDeferred, .mtime = 1700000600,
                    .ctime = 1700000001, .size = 1234};
}

}  // namespace

TEST(Listing, JsonLineHasTheDocumentedFieldsInOrder) {
  std::string out;
  listing::append_message_json(out, deferred_entry(), deferred_envelope());
  EXPECT_EQ(out,
            R"({"id":"1700000000.000001.42_7.host","stage":"deferred","origin":"","size":1234,)"
            R"("arrival":1700000000,"sender":"app\"x\"@example.test","attempts":2,"next_attempt":1700000600,)"
            R"("defer_reason":"connect","hold_reason":"","auth_user":"app","client_address":"::1","recipients":[)"
            "{\"address\":\"J\xc3\xb6rg@example.test\",\"state\":\"deferred\",\"status\":\"4.4.1\","
            "\"response\":\"connect to mx[192.0.2.1]:25: refused \xEF\xBF\xBD\",\"remote\":\"mx[192.0.2.1]:25\","
            "\"updated\":1700000100},"
            R"({"address":"b@example.test","state":"sent","status":"","response":"","remote":"","updated":0}]})");
}

TEST(Listing, ObjectAndAppendedLineAreTheSame) {
  std::string out = "earlier line\n";
  listing::append_message_json(out, deferred_entry(), deferred_envelope());
  EXPECT_EQ(out, "earlier line\n" + listing::message_json(deferred_entry(), deferred_envelope()).str());

  SpoolEntry active{.id = "1700000000.000002.42_8.host", .stage = Stage::kActive, .origin = Stage::kOutgoing};
  Envelope empty;
  std::string line;
  listing::append_message_json(line, active, empty);
  EXPECT_EQ(line, listing::message_json(active, empty).str());
  EXPECT_NE(line.find(R"("stage":"active","origin":"outgoing")"), std::string::npos);
  EXPECT_NE(line.find(R"("recipients":[]})"), std::string::npos);
}

TEST(Listing, TextBlockAsMailqShowsIt) {
  std::string out;
  listing::append_message_text(out, deferred_entry(), deferred_envelope());
  EXPECT_EQ(out,
            "1700000000.000001.42_7.host              deferred       1234 2023-11-14T22:13:20Z  <app\"x\"@example.test>\n"
            "    next attempt 2023-11-14T22:23:20Z, 2 attempts (connect)\n"
            "    <J\xc3\xb6rg@example.test> deferred 4.4.1 (connect to mx[192.0.2.1]:25: refused \xff)\n"
            "    <b@example.test> sent\n"
            "\n");

  SpoolEntry active{.id = "1700000000.000002.42_8.host", .stage = Stage::kActive, .origin = Stage::kDeferred,
                    .size = 1234567890};
  Envelope held;
  held.hold_reason = "not shown outside hold/";
  std::string line;
  listing::append_message_text(line, active, held);
  EXPECT_EQ(line, "1700000000.000002.42_8.host              active<deferred 1234567890 1970-01-01T00:00:00Z  <>\n\n");
}

TEST(Listing, AddressPatterns) {
  EXPECT_TRUE(listing::address_matches("User@Example.Test", "user@example.test"));
  EXPECT_TRUE(listing::address_matches("user@sub.example.test", "@SUB.example.test"));
  EXPECT_FALSE(listing::address_matches("user@example.test", "@test"));
  EXPECT_FALSE(listing::address_matches("", "@example.test"));
}

TEST(Listing, StageLists) {
  EXPECT_EQ(listing::parse_stages("deferred,hold"), (std::vector<Stage>{Stage::kDeferred, Stage::kHold}));
  EXPECT_EQ(listing::parse_stages("all").size(), 7u);
  EXPECT_THROW(listing::parse_stages("tmp"), Failure);
  EXPECT_THROW(listing::parse_stages("outgoing,nope"), Failure);
}
