#include "address_list.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace smtp_listen {

std::optional<IpAddress> parse_ip(std::string_view text) {
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

std::string ip_text(const sockaddr_storage& address) {
  char text[INET6_ADDRSTRLEN] = "";
  if (address.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(address).sin_addr, text, sizeof text);
  } else if (address.ss_family == AF_INET6) {
    const in6_addr& v6 = reinterpret_cast<const sockaddr_in6&>(address).sin6_addr;
    if (IN6_IS_ADDR_V4MAPPED(&v6))
      inet_ntop(AF_INET, &v6.s6_addr[12], text, sizeof text);
    else
      inet_ntop(AF_INET6, &v6, text, sizeof text);
  }
  return text;
}

int port_of(const sockaddr_storage& address) {
  if (address.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in&>(address).sin_port);
  if (address.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6&>(address).sin6_port);
  return 0;
}

bool CidrList::add(std::string_view cidr) {
  size_t slash = cidr.find('/');
  auto ip = parse_ip(cidr.substr(0, slash));
  if (!ip) return false;
  int bits = ip->v4 ? 32 : 128;
  if (slash != std::string_view::npos) {
    std::string_view number = cidr.substr(slash + 1);
    auto [end, error] = std::from_chars(number.data(), number.data() + number.size(), bits);
    if (error != std::errc() || end != number.data() + number.size() || number.empty()) return false;
    if (bits < 0 || bits > (ip->v4 ? 32 : 128)) return false;
  }
  blocks_.push_back({*ip, ip->v4 ? bits + 96 : bits});
  return true;
}

bool CidrList::contains(std::string_view text) const {
  auto ip = parse_ip(text);
  if (!ip) return false;
  for (const Block& block : blocks_) {
    int full = block.prefix / 8, rest = block.prefix % 8;
    if (std::memcmp(ip->bytes.data(), block.network.bytes.data(), static_cast<size_t>(full)) != 0) continue;
    if (rest) {
      unsigned char mask = static_cast<unsigned char>(0xff << (8 - rest));
      if ((ip->bytes[full] & mask) != (block.network.bytes[full] & mask)) continue;
    }
    return true;
  }
  return false;
}

std::optional<sockaddr_storage> parse_listen_address(std::string_view spec, socklen_t* length) {
  size_t colon = spec.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view host = spec.substr(0, colon), port_text = spec.substr(colon + 1);
  int port = -1;
  auto [end, error] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (error != std::errc() || end != port_text.data() + port_text.size() || port < 0 || port > 65535) return std::nullopt;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  sockaddr_storage address{};
  if (host.empty() || host == "*") {
    auto& v6 = reinterpret_cast<sockaddr_in6&>(address);
    v6.sin6_family = AF_INET6;
    v6.sin6_addr = in6addr_any;
    v6.sin6_port = htons(static_cast<uint16_t>(port));
    *length = sizeof(sockaddr_in6);
    return address;
  }
  std::string copy(host);
  auto& v4 = reinterpret_cast<sockaddr_in&>(address);
  if (inet_pton(AF_INET, copy.c_str(), &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
    v4.sin_port = htons(static_cast<uint16_t>(port));
    *length = sizeof(sockaddr_in);
    return address;
  }
  address = {};
  auto& v6 = reinterpret_cast<sockaddr_in6&>(address);
  if (inet_pton(AF_INET6, copy.c_str(), &v6.sin6_addr) != 1) return std::nullopt;
  v6.sin6_family = AF_INET6;
  v6.sin6_port = htons(static_cast<uint16_t>(port));
  *length = sizeof(sockaddr_in6);
  return address;
}

}  // namespace smtp_listen
