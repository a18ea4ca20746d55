#pragma once
// Domain names as the checks compare them, and the organizational domain of RFC 7489 3.2
// (DMARC alignment, relay-policy's alignment rule) from the public suffix list via libpsl.
#include <string>
#include <string_view>

namespace relay {

// Lower case, without a trailing dot.
std::string normalize_domain(std::string_view domain);

// The registrable domain under the public suffix list: Debian's publicsuffix list when it is
// installed, else libpsl's built-in one. The normalized domain itself when it has none.
std::string organizational_domain(std::string_view domain);

}  // namespace relay
