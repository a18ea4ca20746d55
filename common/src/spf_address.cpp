// Address parsing, CIDR matching and the text forms the SPF macros need.
#include "spf_address.hpp"

#include <arpa/inet.h>

#include <algorithm>

namespace relay::spf {

std::optional<Address> Address::parse(std::string_view text, bool keep_mapped) {
  std::string copy(text);
  Address address;
  if (inet_pton(AF_INET, copy.c_str(), address.bytes.data()) == 1) return address;
  if (inet_pton(AF_INET6, copy.c_str(), address.bytes.data()) != 1) return std::nullopt;
  static constexpr uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (!keep_mapped && std::equal(kMappedPrefix, kMappedPrefix + 12, address.bytes.begin())) {
    std::copy(address.bytes.begin() + 12, address.bytes.end(), address.bytes.begin());
    std::fill(address.bytes.begin() + 4, address.bytes.end(), 0);
    return address;
  }
  address.v6 = true;
  return address;
}

bool Address::in_network(const Address& network, int prefix) const {
  if (v6 != network.v6) return false;
  int full = prefix / 8;
  if (!std::equal(bytes.begin(), bytes.begin() + full, network.bytes.begin())) return false;
  int rest = prefix % 8;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (bytes[full] & mask) == (network.bytes[full] & mask);
}

std::string Address::text() const {
  char buffer[INET6_ADDRSTRLEN];
  inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buffer, sizeof buffer);
  return buffer;
}

std::string Address::dotted() const {
  if (!v6) return text();
  static constexpr char kHex[] = "0123456789abcdef";
  std::string nibbles;
  for (uint8_t byte : bytes) {
    if (!nibbles.empty()) nibbles += '.';
    nibbles += kHex[byte >> 4];
    nibbles += '.';
    nibbles += kHex[byte & 0xf];
  }
  return nibbles;
}

}  // namespace relay::spf
