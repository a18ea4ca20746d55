#include "relay/address.hpp"

#include <arpa/inet.h>

#include <cctype>
#include <cstring>

#include "relay/headers.hpp"

namespace relay {
namespace {

bool is_atext(unsigned char c) {
  return std::isalnum(c) || std::strchr("!#$%&'*+-/=?^_`{|}~", c) != nullptr;
}

// Length of a valid UTF-8 sequence of non-ASCII at s[i], 0 if invalid.
size_t utf8_sequence(std::string_view s, size_t i) {
  unsigned char c = s[i];
  size_t n = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  return n;
}

// Parses a Dot-string local part; returns its length or 0.
size_t scan_dot_string(std::string_view s, bool utf8, bool& saw_utf8) {
  size_t i = 0;
  bool need_atom = true;
  while (i < s.size() && s[i] != '@') {
    unsigned char c = s[i];
    if (c == '.') {
      if (need_atom) return 0;
      need_atom = true;
      ++i;
    } else if (is_atext(c)) {
      need_atom = false;
      ++i;
    } else if (c >= 0x80 && utf8) {
      size_t n = utf8_sequence(s, i);
      if (n == 0) return 0;
      saw_utf8 = true;
      need_atom = false;
      i += n;
    } else {
      return 0;
    }
  }
  return need_atom ? 0 : i;
}

// Parses a Quoted-string local part; returns its length including the quotes, or 0.
size_t scan_quoted_string(std::string_view s, bool utf8, bool& saw_utf8) {
  if (s.empty() || s[0] != '"') return 0;
  size_t i = 1;
  while (i < s.size()) {
    unsigned char c = s[i];
    if (c == '"') return i + 1;
    if (c == '\\') {
      if (i + 1 >= s.size()) return 0;
      unsigned char q = s[i + 1];
      if (q < 32 || q > 126) return 0;
      i += 2;
    } else if (c >= 32 && c <= 126) {
      ++i;
    } else if (c >= 0x80 && utf8) {
      size_t n = utf8_sequence(s, i);
      if (n == 0) return 0;
      saw_utf8 = true;
      i += n;
    } else {
      return 0;
    }
  }
  return 0;
}

bool valid_literal(std::string_view d) {
  if (d.size() < 3 || d.front() != '[' || d.back() != ']') return false;
  std::string inner(d.substr(1, d.size() - 2));
  unsigned char buf[16];
  if (inet_pton(AF_INET, inner.c_str(), buf) == 1) return true;
  if (inner.size() > 5 && iequals(std::string_view(inner).substr(0, 5), "IPv6:"))
    return inet_pton(AF_INET6, inner.c_str() + 5, buf) == 1;
  // General-address-literal: Standardized-tag ":" 1*dcontent (RFC 5321 4.1.3).
  size_t colon = inner.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == inner.size()) return false;
  for (size_t i = 0; i < colon; ++i)
    if (!std::isalnum(static_cast<unsigned char>(inner[i])) && inner[i] != '-') return false;
  for (size_t i = colon + 1; i < inner.size(); ++i) {
    unsigned char c = inner[i];
    if (c < 33 || c > 126 || c == '[' || c == '\\' || c == ']') return false;
  }
  return true;
}

}  // namespace

std::string Mailbox::domain_lower() const { return to_lower(domain); }

bool is_address_literal(std::string_view domain) { return !domain.empty() && domain.front() == '['; }

bool valid_domain(std::string_view domain, bool allow_utf8) {
  if (domain.empty() || domain.size() > kMaxDomain) return false;
  size_t label = 0;
  for (size_t i = 0; i < domain.size();) {
    unsigned char c = domain[i];
    if (c == '.') {
      if (label == 0 || domain[i - 1] == '-') return false;
      label = 0;
      ++i;
      continue;
    }
    if (c >= 0x80) {
      size_t n = allow_utf8 ? utf8_sequence(domain, i) : 0;
      if (n == 0) return false;
      label += n;
      i += n;
    } else if (std::isalnum(c) || (c == '-' && label > 0)) {
      ++label;
      ++i;
    } else {
      return false;
    }
    if (label > 63) return false;
  }
  return label > 0 && domain.back() != '-';
}

