#pragma once
// Client addresses: parsing "ADDR:PORT" listener specs and matching CIDR allow lists (v4, v6;
// an IPv4-mapped IPv6 client matches IPv4 blocks; see relay/ip.hpp).
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "relay/ip.hpp"

namespace smtp_listen {

// The text of a socket address's IP ("192.0.2.1", "2001:db8::1"; mapped IPv4 shown as IPv4).
std::string ip_text(const sockaddr_storage& address);
int port_of(const sockaddr_storage& address);

class CidrList {
 public:
  // "192.0.2.0/24", "2001:db8::/32", or a single address; false when invalid.
  bool add(std::string_view cidr);
  bool contains(std::string_view ip) const;
  bool empty() const { return blocks_.empty(); }

 private:
  std::vector<relay::IpNetwork> blocks_;
};

// "127.0.0.1:2525", "[::1]:587", "*:25" (any IPv6 and IPv4), ":25"; nullopt when invalid.
std::optional<sockaddr_storage> parse_listen_address(std::string_view spec, socklen_t* length);

}  // namespace smtp_listen
