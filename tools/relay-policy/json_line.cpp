// A small RFC 8259 reader for one object a line: enough for bounce-parse's records, strict
// about syntax so a truncated or garbled line is an error rather than a half-read entry.
#include "json_line.hpp"

#include <cctype>
#include <cstdint>
#include <utility>

namespace relay_policy {
namespace {

constexpr int kMaxDepth = 32;

class Reader {
 public:
  explicit Reader(std::string_view text) : text_(text) {}

  bool object(std::map<std::string, JsonScalar>* members, int depth) {
    if (depth > kMaxDepth) return fail("nested too deeply");
    if (!eat('{')) return fail("expected {");
    space();
    if (eat('}')) return true;
    for (;;) {
      std::string key;
      space();
      if (!string(&key)) return false;
      space();
      if (!eat(':')) return fail("expected :");
      space();
      JsonScalar scalar;
      bool is_scalar = false;
      if (!value(&scalar, &is_scalar, depth)) return false;
      if (members && is_scalar) (*members)[key] = std::move(scalar);
      space();
      if (eat('}')) return true;
      if (!eat(',')) return fail("expected , or }");
    }
  }

  bool at_end() {
    space();
    return pos_ == text_.size();
  }
  const std::string& error() const { return error_; }
  bool fail(const std::string& what) {
    if (error_.empty()) error_ = what + " at byte " + std::to_string(pos_ + 1);
    return false;
  }

 private:
  bool value(JsonScalar* out, bool* is_scalar, int depth) {
    if (pos_ >= text_.size()) return fail("unexpected end");
    char c = text_[pos_];
    *is_scalar = true;
    if (c == '"') {
      out->kind = JsonScalar::Kind::kString;
      return string(&out->text);
    }
    if (c == '{') {
      *is_scalar = false;
      return object(nullptr, depth + 1);
    }
    if (c == '[') {
      *is_scalar = false;
      return array(depth + 1);
    }
    for (auto [word, kind] : {std::pair{"true", JsonScalar::Kind::kBool}, std::pair{"false", JsonScalar::Kind::kBool},
                              std::pair{"null", JsonScalar::Kind::kNull}}) {
      std::string_view w(word);
      if (text_.substr(pos_, w.size()) == w) {
        pos_ += w.size();
        out->kind = kind;
        out->text = std::string(w);
        return true;
      }
    }
    size_t start = pos_;
    if (c == '-') ++pos_;
    while (pos_ < text_.size() && (std::isdigit(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '.' ||
                                   text_[pos_] == 'e' || text_[pos_] == 'E' || text_[pos_] == '+' || text_[pos_] == '-'))
      ++pos_;
    if (pos_ == start || (pos_ == start + 1 && c == '-')) return fail("unexpected character");
    out->kind = JsonScalar::Kind::kNumber;
    out->text = std::string(text_.substr(start, pos_ - start));
    return true;
  }

  bool array(int depth) {
    if (depth > kMaxDepth) return fail("nested too deeply");
    eat('[');
    space();
    if (eat(']')) return true;
    for (;;) {
      space();
      JsonScalar ignored;
      bool is_scalar;
      if (!value(&ignored, &is_scalar, depth)) return false;
      space();
      if (eat(']')) return true;
      if (!eat(',')) return fail("expected , or ]");
    }
  }

  bool string(std::string* out) {
    if (!eat('"')) return fail("expected a string");
    while (pos_ < text_.size()) {
      unsigned char c = text_[pos_++];
      if (c == '"') return true;
      if (c < 0x20) return fail("control character in a string");
      if (c != '\\') {
        *out += static_cast<char>(c);
        continue;
      }
      if (pos_ >= text_.size()) break;
      char e = text_[pos_++];
      switch (e) {
        case '"': *out += '"'; break;
        case '\\': *out += '\\'; break;
        case '/': *out += '/'; break;
        case 'b': *out += '\b'; break;
        case 'f': *out += '\f'; break;
        case 'n': *out += '\n'; break;
        case 'r': *out += '\r'; break;
        case 't': *out += '\t'; break;
        case 'u': {
          uint32_t cp;
          if (!hex4(&cp)) return fail("invalid \\u escape");
          if (cp >= 0xD800 && cp < 0xDC00) {
            uint32_t low;
            if (!(eat('\\') && eat('u') && hex4(&low) && low >= 0xDC00 && low < 0xE000))
              return fail("unpaired surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          utf8(cp, out);
          break;
        }
        default: return fail("invalid escape");
      }
    }
    return fail("unterminated string");
  }

  bool hex4(uint32_t* cp) {
    if (pos_ + 4 > text_.size()) return false;
    *cp = 0;
    for (int i = 0; i < 4; ++i) {
      char h = text_[pos_++];
      int digit = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
      if (digit < 0) return false;
      *cp = *cp * 16 + static_cast<uint32_t>(digit);
    }
    return true;
  }

  static void utf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
      *out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      *out += static_cast<char>(0xC0 | (cp >> 6));
      *out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      *out += static_cast<char>(0xE0 | (cp >> 12));
      *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      *out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      *out += static_cast<char>(0xF0 | (cp >> 18));
      *out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      *out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  bool eat(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\r' || text_[pos_] == '\n')) ++pos_;
  }

  std::string_view text_;
  size_t pos_ = 0;
  std::string error_;
};

}  // namespace

std::optional<std::map<std::string, JsonScalar>> parse_json_object(std::string_view line, std::string* error) {
  Reader reader(line);
  std::map<std::string, JsonScalar> members;
  if (!reader.object(&members, 0)) {
    *error = reader.error();
    return std::nullopt;
  }
  if (!reader.at_end()) {
    reader.fail("text after the object");
    *error = reader.error();
    return std::nullopt;
  }
  return members;
}

}  // namespace relay_policy
