// The two MIME transfer encodings, decoded leniently (see mime.hpp).
#include "relay/mime.hpp"

namespace relay::mime {
namespace {

int base64_value(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

int hex_value(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

bool is_blank(char c) { return c == ' ' || c == '\t'; }

}  // namespace

std::string decode_base64(std::string_view text) {
  std::string out;
  out.reserve(text.size() / 4 * 3);
  uint32_t group = 0;
  int bits = 0;
  for (unsigned char c : text) {
    if (c == '=') break;
    int v = base64_value(c);
    if (v < 0) continue;
    group = (group << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((group >> bits) & 0xFF);
    }
  }
  return out;
}

std::string decode_quoted_printable(std::string_view text, bool header_q) {
  std::string out;
  out.reserve(text.size());
  size_t pending_blanks = 0;  // trailing whitespace is kept only when more text follows on the line
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (is_blank(c) && !header_q) {
      ++pending_blanks;
      continue;
    }
    bool line_end = c == '\n' || (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n');
    if (!line_end) out.append(text.substr(i - pending_blanks, pending_blanks));
    pending_blanks = 0;
    if (c == '=') {
      size_t j = i + 1;
      while (j < text.size() && is_blank(text[j])) ++j;  // "=  \r\n" is still a soft break
      if (j < text.size() && (text[j] == '\n' || text[j] == '\r')) {
        if (text[j] == '\r' && j + 1 < text.size() && text[j + 1] == '\n') ++j;
        i = j;
        continue;
      }
      if (j == text.size()) break;  // "=" at the very end: a soft break with nothing after
      int hi = i + 1 < text.size() ? hex_value(text[i + 1]) : -1;
      int lo = i + 2 < text.size() ? hex_value(text[i + 2]) : -1;
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
      } else {
        out += '=';
      }
    } else if (c == '_' && header_q) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace relay::mime
