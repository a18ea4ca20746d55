// Matching of the policy's domain patterns. Networks are relay/ip.hpp's, organizational
// domains relay/domain.hpp's.
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

}  // namespace relay::policy
