#pragma once
// IP addresses as SPF compares them: IPv4-mapped IPv6 addresses count as IPv4 (RFC 7208 5).
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace relay::spf {

struct Address {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};  // IPv4 in the first 4

  // IPv4-mapped IPv6 becomes IPv4 unless keep_mapped (ip6: networks stay IPv6).
  static std::optional<Address> parse(std::string_view text, bool keep_mapped = false);
  bool in_network(const Address& network, int prefix) const;   // false across families
  std::string text() const;                                    // 192.0.2.1 / 2001:db8::1
  std::string dotted() const;  // %{i}: dotted quad, or 32 dot-separated nibbles for IPv6
};

}  // namespace relay::spf
