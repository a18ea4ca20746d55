// Macro expansion: %{letter digits r delimiters}, %% %_ %-, URL escaping for upper-case letters.
#include "spf_macro.hpp"

#include <algorithm>
#include <cctype>
#include <vector>

#include <fmt/format.h>

namespace relay::spf {
namespace {

constexpr std::string_view kDelimiters = ".-+,/_=";
constexpr size_t kMaxParts = 128;  // more parts than any domain name has

bool is_macro_literal(char c) { return c >= 0x21 && c <= 0x7e && c != '%'; }

// RFC 3986 escaping of everything but the unreserved characters.
std::string url_escape(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~')
      out += static_cast<char>(c);
    else
      out += fmt::format("%{:02X}", c);
  }
  return out;
}

std::string letter_value(char letter, const MacroContext& context) {
  switch (letter) {
    case 's': return context.sender;
    case 'l': return context.local_part;
    case 'o': return context.sender_domain;
    case 'd': return context.domain;
    case 'i': return context.ip.dotted();
    case 'p': return context.validated_name ? context.validated_name() : "unknown";
    case 'v': return context.ip.v6 ? "ip6" : "in-addr";
    case 'h': return context.helo;
    case 'c': return context.ip.text();
    case 'r': return context.receiver;
    case 't': return std::to_string(context.now);
  }
  return {};
}

// Applies the transformers: split on the delimiters, maybe reverse, keep the rightmost parts.
std::string transform(std::string_view value, size_t keep, bool reverse, std::string_view delimiters) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t i = 0; i <= value.size(); ++i) {
    if (i == value.size() || delimiters.find(value[i]) != std::string_view::npos) {
      parts.push_back(value.substr(start, i - start));
      start = i + 1;
    }
  }
  if (reverse) std::reverse(parts.begin(), parts.end());
  if (keep > 0 && keep < parts.size()) parts.erase(parts.begin(), parts.end() - static_cast<ptrdiff_t>(keep));
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += '.';
    out += parts[i];
  }
  return out;
}

}  // namespace

std::optional<std::string> expand_macros(std::string_view text, const MacroContext* context, MacroUse use,
                                         std::string* error) {
  auto fail = [&](std::string reason) -> std::optional<std::string> {
    *error = std::move(reason);
    return std::nullopt;
  };
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == ' ' && use == MacroUse::kExplanation) {
      out += c;
      continue;
    }
    if (c != '%') {
      if (!is_macro_literal(c)) return fail(fmt::format("invalid character 0x{:02x} in macro string", c & 0xff));
      out += c;
      continue;
    }
    if (++i == text.size()) return fail("macro string ends with %");
    switch (text[i]) {
      case '%': out += '%'; continue;
      case '_': out += ' '; continue;
      case '-': out += "%20"; continue;
      case '{': break;
      default: return fail(fmt::format("invalid macro %{}", text[i]));
    }
    size_t close = text.find('}', i);
    if (close == std::string_view::npos) return fail("unterminated macro %{");
    std::string_view body = text.substr(i + 1, close - i - 1);
    i = close;
    if (body.empty()) return fail("empty macro %{}");
    char letter = static_cast<char>(std::tolower(static_cast<unsigned char>(body[0])));
    std::string_view letters = use == MacroUse::kExplanation ? "slodiphvcrt" : "slodiphv";
    if (letters.find(letter) == std::string_view::npos)
      return fail(fmt::format("macro letter {} not allowed here", body[0]));
    size_t pos = 1;
    size_t keep = 0;
    bool has_digits = false;
    while (pos < body.size() && std::isdigit(static_cast<unsigned char>(body[pos]))) {
      keep = std::min(keep * 10 + static_cast<size_t>(body[pos] - '0'), kMaxParts);
      has_digits = true;
      ++pos;
    }
    if (has_digits && keep == 0) return fail("macro keeps zero parts");
    bool reverse = pos < body.size() && (body[pos] == 'r' || body[pos] == 'R');
    if (reverse) ++pos;
    std::string_view delimiters = body.substr(pos);
    if (delimiters.find_first_not_of(kDelimiters) != std::string_view::npos)
      return fail(fmt::format("invalid macro transformer in %{{{}}}", body));
    if (!context) continue;
    std::string value = transform(letter_value(letter, *context), keep, reverse,
                                  delimiters.empty() ? std::string_view(".") : delimiters);
    out += std::isupper(static_cast<unsigned char>(body[0])) ? url_escape(value) : value;
  }
  return out;
}

}  // namespace relay::spf
