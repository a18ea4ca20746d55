#include "config.hpp"

#include "relay/exit_codes.hpp"
#include "relay/headers.hpp"

namespace mxdeliver {
namespace {

std::vector<relay::smtp::NextHop> parse_hops(const std::string& list, const std::string& option) {
  std::vector<relay::smtp::NextHop> hops;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    std::string item = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    auto hop = relay::smtp::parse_next_hop(item, 25);
    if (!hop) throw relay::Failure(relay::kExitUsage, "unable to parse " + option + ": bad HOST:PORT '" + item + "'");
    hops.push_back(*hop);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return hops;
}

std::pair<std::string, std::string> split_assignment(const std::string& spec, const std::string& option) {
  size_t eq = spec.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size())
    throw relay::Failure(relay::kExitUsage, "unable to parse " + option + ": expected DOMAIN=VALUE, got '" + spec + "'");
  return {relay::to_lower(spec.substr(0, eq)), spec.substr(eq + 1)};
}

std::string hops_key(const std::vector<relay::smtp::NextHop>& hops) {
  std::string key = "relay:";
  for (const auto& hop : hops) key += hop.host + ":" + std::to_string(hop.port) + ",";
  return key;
}

const relay::smtp::Credentials* credentials_for(const Config& config, const std::vector<relay::smtp::NextHop>& hops) {
  for (const auto& hop : hops) {
    for (const std::string& k : {hop.host + ":" + std::to_string(hop.port), hop.host}) {
      auto it = config.credentials.find(k);
      if (it != config.credentials.end()) return &it->second;
    }
  }
  return nullptr;
}

}  // namespace

void add_route(Config& config, const std::string& spec) {
  auto [domain, hops] = split_assignment(spec, "--route");
  config.routes[domain] = parse_hops(hops, "--route");
}

void add_relayhosts(Config& config, const std::string& spec) {
  for (auto& hop : parse_hops(spec, "--relayhost")) config.relayhosts.push_back(hop);
}

void add_tls_policy(Config& config, const std::string& spec) {
  auto [domain, value] = split_assignment(spec, "--tls-policy");
  auto policy = relay::smtp::parse_tls_policy(value);
  if (!policy)
    throw relay::Failure(relay::kExitUsage, "unable to parse --tls-policy: unknown policy '" + value + "'");
  config.tls_policies[domain] = *policy;
}

Destination destination_for(const Config& config, const std::string& domain_in) {
  Destination d;
  d.domain = relay::to_lower(domain_in);
  auto route = config.routes.find(d.domain);
  if (route != config.routes.end()) d.hops = route->second;
  else d.hops = config.relayhosts;
  d.key = d.hops.empty() ? d.domain : hops_key(d.hops);
  auto policy = config.tls_policies.find(d.domain);
  d.tls = policy != config.tls_policies.end() ? policy->second : config.tls;
  if (!d.hops.empty()) d.credentials = credentials_for(config, d.hops);
  // Each policy and credential choice gets its own cached connections.
  d.key += "|" + std::string(relay::smtp::to_string(d.tls));
  return d;
}

}  // namespace mxdeliver
