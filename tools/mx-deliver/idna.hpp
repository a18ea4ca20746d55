#pragma once
// Domain names as DNS asks for them: an internationalized domain (RFC 6531 allows UTF-8 in
// SMTPUTF8 addresses) becomes its A-label form (IDNA2008, libidn2).
#include <optional>
#include <string>
#include <string_view>

namespace mxdeliver {

// The ASCII form of domain; nullopt when it is not a valid IDNA2008 name.
std::optional<std::string> ascii_domain(std::string_view domain);

// local@domain with the domain in A-label form when the local part is ASCII, so the address
// needs no SMTPUTF8 (RFC 6531 3.2); otherwise the address unchanged.
std::string ascii_address(const std::string& address);

}  // namespace mxdeliver
