// Matching of the policy's domains and networks: domain patterns, CIDR prefixes, and the
// organizational domain (RFC 7489 section 3.2) through libpsl.
#include <arpa/inet.h>
#include <libpsl.h>

#include <cstring>
#include <string>

#include "relay/policy_rules.hpp"

namespace relay::policy {

bool domain_allowed(const std::vector<DomainPattern>& patterns, std::string_view domain) {
  for (const auto& pattern : patterns) {
    if (pattern.domain.empty()) return !domain.empty();
    if (!pattern.subdomains) {
      if (domain == pattern.domain) return true;
    } else if (domain.size() > pattern.domain.size() + 1 && domain.ends_with(pattern.domain) &&
               domain[domain.size() - pattern.domain.size() - 1] == '.') {
      return true;
    }
  }
  return false;
}

bool parse_ip(std::string_view text, Network* out) {
  if (text.empty() || text.size() > 64) return false;
  std::string copy(text);
  Network net;
  if (::inet_pton(AF_INET, copy.c_str(), net.bytes.data()) == 1) {
    net.prefix = 32;
    *out = net;
    return true;
  }
  if (::inet_pton(AF_INET6, copy.c_str(), net.bytes.data()) != 1) return false;
  static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(net.bytes.data(), kMapped, 12) == 0) {
    std::memmove(net.bytes.data(), net.bytes.data() + 12, 4);
    std::memset(net.bytes.data() + 4, 0, 12);
    net.prefix = 32;
  } else {
    net.v6 = true;
    net.prefix = 128;
  }
  *out = net;
  return true;
}

bool Network::contains(const Network& address) const {
  if (address.v6 != v6) return false;
  int full = prefix / 8;
  if (std::memcmp(bytes.data(), address.bytes.data(), static_cast<size_t>(full)) != 0) return false;
  int rest = prefix % 8;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (bytes[full] & mask) == (address.bytes[full] & mask);
}

std::string organizational_domain(std::string_view domain) {
  // The newest of the distribution's list and the built-in one; loaded once, read-only after.
  static const psl_ctx_t* const psl = [] {
    const psl_ctx_t* ctx = psl_latest(nullptr);
    return ctx ? ctx : psl_builtin();
  }();
  std::string text(domain);
  if (psl == nullptr) return text;
  const char* registrable = psl_registrable_domain(psl, text.c_str());
  return registrable ? std::string(registrable) : text;
}

}  // namespace relay::policy
