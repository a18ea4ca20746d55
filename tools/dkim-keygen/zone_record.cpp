#include "zone_record.hpp"

#include <fmt/format.h>

namespace relay::dkim {

std::string zone_txt_record(std::string_view owner, std::string_view text) {
  constexpr size_t kMaxString = 255;
  std::string out = fmt::format("{}. IN TXT (", owner);
  for (size_t at = 0; at < text.size() || at == 0; at += kMaxString) {
    // DKIM records hold no quote or backslash; escape them anyway so the zone stays valid.
    std::string chunk;
    for (char c : text.substr(at, kMaxString)) {
      if (c == '"' || c == '\\') chunk.push_back('\\');
      chunk.push_back(c);
    }
    out += fmt::format("{}\"{}\"", at == 0 ? " " : "\n\t", chunk);
    if (text.empty()) break;
  }
  return out + " )\n";
}

}  // namespace relay::dkim
