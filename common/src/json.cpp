#include "relay/json.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace relay {
namespace {

// Bytes that go over as they are: printable ASCII but the quote and the backslash.
constexpr std::array<bool, 256> kPlain = [] {
  std::array<bool, 256> plain{};
  for (int c = 0x20; c < 0x80; ++c) plain[c] = c != '"' && c != '\\';
  return plain;
}();

// The most one input byte can become: a control character is written \u00XX.
constexpr size_t kMaxEscapedByte = 6;
// Long text is escaped in pieces of this size, so the room set aside for the worst case stays small.
constexpr size_t kPiece = 4096;

// True when none of the eight bytes of word needs escaping (SWAR: a control character,
// the quote, the backslash or a byte of 0x80 and above sets the top bit of its byte).
bool all_plain(uint64_t word) {
  constexpr uint64_t kOnes = 0x0101010101010101, kTops = 0x8080808080808080;
  auto has_zero = [&](uint64_t x) { return (x - kOnes) & ~x & kTops; };
  uint64_t special = ((word - kOnes * 0x20) & ~word) | has_zero(word ^ (kOnes * '"')) |
                     has_zero(word ^ (kOnes * '\\')) | word;
  return (special & kTops) == 0;
}

// Writes text escaped (without quotes) at p, which has room for kMaxEscapedByte bytes per
// byte of text, and returns the end. Invalid UTF-8 bytes become U+FFFD.
char* write_escaped(char* p, std::string_view text) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  const size_t size = text.size();
  size_t i = 0;
  while (i < size) {
    // Plain printable ASCII goes over eight bytes at a time: most text is nothing else.
    for (uint64_t word; i + 8 <= size && (std::memcpy(&word, bytes + i, 8), all_plain(word)); i += 8, p += 8)
      std::memcpy(p, &word, 8);
    while (i < size && kPlain[bytes[i]]) *p++ = static_cast<char>(bytes[i++]);
    if (i == size) break;
    unsigned char c = bytes[i];
    if (c == '"' || c == '\\') {
      *p++ = '\\';
      *p++ = static_cast<char>(c);
      ++i;
    } else if (c < 0x20) {
      static constexpr char kShort[] = "btn_fr";  // \b \t \n \f \r have one-letter escapes
      *p++ = '\\';
      if (c >= '\b' && c <= '\r' && c != '\v') {
        *p++ = kShort[c - '\b'];
      } else {
        static constexpr char kHex[] = "0123456789abcdef";
        *p++ = 'u';
        *p++ = '0';
        *p++ = '0';
        *p++ = kHex[c >> 4];
        *p++ = kHex[c & 0xF];
      }
      ++i;
    } else {
      size_t n = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 && c < 0xF0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
      bool valid = n != 0 && i + n <= size;
      for (size_t k = 1; valid && k < n; ++k) valid = (bytes[i + k] & 0xC0) == 0x80;
      if (valid) {
        std::memcpy(p, bytes + i, n);
        p += n;
        i += n;
      } else {
        std::memcpy(p, "\xEF\xBF\xBD", 3);
        p += 3;
        ++i;
      }
    }
  }
  return p;
}

// Appends what write(p) writes into room bytes set aside at the end of out (write returns its end).
template <class Write>
void append_within(std::string& out, size_t room, Write write) {
  size_t old = out.size();
  out.resize(old + room);
  char* end = write(out.data() + old);
  out.resize(static_cast<size_t>(end - out.data()));
}

// The key of a field, quoted, with the comma before it unless it comes first, and the colon.
void append_key(std::string& out, std::string_view key, bool comma) {
  append_within(out, 4 + kMaxEscapedByte * key.size(), [&](char* p) {
    if (comma) *p++ = ',';
    *p++ = '"';
    p = write_escaped(p, key);
    *p++ = '"';
    *p++ = ':';
    return p;
  });
}

// An object's or an array's members between their brackets.
void append_enclosed(std::string& out, char open, std::string_view members, char close) {
  out += open;
  out += members;
  out += close;
}

std::string enclosed(char open, std::string_view members, char close) {
  std::string out;
  out.reserve(members.size() + 2);
  append_enclosed(out, open, members, close);
  return out;
}

template <class Integer>
void append_integer(std::string& out, Integer value) {
  append_within(out, 24, [&](char* p) { return std::to_chars(p, p + 24, value).ptr; });
}

}  // namespace

