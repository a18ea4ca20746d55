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
