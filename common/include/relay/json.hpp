#pragma once
// JSON lines output: one flat or nested object per line, fields in insertion order.
//   relay::JsonObject o;
//   o.add("id", id).add("size", 1234).add("ok", true);
//   std::puts(o.str().c_str());
// For output written in a loop (a listing of 100,000 messages), JsonWriter puts the same text
// straight into one buffer, without an object per level that is built and then copied:
//   relay::JsonWriter w(buffer);
//   w.begin_object().field("id", id).begin_array("list").value("a").end_array().end_object();
// Strings are escaped per RFC 8259; invalid UTF-8 bytes become U+FFFD, so output always parses.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace relay {

std::string json_quote(std::string_view text);
void append_json_quoted(std::string& out, std::string_view text);

class JsonArray;
class JsonWriter;

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
  // A writer that adds fields to this object: code that writes the same fields into a
  // JsonWriter's buffer serves both.
  JsonWriter fields();
  std::string str() const;

 private:
  friend class JsonArray;
  void key(std::string_view k);
  std::string body_;
};

class JsonArray {
 public:
  JsonArray& push(std::string_view value);
  JsonArray& push(int64_t value);
  JsonArray& push(const JsonObject& value);
  std::string str() const;
  bool empty() const { return body_.empty(); }

 private:
  friend class JsonObject;
  void comma();
  std::string body_;
};

// Appends one JSON value to out as it is described: commas and key quoting are its job.
// One writer per top-level value (a JSON line); the caller pairs every begin_ with its end_
// (the writer keeps no stack).
class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  JsonWriter& begin_object();                      // a value: the top level or an array element
  JsonWriter& begin_object(std::string_view key);  // a field of the enclosing object
  JsonWriter& end_object();
  JsonWriter& begin_array(std::string_view key);
  JsonWriter& end_array();
  JsonWriter& field(std::string_view key, std::string_view value);
  JsonWriter& field(std::string_view key, const std::string& value) { return field(key, std::string_view(value)); }
  JsonWriter& field(std::string_view key, const char* value) { return field(key, std::string_view(value)); }
  JsonWriter& field(std::string_view key, int64_t value);
  JsonWriter& field(std::string_view key, int value) { return field(key, static_cast<int64_t>(value)); }
  JsonWriter& field(std::string_view key, uint64_t value);
  JsonWriter& field(std::string_view key, bool value);
  JsonWriter& value(std::string_view value);       // an array element

 private:
  friend class JsonObject;
  JsonWriter(std::string& out, bool first) : out_(out), first_(first) {}
  void separate();                                 // the comma before every element but the first
  void key(std::string_view k);
  JsonWriter& open(char bracket);   // starts a container's elements
  JsonWriter& close(char bracket);  // ends them
  std::string& out_;
  bool first_ = true;
};

}  // namespace relay
