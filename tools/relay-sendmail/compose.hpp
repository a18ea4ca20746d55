#pragma once
// Turning what an application pipes into sendmail into a message the relay can queue:
// the end-of-input rule, CRLF line ends, recipients from the header (-t) with Bcc removed,
// and the From, Date and Message-ID fields a message must have.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace relay::sendmail {

struct ComposeOptions {
  bool read_recipients = false;       // -t
  std::string from_address;           // for a missing From: field
  std::string full_name;              // -F, the display name of that From:
  std::string hostname;               // for Message-ID
  int64_t now = 0;                    // for Date
};

struct Composed {
  std::string message;                    // CRLF line ends
  std::vector<std::string> header_recipients;  // To, Cc and Bcc addresses when read_recipients
};

// Reads fd to its end (or, when dot_ends, to a line holding only "."), at most max_size bytes.
// Throws Failure(kExitData) when the input is larger.
std::string read_input(int fd, bool dot_ends, uint64_t max_size);

// Throws Failure(kExitData) on empty input or a malformed address list in To/Cc/Bcc (-t).
Composed compose(std::string_view input, const ComposeOptions& options);

// LF and lone CR line ends become CRLF; CRLF stays.
std::string to_crlf(std::string_view text);

// A display name as RFC 5322 wants it: an atom sequence as is, anything else quoted.
std::string display_name(std::string_view name);

}  // namespace relay::sendmail