void append_json_quoted(std::string& out, std::string_view text) {
  bool first = true;
  do {
    size_t take = text.size();
    if (take > kPiece) {
      // Cut where no UTF-8 sequence can cross: before a byte that continues none, or after
      // three continuation bytes in a row (no sequence has more). Escaped in pieces, the text
      // reads the same as in one.
      take = kPiece;
      for (size_t back = 0; back <= 3; ++back) {
        if ((static_cast<unsigned char>(text[kPiece - back]) & 0xC0) != 0x80) {
          take = kPiece - back;
          break;
        }
      }
    }
    append_within(out, 2 + kMaxEscapedByte * take, [&](char* p) {
      if (first) *p++ = '"';
      p = write_escaped(p, text.substr(0, take));
      if (take == text.size()) *p++ = '"';
      return p;
    });
    text.remove_prefix(take);
    first = false;
  } while (!text.empty());
}

std::string json_quote(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  append_json_quoted(out, text);
  return out;
}

std::string JsonObject::str() const { return enclosed('{', body_, '}'); }

void JsonObject::key(std::string_view k) { append_key(body_, k, !body_.empty()); }

// String, integer and boolean fields are JsonWriter's: one writer of fields serves both classes.
JsonObject& JsonObject::add(std::string_view k, std::string_view value) {
  fields().field(k, value);
  return *this;
}

JsonObject& JsonObject::add(std::string_view k, int64_t value) {
  fields().field(k, value);
  return *this;
}

JsonObject& JsonObject::add(std::string_view k, uint64_t value) {
  fields().field(k, value);
  return *this;
}

JsonObject& JsonObject::add(std::string_view k, double value) {
  key(k);
  if (!std::isfinite(value)) {
    body_ += "null";
    return *this;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", value);
  body_ += buf;
  return *this;
}

JsonObject& JsonObject::add(std::string_view k, bool value) {
  fields().field(k, value);
  return *this;
}

JsonObject& JsonObject::add_null(std::string_view k) {
  key(k);
  body_ += "null";
  return *this;
}

JsonObject& JsonObject::add(std::string_view k, const JsonObject& value) {
  key(k);
  append_enclosed(body_, '{', value.body_, '}');
  return *this;
}

JsonObject& JsonObject::add(std::string_view k, const JsonArray& value) {
  key(k);
  append_enclosed(body_, '[', value.body_, ']');
  return *this;
}

JsonObject& JsonObject::add(std::string_view k, const std::vector<std::string>& values) {
  JsonArray array;
  for (const auto& v : values) array.push(v);
  return add(k, array);
}

JsonWriter JsonObject::fields() { return JsonWriter(body_, body_.empty()); }

std::string JsonArray::str() const { return enclosed('[', body_, ']'); }

void JsonArray::comma() {
  if (!body_.empty()) body_ += ',';
}

JsonArray& JsonArray::push(std::string_view value) {
  comma();
  append_json_quoted(body_, value);
  return *this;
}

JsonArray& JsonArray::push(int64_t value) {
  comma();
  append_integer(body_, value);
  return *this;
}

JsonArray& JsonArray::push(const JsonObject& value) {
  comma();
  append_enclosed(body_, '{', value.body_, '}');
  return *this;
}

void JsonWriter::separate() {
  if (!first_) out_ += ',';
  first_ = false;
}

void JsonWriter::key(std::string_view k) {
  append_key(out_, k, !first_);
  first_ = false;
}

JsonWriter& JsonWriter::open(char bracket) {
  out_ += bracket;
  first_ = true;  // the first element of the new container
  return *this;
}

JsonWriter& JsonWriter::close(char bracket) {
  out_ += bracket;
  first_ = false;  // back in the enclosing container, after the element just closed
  return *this;
}

JsonWriter& JsonWriter::begin_object() {
  separate();
  return open('{');
}

JsonWriter& JsonWriter::begin_object(std::string_view k) {
  key(k);
  return open('{');
}

JsonWriter& JsonWriter::end_object() { return close('}'); }

JsonWriter& JsonWriter::begin_array(std::string_view k) {
  key(k);
  return open('[');
}

JsonWriter& JsonWriter::end_array() { return close(']'); }

JsonWriter& JsonWriter::field(std::string_view k, std::string_view value) {
  key(k);
  append_json_quoted(out_, value);
  return *this;
}

JsonWriter& JsonWriter::field(std::string_view k, int64_t value) {
  key(k);
  append_integer(out_, value);
  return *this;
}

JsonWriter& JsonWriter::field(std::string_view k, uint64_t value) {
  key(k);
  append_integer(out_, value);
  return *this;
}

JsonWriter& JsonWriter::field(std::string_view k, bool value) {
  key(k);
  out_ += value ? "true" : "false";
  return *this;
}

JsonWriter& JsonWriter::value(std::string_view text) {
  separate();
  append_json_quoted(out_, text);
  return *this;
}

}  // namespace relay
