#include "relay/ip.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace relay {
namespace {

// Whether a and b agree in their first bits bits.
bool same_prefix(const std::array<uint8_t, 16>& a, const std::array<uint8_t, 16>& b, int bits) {
  size_t full = static_cast<size_t>(bits / 8);
  if (std::memcmp(a.data(), b.data(), full) != 0) return false;
  int rest = bits % 8;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[full] & mask) == (b[full] & mask);
}

}  // namespace

std::optional<IpAddress> parse_ip(std::string_view text) {
  if (text.empty() || text.size() > INET6_ADDRSTRLEN) return std::nullopt;
  std::string copy(text);
  IpAddress ip;
  in_addr v4{};
  if (inet_pton(AF_INET, copy.c_str(), &v4) == 1) {
    ip.v4 = true;
    ip.bytes[10] = ip.bytes[11] = 0xff;
    std::memcpy(&ip.bytes[12], &v4, 4);
    return ip;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, copy.c_str(), &v6) != 1) return std::nullopt;
  std::memcpy(ip.bytes.data(), &v6, 16);
  ip.v4 = IN6_IS_ADDR_V4MAPPED(&v6);
  return ip;
}

std::string IpAddress::str() const {
  char text[INET6_ADDRSTRLEN] = "";
  if (v4)
    inet_ntop(AF_INET, &bytes[12], text, sizeof text);
  else
    inet_ntop(AF_INET6, bytes.data(), text, sizeof text);
  return text;
}

bool IpNetwork::contains(const IpAddress& ip) const {
  return ip.v4 == base.v4 && same_prefix(base.bytes, ip.bytes, base.v4 ? length + 96 : length);
}

std::optional<IpNetwork> parse_network(std::string_view cidr, std::string* error) {
  auto refuse = [&](const char* why) -> std::optional<IpNetwork> {
    if (error) *error = why;
    return std::nullopt;
  };
  size_t slash = cidr.find('/');
  auto ip = parse_ip(cidr.substr(0, slash));
  if (!ip) return refuse("not an IP address");
  IpNetwork net{*ip, ip->v4 ? 32 : 128};
  if (slash != std::string_view::npos) {
    std::string_view digits = cidr.substr(slash + 1);
    int length = -1;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), length);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || length < 0 ||
        length > net.length)
      return refuse("invalid prefix length");
    net.length = length;
  }
  // Host bits past the prefix are a typo more often than intent: refuse rather than guess.
  IpAddress masked = net.base;
  int bits = net.base.v4 ? net.length + 96 : net.length;
  for (int bit = bits; bit < 128; ++bit) masked.bytes[bit / 8] &= static_cast<uint8_t>(~(0x80 >> (bit % 8)));
  if (masked != net.base) return refuse("host bits set");
  return net;
}

}  // namespace relay
