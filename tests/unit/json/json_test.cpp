#include <gtest/gtest.h>

#include "relay/json.hpp"

using namespace relay;

TEST(Json, EscapesEveryControlCharacter) {
  EXPECT_EQ(json_quote(std::string("\b\t\n\f\r\x01\x0b\x1f", 8)), "\"\\b\\t\\n\\f\\r\\u0001\\u000b\\u001f\"");
  EXPECT_EQ(json_quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
}

TEST(Json, InvalidUtf8BecomesReplacementCharacter) {
  EXPECT_EQ(json_quote("ok \xc3\xa9 \xff end"), "\"ok \xc3\xa9 \xEF\xBF\xBD end\"");
  EXPECT_EQ(json_quote("\xe2\x82"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");
}

TEST(Json, ObjectsAndArrays) {
  JsonObject inner;
  inner.add("n", 1);
  JsonObject o;
  o.add("s", "x").add("b", true).add("i", int64_t{-5}).add_null("z").add("o", inner).add(
      "a", std::vector<std::string>{"p", "q"});
  EXPECT_EQ(o.str(), "{\"s\":\"x\",\"b\":true,\"i\":-5,\"z\":null,\"o\":{\"n\":1},\"a\":[\"p\",\"q\"]}");
}

namespace {

// The escaping rules written the plain way, one byte at a time: the oracle for the fast path.
std::string reference_quote(std::string_view text) {
  std::string out = "\"";
  for (size_t i = 0; i < text.size();) {
    unsigned char c = text[i];
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
      ++i;
    } else if (c < 0x20) {
      const char* named = c == '\b' ? "\\b" : c == '\t' ? "\\t" : c == '\n' ? "\\n" : c == '\f' ? "\\f"
                          : c == '\r' ? "\\r" : nullptr;
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += named ? named : buf;
      ++i;
    } else if (c < 0x80) {
      out += static_cast<char>(c);
      ++i;
    } else {
      size_t n = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 && c < 0xF0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
      bool valid = n != 0 && i + n <= text.size();
      for (size_t k = 1; valid && k < n; ++k) valid = (static_cast<unsigned char>(text[i + k]) & 0xC0) == 0x80;
      out += valid ? std::string(text.substr(i, n)) : "\xEF\xBF\xBD";
      i += valid ? n : 1;
    }
  }
  return out + "\"";
}

}  // namespace

TEST(Json, EveryByteAloneAndInsidePlainText) {
  for (int c = 0; c < 256; ++c) {
    std::string alone(1, static_cast<char>(c));
    EXPECT_EQ(json_quote(alone), reference_quote(alone)) << c;
    std::string inside = "abcdefghijk" + alone + "lmnopqrstuvwxyz0123";
    EXPECT_EQ(json_quote(inside), reference_quote(inside)) << c;
  }
}

TEST(Json, RandomTextMatchesTheByteByByteRules) {
  // Biased towards the bytes that need care: quotes, backslashes, controls, UTF-8 leads and continuations.
  const std::string alphabet = std::string("aZ9 \"\\\x01\x1f\x7f\n", 10) + "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xff\x80\xc0";
  uint32_t state = 12345;
  auto next = [&] { return state = state * 1103515245u + 12345u, state >> 8; };
  for (int round = 0; round < 2000; ++round) {
    std::string text;
    size_t size = round < 1900 ? next() % 40 : 4000 + next() % 9000;  // some longer than one piece
    for (size_t i = 0; i < size; ++i) text += alphabet[next() % alphabet.size()];
    ASSERT_EQ(json_quote(text), reference_quote(text)) << round;
  }
}

TEST(Json, LongTextKeepsUtf8SequencesAcrossPieces) {
  // A four-byte sequence, or a run of stray continuation bytes, at every offset around 4096.
  for (size_t at = 4088; at <= 4100; ++at) {
    for (std::string_view insert : {std::string_view("\xf0\x9f\x98\x80"), std::string_view("\x80\x80\x80\x80\x80"),
                                    std::string_view("\xf0\x9f\x98\x80\x80\x80"), std::string_view("\xe2\x82")}) {
      std::string text(at, 'x');
      text += insert;
      text += std::string(5000, 'y');
      ASSERT_EQ(json_quote(text), reference_quote(text)) << at;
    }
  }
}

TEST(Json, WriterWritesWhatObjectsBuild) {
  JsonObject inner;
  inner.add("n", 1).add("t", "a\tb");
  JsonArray list;
  list.push(inner).push(inner);
  JsonObject o;
  o.add("s", "x\"y").add("i", int64_t{-5}).add("u", uint64_t{18446744073709551615u}).add("b", false)
      .add("empty", JsonArray()).add("list", list).add("o", inner);

  std::string out = "prefix ";
  JsonWriter w(out);
  w.begin_object().field("s", "x\"y").field("i", int64_t{-5}).field("u", uint64_t{18446744073709551615u})
      .field("b", false).begin_array("empty").end_array().begin_array("list");
  for (int k = 0; k < 2; ++k) w.begin_object().field("n", 1).field("t", "a\tb").end_object();
  w.end_array().begin_object("o").field("n", 1).field("t", "a\tb").end_object().end_object();
  EXPECT_EQ(out, "prefix " + o.str());
}

TEST(Json, WriterArraysOfStrings) {
  std::string out;
  JsonWriter w(out);
  w.begin_object().begin_array("a").value("p").value("\xff").end_array().field("z", std::string("q")).end_object();
  EXPECT_EQ(out, "{\"a\":[\"p\",\"\xEF\xBF\xBD\"],\"z\":\"q\"}");
}

TEST(Json, FieldsWriterAddsToAnObject) {
  JsonObject o;
  o.add("a", 1);
  JsonWriter w = o.fields();
  w.field("b", "x").begin_array("c").value("y").begin_object().end_object().end_array();
  o.add("d", true);
  EXPECT_EQ(o.str(), R"({"a":1,"b":"x","c":["y",{}],"d":true})");
  JsonObject empty;
  empty.fields().field("only", int64_t{2});
  EXPECT_EQ(empty.str(), R"({"only":2})");
}
