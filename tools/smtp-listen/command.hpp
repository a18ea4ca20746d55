#pragma once
// Parsing of SMTP command lines (RFC 5321 4.1) and of the ESMTP parameters of MAIL and RCPT.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace smtp_listen {

struct Command {
  std::string verb;       // upper-cased: "MAIL", "EHLO"
  std::string argument;   // the rest of the line after one space, trailing spaces removed
};

// line is without its CRLF. The verb is the text up to the first space.
Command parse_command(std::string_view line);

struct PathArgument {
  std::string path;                                        // "<a@b>" with its brackets
  std::vector<std::pair<std::string, std::string>> params; // keyword upper-cased, value as given
};

// The argument of MAIL ("FROM:<path> params") or RCPT ("TO:<path> params"); keyword is
// "FROM:" or "TO:". nullopt when the syntax is wrong. A space after the colon is tolerated,
// as most servers do.
std::optional<PathArgument> parse_path_argument(std::string_view argument, std::string_view keyword);

// RFC 3461 4: xtext, "+" followed by two upper-case hex digits encodes a byte.
bool valid_xtext(std::string_view text);
// RFC 3461 4.2 ORCPT value: addr-type ";" xtext (RFC 6533 utf-8-addr-xtext when utf8).
bool valid_orcpt(std::string_view value, bool utf8);
// RFC 3461 4.1 NOTIFY value: "NEVER" or a list of SUCCESS, FAILURE, DELAY; upper-cased.
std::optional<std::string> normalize_notify(std::string_view value);

}  // namespace smtp_listen
