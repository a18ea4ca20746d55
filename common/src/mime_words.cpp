// RFC 2047 encoded words in header field values: "=?charset?B?...?=" and "=?charset?Q?...?=".
#include "relay/mime.hpp"

namespace relay::mime {
namespace {

struct EncodedWord {
  size_t length = 0;  // bytes of the whole word, 0 when none starts here
  std::string text;   // decoded, UTF-8
};

// The encoded word starting at value[pos], if one does.
EncodedWord read_word(std::string_view value, size_t pos) {
  if (value.substr(pos, 2) != "=?") return {};
  size_t charset_end = value.find('?', pos + 2);
  if (charset_end == std::string_view::npos || charset_end + 2 >= value.size() || value[charset_end + 2] != '?')
    return {};
  char encoding = value[charset_end + 1];
  size_t text_start = charset_end + 3;
  size_t end = value.find("?=", text_start);
  if (end == std::string_view::npos) return {};
  std::string_view charset = value.substr(pos + 2, charset_end - pos - 2);
  std::string_view encoded = value.substr(text_start, end - text_start);
  if (charset.empty() || encoded.find_first_of(" \t") != std::string_view::npos) return {};
  std::string bytes;
  if (encoding == 'B' || encoding == 'b')
    bytes = decode_base64(encoded);
  else if (encoding == 'Q' || encoding == 'q')
    bytes = decode_quoted_printable(encoded, true);
  else
    return {};
  return {end + 2 - pos, to_utf8(bytes, charset)};
}

}  // namespace

std::string decode_header(std::string_view value) {
  std::string out;
  std::string_view plain;  // text since the last encoded word, held back in case it is only space
  bool after_word = false;
  size_t plain_start = 0;
  for (size_t i = 0; i < value.size();) {
    EncodedWord word = value[i] == '=' ? read_word(value, i) : EncodedWord{};
    if (word.length == 0) {
      ++i;
      continue;
    }
    plain = value.substr(plain_start, i - plain_start);
    bool only_space = plain.find_first_not_of(" \t\r\n") == std::string_view::npos;
    if (!(after_word && only_space)) out += to_utf8(plain, "utf-8");
    out += word.text;
    i += word.length;
    plain_start = i;
    after_word = true;
  }
  out += to_utf8(value.substr(plain_start), "utf-8");
  return out;
}

}  // namespace relay::mime