AddressResult parse_mailbox(std::string_view text, bool allow_utf8) {
  Mailbox m;
  bool saw_utf8 = false;
  size_t local_len = !text.empty() && text[0] == '"' ? scan_quoted_string(text, allow_utf8, saw_utf8)
                                                      : scan_dot_string(text, allow_utf8, saw_utf8);
  if (local_len == 0) {
    bool non_ascii = false;
    for (char c : text) non_ascii |= static_cast<unsigned char>(c) >= 0x80;
    return {std::nullopt, non_ascii && !allow_utf8 ? "non-ASCII address without SMTPUTF8" : "invalid local part"};
  }
  if (local_len >= text.size() || text[local_len] != '@') return {std::nullopt, "missing @domain"};
  if (local_len > kMaxLocalPart) return {std::nullopt, "local part longer than 64 octets"};
  m.local_part = std::string(text.substr(0, local_len));
  std::string_view domain = text.substr(local_len + 1);
  if (domain.size() > kMaxDomain) return {std::nullopt, "domain longer than 255 octets"};
  if (is_address_literal(domain)) {
    if (!valid_literal(domain)) return {std::nullopt, "invalid address literal"};
    m.literal = true;
  } else if (!valid_domain(domain, allow_utf8)) {
    return {std::nullopt, "invalid domain"};
  }
  for (char c : domain) saw_utf8 |= static_cast<unsigned char>(c) >= 0x80;
  m.domain = std::string(domain);
  m.utf8 = saw_utf8;
  return {std::move(m), ""};
}

AddressResult parse_path(std::string_view text, bool allow_utf8, bool allow_null) {
  if (text.size() < 2 || text.front() != '<' || text.back() != '>') return {std::nullopt, "address must be in angle brackets"};
  if (text.size() > kMaxPath) return {std::nullopt, "path longer than 256 octets"};
  std::string_view inner = text.substr(1, text.size() - 2);
  if (inner.empty()) {
    if (allow_null) return {std::nullopt, ""};
    return {std::nullopt, "empty address"};
  }
  if (inner.front() == '@') {  // A-d-l source route: ignored (RFC 5321 4.1.1.3, appendix C)
    size_t colon = inner.find(':');
    if (colon == std::string_view::npos) return {std::nullopt, "invalid source route"};
    inner.remove_prefix(colon + 1);
  }
  return parse_mailbox(inner, allow_utf8);
}

std::optional<std::vector<std::string>> parse_address_list(std::string_view value) {
  std::vector<std::string> out;
  std::string current;     // the whole current item, comments removed
  std::string angle;       // what was inside <...>
  bool have_angle = false, in_quote = false, in_angle = false;
  int comment_depth = 0;
  auto finish_item = [&]() -> bool {
    std::string addr;
    if (have_angle) {
      addr = angle;
      if (!addr.empty() && addr.front() == '@') {
        size_t colon = addr.find(':');
        if (colon == std::string::npos) return false;
        addr.erase(0, colon + 1);
      }
    } else {
      addr = current;
    }
    // Drop whitespace outside quoted strings (obsolete "a @ b" spacing).
    std::string compact;
    bool q = false;
    for (size_t i = 0; i < addr.size(); ++i) {
      char c = addr[i];
      if (c == '\\' && q && i + 1 < addr.size()) {
        compact += c;
        compact += addr[++i];
        continue;
      }
      if (c == '"') q = !q;
      if (!q && (c == ' ' || c == '\t' || c == '\r' || c == '\n')) continue;
      compact += c;
    }
    if (!compact.empty()) out.push_back(compact);
    current.clear();
    angle.clear();
    have_angle = false;
    return true;
  };
  for (size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    if (comment_depth > 0) {
      if (c == '\\') ++i;
      else if (c == '(') ++comment_depth;
      else if (c == ')') --comment_depth;
      continue;
    }
    if (in_quote) {
      (in_angle ? angle : current) += c;
      if (c == '\\' && i + 1 < value.size()) (in_angle ? angle : current) += value[++i];
      else if (c == '"') in_quote = false;
      continue;
    }
    switch (c) {
      case '"':
        in_quote = true;
        (in_angle ? angle : current) += c;
        break;
      case '(':
        comment_depth = 1;
        current += ' ';
        break;
      case '<':
        if (in_angle) return std::nullopt;
        in_angle = true;
        have_angle = true;
        angle.clear();
        break;
      case '>':
        if (!in_angle) return std::nullopt;
        in_angle = false;
        break;
      case ':':
        if (in_angle) angle += c;
        else current.clear();  // a group's display name: its members follow
        break;
      case ';':
      case ',':
        if (in_angle) {
          angle += c;
          break;
        }
        if (!finish_item()) return std::nullopt;
        break;
      default:
        (in_angle ? angle : current) += c;
    }
  }
  if (in_quote || in_angle || comment_depth > 0) return std::nullopt;
  if (!finish_item()) return std::nullopt;
  return out;
}

std::string domain_of(std::string_view address) {
  size_t at = address.rfind('@');
  if (at == std::string_view::npos) return "";
  return to_lower(address.substr(at + 1));
}

}  // namespace relay
