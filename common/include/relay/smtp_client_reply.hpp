#pragma once
// SMTP replies as a client reads them (RFC 5321 4.2), their RFC 3463 enhanced status codes,
// and the extensions an EHLO reply offers.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace relay::smtp {

inline constexpr size_t kMaxReplyLine = 4096;   // RFC 5321 says 512; servers send longer text
inline constexpr size_t kMaxReplyLines = 200;   // a multiline reply longer than this is hostile

struct Reply {
  int code = 0;                    // 200..599; 0 when no reply was read
  std::vector<std::string> lines;  // the text after "NNN-" / "NNN ", sanitised
  char cls() const { return static_cast<char>('0' + code / 100); }
  bool positive() const { return code >= 200 && code < 400; }
  bool temporary() const { return code >= 400 && code < 500; }
  bool permanent() const { return code >= 500; }
  // "250 2.1.0 Ok" on one line: the code and the text of every line joined by spaces.
  std::string one_line() const;
  // The enhanced status code of the first line ("2.1.5"), or one made from the reply class
  // and fallback ("2.0.0"): the class always agrees with the reply code.
  std::string status(std::string_view fallback_detail = "0.0") const;
};

// Reads one reply line: "NNN-text" or "NNN text" (or "NNN" alone). Returns false when the line
// is not a reply line. last is set when the line ends a reply.
bool parse_reply_line(std::string_view line, int& code, bool& last, std::string& text);

// The enhanced status code at the start of text ("5.1.1 no such user" -> "5.1.1"), or "".
std::string enhanced_code(std::string_view text);

// What an EHLO reply offers (RFC 5321 4.1.1.1 and the extensions mx-deliver uses).
struct Capabilities {
  bool esmtp = false;
  bool pipelining = false;
  bool starttls = false;
  bool eightbitmime = false;
  bool smtputf8 = false;
  bool dsn = false;
  bool enhanced = false;
  bool size_offered = false;
  uint64_t size_limit = 0;               // 0: no limit announced
  std::vector<std::string> auth;         // mechanisms, upper case
  bool auth_offers(std::string_view mechanism) const;
};
Capabilities parse_ehlo(const Reply& reply);

}  // namespace relay::smtp
