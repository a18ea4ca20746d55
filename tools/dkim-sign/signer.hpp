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

// The DKIM-Signature field, ending with a line end in the message's style (CRLF or LF).
std::string make_signature(std::string_view message, const HeaderBlock& headers, const SigningChoice& choice,
                           const SignOptions& options, int64_t now);

}  // namespace relay::dkim
