// Matching of the policy's domains: domain patterns and the organizational domain
// (RFC 7489 section 3.2) through libpsl. Networks are relay/ip.hpp's.
#include <libpsl.h>

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
