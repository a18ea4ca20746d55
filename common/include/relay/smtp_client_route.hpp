#pragma once
// Where mail for a domain goes: its MX hosts by preference (RFC 5321 5.1), random among equal
// preferences, the domain itself when it has no MX, nowhere for a null MX (RFC 7505), and
// each host's addresses in the order the address-family preference asks for. Configured next
// hops (relay hosts, per-domain routes) are resolved by name only, without MX.
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "relay/dns.hpp"

namespace relay::smtp {

enum class AddressFamily { kPreferIpv4, kPreferIpv6, kIpv4Only, kIpv6Only };
std::optional<AddressFamily> parse_family(std::string_view text);

// A server to try: the name the mail was routed to (for TLS checks and logs) and one address.
struct Target {
  std::string host;
  std::string address;
  uint16_t port = 25;
};

struct RouteResult {
  std::vector<Target> targets;  // in the order to try them
  // When there are none: why, as the recipients' outcome.
  bool permanent = false;
  std::string status;
  std::string text;
  bool ok() const { return !targets.empty(); }
};

// A configured next hop: "host:port", "[IPv6]:port", "host" (port default_port).
struct NextHop {
  std::string host;
  uint16_t port = 25;
};
std::optional<NextHop> parse_next_hop(std::string_view text, uint16_t default_port);

struct RouteOptions {
  AddressFamily family = AddressFamily::kPreferIpv4;
  uint16_t port = 25;                 // for MX delivery
  size_t max_addresses = 5;           // addresses tried per destination, over all MX hosts
  std::vector<std::string> self_names;  // this relay's names, lower case (mail loop check)
};

// MX delivery for domain (an address literal "[192.0.2.1]" goes straight to it).
RouteResult route_by_mx(dns::Resolver& resolver, std::string_view domain, const RouteOptions& options,
                        std::mt19937& random);
// Configured next hops, tried in the order given.
RouteResult route_by_hops(dns::Resolver& resolver, const std::vector<NextHop>& hops, const RouteOptions& options);

}  // namespace relay::smtp
