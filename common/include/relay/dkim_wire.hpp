#pragma once
// DKIM works on the message in SMTP wire form (CRLF line ends), whatever the form on disk.
// These helpers give that form without touching the stored bytes; a lone CR stays as it is.
#include <string>
#include <string_view>

namespace relay::dkim {

// A raw header field (as HeaderField::raw) without its final line end, inner line ends as CRLF.
std::string field_without_line_end(std::string_view raw);

// Body bytes with every bare LF turned into CRLF.
std::string crlf_body(std::string_view body);

}  // namespace relay::dkim
