#pragma once
// Which domain a message is signed for: the header From by default, or the envelope sender.
#include <optional>
#include <string>
#include <string_view>

#include "relay/headers.hpp"

namespace relay::dkim {

struct DomainChoice {
  std::optional<std::string> domain;  // lower case; empty when none can be chosen
  std::string problem;                // why not: "no From header", "2 From headers", ...
};

// The one domain of the From header field (several addresses must share it).
DomainChoice domain_from_header(const HeaderBlock& headers);
// The domain of the envelope sender; the null sender <> has none.
DomainChoice domain_from_sender(std::string_view sender);

}  // namespace relay::dkim
