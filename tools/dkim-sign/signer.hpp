#pragma once
// Making one DKIM-Signature header field (RFC 6376 3.5, RFC 8463) for a message with one key,
// with OpenSSL directly: the key stays loaded for the life of the process.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "relay/dkim_canonical.hpp"
#include "key_table.hpp"
#include "relay/headers.hpp"

namespace relay::dkim {

struct SignOptions {
  Canon header_canon = Canon::kRelaxed;
  Canon body_canon = Canon::kRelaxed;
  std::vector<std::string> headers;    // lower case, signed when present
  std::vector<std::string> oversign;   // lower case, listed once more than present
  std::optional<int64_t> lifetime;     // x= = t= + lifetime
};

// RFC 6376 5.4.1's list, plus the fields that carry the message's identity and MIME structure.
std::vector<std::string> default_signed_headers();

// What every signature of one message shares, computed once however many keys sign it.
struct PreparedMessage {
  std::string body_hash;                // bh=
  std::vector<std::string> names;       // h=, in order
  std::string canonical_headers;        // the fields h= selects, canonicalized, each with CRLF
  bool crlf = true;                     // the message's line end: CRLF, or bare LF
};
PreparedMessage prepare_message(std::string_view message, const HeaderBlock& headers, const SignOptions& options);

// The DKIM-Signature field for one key, ending with a line end in the message's style.
std::string make_signature(const PreparedMessage& message, const SigningChoice& choice, const SignOptions& options,
                           int64_t now);

}  // namespace relay::dkim
