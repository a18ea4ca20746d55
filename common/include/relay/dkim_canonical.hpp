#pragma once
// RFC 6376 3.4 canonicalization, computed from the stored bytes: CRLF or bare LF line ends
// both read as the CRLF of the wire form the signature is defined over.
#include <optional>
#include <string>
#include <string_view>

namespace relay::dkim {

enum class Canon { kSimple, kRelaxed };
std::string_view to_string(Canon canon);

// One header field (raw, with or without its final line end) as it enters the header hash,
// ending with CRLF when with_line_end (every field but the DKIM-Signature being made).
std::string canonical_header(std::string_view raw_field, Canon canon, bool with_line_end);

// The canonical body (3.4.3 simple, 3.4.4 relaxed) the body hash is computed over.
std::string canonical_body(std::string_view body, Canon canon);

// The canonical body without a copy, when it is body itself less trailing empty lines: CRLF
// line ends throughout, a final CRLF, and for relaxed no tab, no run of spaces and no space
// before a line end (most stored messages). nullopt when canonical_body must rewrite it.
std::optional<std::string_view> canonical_body_in_place(std::string_view body, Canon canon);

}  // namespace relay::dkim
