// Content-Type values (RFC 2045 5.1) with RFC 2231 parameter continuations and charsets.
#include <algorithm>
#include <map>

#include "relay/mime.hpp"

namespace relay::mime {
namespace {

constexpr size_t kMaxParams = 64;
constexpr std::string_view kTspecials = "()<>@,;:\\\"/[]?=";

class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}

  bool done() { skip_space(); return pos_ >= text_.size(); }
  bool take(char c) {
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  std::string token() {
    skip_space();
    size_t start = pos_;
    while (pos_ < text_.size() && static_cast<unsigned char>(text_[pos_]) > ' ' &&
           kTspecials.find(text_[pos_]) == std::string_view::npos)
      ++pos_;
    return std::string(text_.substr(start, pos_ - start));
  }
  std::string quoted() {
    std::string out;
    ++pos_;  // the opening quote
    while (pos_ < text_.size() && text_[pos_] != '"') {
      if (text_[pos_] == '\\' && pos_ + 1 < text_.size()) ++pos_;
      out += text_[pos_++];
    }
    if (pos_ < text_.size()) ++pos_;
    return out;
  }
  // A value: a quoted string, or (leniently, as boundaries are often written) anything up to
  // ';' or whitespace.
  std::string value() {
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == '"') return quoted();
    size_t start = pos_;
    while (pos_ < text_.size() && text_[pos_] != ';' && text_[pos_] != ' ' && text_[pos_] != '\t' &&
           text_[pos_] != '\r' && text_[pos_] != '\n')
      ++pos_;
    return std::string(text_.substr(start, pos_ - start));
  }
  void skip_to_semicolon() {
    while (pos_ < text_.size() && text_[pos_] != ';') ++pos_;
  }

 private:
  void skip_space() {
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
        ++pos_;
      } else if (c == '(') {  // comments nest
        int depth = 0;
        do {
          if (text_[pos_] == '\\') ++pos_;
          else if (text_[pos_] == '(') ++depth;
          else if (text_[pos_] == ')') --depth;
          ++pos_;
        } while (pos_ < text_.size() && depth > 0);
        pos_ = std::min(pos_, text_.size());
      } else {
        break;
      }
    }
  }

  std::string_view text_;
  size_t pos_ = 0;
};

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = static_cast<char>(c | 0x20);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::string percent_decode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    int hi = text[i] == '%' && i + 2 < text.size() ? hex_digit(text[i + 1]) : -1;
    int lo = hi >= 0 ? hex_digit(text[i + 2]) : -1;
    if (lo >= 0) {
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

// "charset'language'text" -> text as UTF-8.
std::string extended_value(std::string_view value) {
  size_t first = value.find('\'');
  size_t second = first == std::string_view::npos ? first : value.find('\'', first + 1);
  if (second == std::string_view::npos) return percent_decode(value);
  return to_utf8(percent_decode(value.substr(second + 1)), value.substr(0, first));
}

struct Segment {
  std::string value;
  bool extended = false;
};

}  // namespace

std::string ContentType::param(std::string_view name) const {
  for (const auto& [key, value] : params)
    if (key == name) return value;
  return "";
}

bool ContentType::is(std::string_view type_name, std::string_view subtype_name) const {
  return type == type_name && subtype == subtype_name;
}

ContentType parse_content_type(std::string_view value) {
  ContentType result;
  Scanner scan(value);
  std::string type = to_lower(scan.token());
  if (type.empty() || !scan.take('/')) return result;
  std::string subtype = to_lower(scan.token());
  if (subtype.empty()) return result;
  result.type = std::move(type);
  result.subtype = std::move(subtype);

  // name -> (section -> segment); section -1 is a parameter without continuations.
  std::vector<std::pair<std::string, std::map<int, Segment>>> collected;
  while (collected.size() < kMaxParams && !scan.done()) {
    if (!scan.take(';')) {
      scan.skip_to_semicolon();
      continue;
    }
    std::string name = to_lower(scan.token());
    if (name.empty() || !scan.take('=')) {
      scan.skip_to_semicolon();
      continue;
    }
    std::string raw = scan.value();
    Segment segment{raw, false};
    if (!name.empty() && name.back() == '*') {
      name.pop_back();
      segment.extended = true;
    }
    int section = -1;
    size_t star = name.rfind('*');
    if (star != std::string::npos && star + 1 < name.size() &&
        std::all_of(name.begin() + static_cast<long>(star) + 1, name.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
        name.size() - star <= 4) {
      section = std::stoi(name.substr(star + 1));
      name.resize(star);
    }
    auto it = std::find_if(collected.begin(), collected.end(), [&](const auto& p) { return p.first == name; });
    if (it == collected.end()) {
      collected.emplace_back(name, std::map<int, Segment>{});
      it = std::prev(collected.end());
    }
    it->second.emplace(section, std::move(segment));
  }

  for (auto& [name, segments] : collected) {
    std::string joined;
    if (segments.count(-1) != 0 && segments.size() == 1) {
      const Segment& only = segments.at(-1);
      joined = only.extended ? extended_value(only.value) : only.value;
    } else {
      // Continuations: the first extended section names the charset for the whole value.
      std::string charset;
      std::string bytes;
      for (auto& [section, segment] : segments) {
        if (section < 0) continue;
        if (!segment.extended) {
          bytes += segment.value;
          continue;
        }
        std::string_view v = segment.value;
        if (section == 0) {
          size_t first = v.find('\'');
          size_t second = first == std::string_view::npos ? first : v.find('\'', first + 1);
          if (second != std::string_view::npos) {
            charset = std::string(v.substr(0, first));
            v.remove_prefix(second + 1);
          }
        }
        bytes += percent_decode(v);
      }
      joined = to_utf8(bytes, charset);
    }
    result.params.emplace_back(name, std::move(joined));
  }
  return result;
}

}  // namespace relay::mime
