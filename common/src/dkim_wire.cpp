#include "relay/dkim_wire.hpp"

namespace relay::dkim {

std::string crlf_body(std::string_view body) {
  std::string out;
  out.reserve(body.size() + body.size() / 32);
  size_t start = 0;
  while (start < body.size()) {
    size_t lf = body.find('\n', start);
    if (lf == std::string_view::npos) {
      out.append(body.substr(start));
      break;
    }
    out.append(body.substr(start, lf - start));
    if (lf == 0 || body[lf - 1] != '\r') out.push_back('\r');
    out.push_back('\n');
    start = lf + 1;
  }
  return out;
}

std::string field_without_line_end(std::string_view raw) {
  if (!raw.empty() && raw.back() == '\n') raw.remove_suffix(1);
  if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
  return crlf_body(raw);
}

}  // namespace relay::dkim
