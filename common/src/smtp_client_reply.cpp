#include "relay/smtp_client_reply.hpp"

#include <cctype>
#include <charconv>

#include "relay/headers.hpp"

namespace relay::smtp {

std::string Reply::one_line() const {
  std::string out = std::to_string(code);
  for (const auto& line : lines) {
    if (line.empty()) continue;
    out += ' ';
    out += line;
  }
  return out;
}

std::string Reply::status(std::string_view fallback_detail) const {
  if (!lines.empty()) {
    std::string found = enhanced_code(lines.front());
    if (!found.empty() && found[0] == cls()) return found;
  }
  return std::string(1, cls()) + "." + std::string(fallback_detail);
}

bool parse_reply_line(std::string_view line, int& code, bool& last, std::string& text) {
  if (line.size() < 3) return false;
  for (int i = 0; i < 3; ++i)
    if (line[i] < '0' || line[i] > '9') return false;
  code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
  if (code < 200 || code > 599) return false;
  if (line.size() == 3) {
    last = true;
    text.clear();
    return true;
  }
  if (line[3] != ' ' && line[3] != '-') return false;
  last = line[3] == ' ';
  text.assign(line.substr(4));
  return true;
}

std::string enhanced_code(std::string_view text) {
  // class "." subject "." detail, subject and detail 1-3 digits (RFC 3463 2).
  if (text.size() < 5 || (text[0] != '2' && text[0] != '4' && text[0] != '5') || text[1] != '.')
    return "";
  size_t i = 2;
  for (int part = 0; part < 2; ++part) {
    size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9' && i - start < 3) ++i;
    if (i == start) return "";
    if (part == 0) {
      if (i >= text.size() || text[i] != '.') return "";
      ++i;
    }
  }
  if (i < text.size() && text[i] != ' ') return "";
  return std::string(text.substr(0, i));
}

bool Capabilities::auth_offers(std::string_view mechanism) const {
  for (const auto& m : auth)
    if (iequals(m, mechanism)) return true;
  return false;
}

Capabilities parse_ehlo(const Reply& reply) {
  Capabilities caps;
  caps.esmtp = reply.code == 250;
  if (!caps.esmtp) return caps;
  // The first line is the server's greeting name; each further line is one extension.
  for (size_t i = 1; i < reply.lines.size(); ++i) {
    std::string_view line = reply.lines[i];
    size_t space = line.find(' ');
    std::string keyword = to_lower(line.substr(0, space));
    std::string_view params = space == std::string_view::npos ? "" : line.substr(space + 1);
    if (keyword == "pipelining") caps.pipelining = true;
    else if (keyword == "starttls") caps.starttls = true;
    else if (keyword == "8bitmime") caps.eightbitmime = true;
    else if (keyword == "smtputf8") caps.smtputf8 = true;
    else if (keyword == "dsn") caps.dsn = true;
    else if (keyword == "enhancedstatuscodes") caps.enhanced = true;
    else if (keyword == "size") {
      caps.size_offered = true;
      uint64_t limit = 0;
      auto [end, ec] = std::from_chars(params.data(), params.data() + params.size(), limit);
      if (ec == std::errc() && end == params.data() + params.size()) caps.size_limit = limit;
    } else if (keyword == "auth") {
      while (!params.empty()) {
        size_t next = params.find(' ');
        std::string_view mech = params.substr(0, next);
        if (!mech.empty()) {
          std::string upper(mech);
          for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
          caps.auth.push_back(std::move(upper));
        }
        params = next == std::string_view::npos ? "" : params.substr(next + 1);
      }
    }
  }
  return caps;
}

}  // namespace relay::smtp
