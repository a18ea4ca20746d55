#pragma once
// IP addresses and CIDR blocks, for every allow list and network rule (smtp-listen's
// --allow-ip, relay-policy's [network] sections). An IPv4 address and its IPv4-mapped IPv6
// form are the same address, so a client on a dual-stack socket matches IPv4 blocks.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace relay {

struct IpAddress {
  std::array<uint8_t, 16> bytes{};  // IPv4 as ::ffff:a.b.c.d
  bool v4 = false;

  std::string str() const;  // dotted IPv4 (mapped ones too), or RFC 5952 IPv6
  bool operator==(const IpAddress&) const = default;
};

std::optional<IpAddress> parse_ip(std::string_view text);

struct IpNetwork {
  IpAddress base;
  int length = 128;  // prefix length as written: 0-32 for IPv4, 0-128 for IPv6

  // Same family only: "::/0" holds no IPv4 client.
  bool contains(const IpAddress& ip) const;
};

// "192.0.2.0/24", "2001:db8::/32", or one address (a block of one). On error, nullopt and a
// reason in *error: not an address, a bad prefix length, or host bits set past the prefix.
std::optional<IpNetwork> parse_network(std::string_view cidr, std::string* error = nullptr);

}  // namespace relay
