#pragma once
// JSON lines output: one flat or nested object per line, fields in insertion order.
//   relay::JsonObject o;
//   o.add("id", id).add("size", 1234).add("ok", true);
//   std::puts(o.str().c_str());
// Strings are escaped per RFC 8259; invalid UTF-8 bytes become U+FFFD, so output always parses.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace relay {

std::string json_quote(std::string_view text);
void append_json_quoted(std::string& out, std::string_view text);

class JsonArray;

class JsonObject {
 public:
  JsonObject& add(std::string_view key, std::string_view value);
  JsonObject& add(std::string_view key, const std::string& value) { return add(key, std::string_view(value)); }
  JsonObject& add(std::string_view key, const char* value) { return add(key, std::string_view(value)); }
  JsonObject& add(std::string_view key, int64_t value);
  JsonObject& add(std::string_view key, int value) { return add(key, static_cast<int64_t>(value)); }
  JsonObject& add(std::string_view key, uint64_t value);
  JsonObject& add(std::string_view key, double value);
  JsonObject& add(std::string_view key, bool value);
  JsonObject& add_null(std::string_view key);
  JsonObject& add(std::string_view key, const JsonObject& value);
  JsonObject& add(std::string_view key, const JsonArray& value);
  JsonObject& add(std::string_view key, const std::vector<std::string>& values);
  std::string str() const { return "{" + body_ + "}"; }

 private:
  void key(std::string_view k);
  std::string body_;
};

class JsonArray {
 public:
  JsonArray& push(std::string_view value);
  JsonArray& push(int64_t value);
  JsonArray& push(const JsonObject& value);
  std::string str() const { return "[" + body_ + "]"; }
  bool empty() const { return body_.empty(); }

 private:
  void comma();
  std::string body_;
};

}  // namespace relay
