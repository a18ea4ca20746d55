#pragma once
// The rules of relay-policy.conf(5), parsed and resolved: each section already merged with
// [defaults], so a check looks up one Section and reads plain values.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "relay/ip.hpp"

namespace relay::policy {

// exact domain, "*.domain" (subdomains only) or "*" (anything)
struct DomainPattern {
  std::string domain;  // lower case; empty for "*"
  bool subdomains = false;
};

// True when the lower-case domain matches one of the patterns.
bool domain_allowed(const std::vector<DomainPattern>& patterns, std::string_view domain);

enum class Align { kNone, kRelaxed, kStrict };
std::string_view to_string(Align align);

enum class Scope { kUser, kClient, kSenderDomain, kRecipientDomain };
inline constexpr size_t kScopes = 4;
enum class Unit { kMessages, kRecipients };
inline constexpr size_t kUnits = 2;

// "user-messages", "recipient-domain-recipients", ...
std::string rate_setting_name(Scope scope, Unit unit);

struct Rate {
  int64_t count = 0;
  int64_t window = 0;  // seconds
  std::string text;    // as written in the file: "100/minute"
};

struct Section {
  std::string name;  // "defaults", "user alice", "network 192.0.2.0/24"
  std::vector<DomainPattern> sender_domains;
  std::vector<DomainPattern> from_domains;
  Align align = Align::kRelaxed;
  uint64_t max_size = 0;        // 0: no limit
  uint64_t max_recipients = 0;  // 0: no limit
  bool hold = false;
  std::array<std::array<std::vector<Rate>, kUnits>, kScopes> rates;

  const std::vector<Rate>& rates_for(Scope scope, Unit unit) const {
    return rates[static_cast<size_t>(scope)][static_cast<size_t>(unit)];
  }
};

struct Rules {
  std::string store = "/var/lib/relay-policy";
  bool fail_open = false;
  Section defaults;
  std::unordered_map<std::string, Section> users;
  std::vector<std::pair<IpNetwork, Section>> networks;  // longest prefix first

  // The section that applies: the user's, else the longest network holding client_ip,
  // else the defaults.
  const Section& resolve(std::string_view user, std::string_view client_ip) const;
};

// Parses the text of a policy file; throws Failure(kExitConfig) "file:line: what".
Rules parse_rules(std::string_view text, std::string_view file_name);
// Reads and parses a policy file (at most 16 MiB).
Rules load_rules(const std::string& path);

}  // namespace relay::policy
