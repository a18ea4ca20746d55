#pragma once
// Base64 (RFC 4648) for the protocols that want it exact: SASL (RFC 4954), DKIM tags and
// signatures. MIME bodies, which tolerate line breaks and stray characters, use mime.hpp.
#include <optional>
#include <string>
#include <string_view>

namespace relay {

std::string base64_encode(std::string_view bytes);

// nullopt unless text is whole base64 quadruples with correct padding; white space is
// skipped first when skip_space (DKIM's p= and b= may be folded).
std::optional<std::string> base64_decode(std::string_view text, bool skip_space = false);

}  // namespace relay
