#pragma once
// MIME for programs that read mail other systems wrote: the transfer encodings (RFC 2045
// base64 and quoted-printable), encoded words in header fields (RFC 2047), Content-Type with
// its parameters (RFC 2045, continuations and charsets of RFC 2231), charsets to UTF-8 (glibc
// iconv), and the tree of parts of a message, bounded in depth and count.
//
// Every decoder is lenient, as readers of real mail must be: a stray byte is skipped or
// replaced, never an error, and the output is always valid UTF-8 where text is promised.
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "relay/headers.hpp"

namespace relay::mime {

// Base64 (RFC 4648 alphabet). Whitespace and bytes outside the alphabet are skipped; decoding
// stops at the first '='. A final incomplete group yields the whole bytes it holds.
std::string decode_base64(std::string_view text);

// Quoted-printable. "=XX" (either case) is a byte, "=" before a line end is a soft break, a
// malformed "=" stays as written, and whitespace before a line end is dropped (RFC 2045 6.7).
// header_q: the RFC 2047 "Q" variant, where '_' stands for a space.
std::string decode_quoted_printable(std::string_view text, bool header_q = false);

// text in charset, as UTF-8. Charset names as MIME writes them ("iso-8859-1", "UTF-8",
// "windows-1252", "utf-8*en" with an RFC 2231 language). An empty or unknown charset is read
// as UTF-8; bytes that do not convert become U+FFFD.
std::string to_utf8(std::string_view text, std::string_view charset);

// The unfolded value of a header field with its encoded words decoded, as UTF-8. Whitespace
// between two adjacent encoded words is dropped (RFC 2047 6.2); malformed words stay as written.
std::string decode_header(std::string_view value);

struct ContentType {
  std::string type = "text";      // lower case
  std::string subtype = "plain";  // lower case
  // Parameters in order, names lower case, values unquoted; RFC 2231 continuations joined and
  // their percent-encoding decoded to UTF-8.
  std::vector<std::pair<std::string, std::string>> params;

  std::string param(std::string_view name) const;  // "" when absent
  bool is(std::string_view type_name, std::string_view subtype_name) const;
  bool is_multipart() const { return type == "multipart"; }
};

// A Content-Type value; what cannot be read gives the RFC 2045 default, text/plain.
ContentType parse_content_type(std::string_view value);

struct Limits {
  size_t max_depth = 12;   // nesting of multiparts and enclosed messages
  size_t max_parts = 500;  // parts in the whole tree; the rest are left unread
};

// One entity: a whole message or one part of it. The views point into the text given to
// parse(), which must outlive the tree.
struct Part {
  explicit Part(std::string_view text);

  std::string_view raw;         // header section and body, as written
  HeaderBlock headers;          // this entity's own header fields
  ContentType content_type;     // from Content-Type (message/rfc822 in a multipart/digest)
  std::string transfer_encoding;  // lower case; "7bit" when absent
  std::string_view body;        // still transfer-encoded
  // The parts of a multipart, or the one message enclosed by message/rfc822 or message/global
  // (when it is not transfer-encoded).
  std::vector<Part> children;

  std::string header(std::string_view name) const;  // first field, unfolded; "" when absent
  std::string decoded() const;  // the body with its transfer encoding undone
  std::string text() const;     // decoded, then from its charset to UTF-8
};

// The part tree of message. Never fails: what does not parse is a leaf with the text it holds.
Part parse(std::string_view message, const Limits& limits = {});

}  // namespace relay::mime
