#include "signing_domain.hpp"

#include <fmt/format.h>

#include "relay/address.hpp"

namespace relay::dkim {

DomainChoice domain_from_header(const HeaderBlock& headers) {
  auto from = headers.find_all("From");
  if (from.empty()) return {std::nullopt, "no From header field"};
  if (from.size() > 1) return {std::nullopt, fmt::format("{} From header fields", from.size())};
  auto addresses = parse_address_list(from.front()->value());
  if (!addresses || addresses->empty()) return {std::nullopt, "unparsable From header field"};
  std::string domain = domain_of(addresses->front());
  for (const auto& address : *addresses)
    if (domain_of(address) != domain) return {std::nullopt, "From addresses of several domains"};
  if (domain.empty() || !valid_domain(domain, false)) return {std::nullopt, "From address without a valid domain"};
  return {domain, ""};
}

DomainChoice domain_from_sender(std::string_view sender) {
  if (sender.empty()) return {std::nullopt, "null envelope sender"};
  std::string domain = domain_of(sender);
  if (domain.empty() || !valid_domain(domain, false)) return {std::nullopt, "envelope sender without a valid domain"};
  return {domain, ""};
}

}  // namespace relay::dkim
