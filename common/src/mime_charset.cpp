// Charsets to UTF-8 with glibc's iconv. Conversion descriptors are opened once per charset and
// thread: opening one loads a gconv module, which costs more than converting a whole bounce.
#include <iconv.h>

#include <cerrno>
#include <map>
#include <memory>

#include "relay/headers.hpp"
#include "relay/mime.hpp"

namespace relay::mime {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
constexpr size_t kMaxCachedCharsets = 32;

// Length of the valid UTF-8 sequence at text[i], or 0.
size_t utf8_sequence(std::string_view text, size_t i) {
  unsigned char c = text[i];
  if (c < 0x80) return 1;
  size_t n = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
  if (n == 0 || i + n > text.size()) return 0;
  unsigned char second = text[i + 1];
  // Overlong forms, surrogates and code points past U+10FFFF are invalid.
  if ((c == 0xE0 && second < 0xA0) || (c == 0xED && second > 0x9F) || (c == 0xF0 && second < 0x90) ||
      (c == 0xF4 && second > 0x8F))
    return 0;
  for (size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return 0;
  return n;
}

std::string valid_utf8(std::string_view text) {
  // Valid runs are copied whole: most text is ASCII, and a byte-by-byte append costs more than the check.
  std::string out;
  out.reserve(text.size());
  size_t run = 0;
  for (size_t i = 0; i < text.size();) {
    if (static_cast<unsigned char>(text[i]) < 0x80) {
      ++i;
      continue;
    }
    size_t n = utf8_sequence(text, i);
    if (n != 0) {
      i += n;
      continue;
    }
    out.append(text.substr(run, i - run));
    out += kReplacement;
    run = ++i;
  }
  out.append(text.substr(run));
  return out;
}

struct IconvCloser {
  void operator()(void* cd) const { iconv_close(static_cast<iconv_t>(cd)); }
};
using Converter = std::unique_ptr<void, IconvCloser>;

// The converter for charset, or null when iconv does not know it.
iconv_t converter(const std::string& charset) {
  thread_local std::map<std::string, Converter> cache;
  auto it = cache.find(charset);
  if (it != cache.end()) return static_cast<iconv_t>(it->second.get());
  iconv_t cd = iconv_open("UTF-8", charset.c_str());
  if (cd == reinterpret_cast<iconv_t>(-1)) cd = nullptr;
  if (cache.size() >= kMaxCachedCharsets) cache.clear();  // a hostile stream of names stays bounded
  cache.emplace(charset, Converter(cd));
  return cd;
}

std::string normalized_charset(std::string_view charset) {
  size_t star = charset.find('*');  // RFC 2231 language suffix
  if (star != std::string_view::npos) charset = charset.substr(0, star);
  while (!charset.empty() && (charset.front() == ' ' || charset.front() == '"')) charset.remove_prefix(1);
  while (!charset.empty() && (charset.back() == ' ' || charset.back() == '"')) charset.remove_suffix(1);
  std::string name = to_lower(charset);
  // Names mail uses that glibc spells otherwise.
  static constexpr std::pair<std::string_view, std::string_view> kAliases[] = {
      {"ks_c_5601-1987", "cp949"}, {"x-sjis", "shift_jis"}, {"shift-jis", "shift_jis"}, {"x-gbk", "gbk"}};
  for (const auto& [alias, glibc_name] : kAliases)
    if (name == alias) return std::string(glibc_name);
  return name;
}

}  // namespace

std::string to_utf8(std::string_view text, std::string_view charset) {
  std::string name = normalized_charset(charset);
  if (name.empty() || name == "utf-8" || name == "utf8" || name == "us-ascii" || name == "ascii" ||
      name.size() > 64)
    return valid_utf8(text);
  iconv_t cd = converter(name);
  if (cd == nullptr) return valid_utf8(text);
  iconv(cd, nullptr, nullptr, nullptr, nullptr);  // reset the shift state a previous call left

  std::string out;
  out.resize(text.size() * 4 + 16);
  char* in_ptr = const_cast<char*>(text.data());
  size_t in_left = text.size();
  char* out_ptr = out.data();
  size_t out_left = out.size();
  while (in_left > 0) {
    if (iconv(cd, &in_ptr, &in_left, &out_ptr, &out_left) != static_cast<size_t>(-1)) break;
    if (errno == E2BIG) {
      size_t used = out.size() - out_left;
      out.resize(out.size() * 2);
      out_ptr = out.data() + used;
      out_left = out.size() - used;
      continue;
    }
    // EILSEQ or EINVAL: one byte that does not convert becomes U+FFFD.
    if (out_left < kReplacement.size()) {
      size_t used = out.size() - out_left;
      out.resize(out.size() * 2);
      out_ptr = out.data() + used;
      out_left = out.size() - used;
    }
    for (char c : kReplacement) *out_ptr++ = c;
    out_left -= kReplacement.size();
    ++in_ptr;
    --in_left;
    iconv(cd, nullptr, nullptr, nullptr, nullptr);
  }
  out.resize(out.size() - out_left);
  return out;
}

}  // namespace relay::mime
