#pragma once
// mx-deliver's settings, as the command line gives them, with the per-destination choices
// (route, TLS policy, credentials) looked up by recipient domain.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "relay/smtp_client_route.hpp"
#include "relay/smtp_client_session.hpp"
#include "relay/smtp_client_tls.hpp"

namespace mxdeliver {

struct Config {
  std::string resolver;
  relay::smtp::RouteOptions route;          // family, port, address limit, own names
  std::string hostname;                     // EHLO name, and a name that means "myself"
  std::vector<relay::smtp::NextHop> relayhosts;                      // all mail, in failover order
  std::map<std::string, std::vector<relay::smtp::NextHop>> routes;  // domain -> next hops
  relay::smtp::TlsPolicy tls = relay::smtp::TlsPolicy::kMay;
  std::map<std::string, relay::smtp::TlsPolicy> tls_policies;       // domain -> policy
  std::string tls_ca;
  std::map<std::string, relay::smtp::Credentials> credentials;      // "host" or "host:port"
  relay::smtp::Timeouts timeouts;
  int max_per_connection = 100;
  int idle_limit_ms = 5000;
};

// Where mail for one recipient domain goes and how.
struct Destination {
  std::string key;                          // "example.test" or "relay:host:port,..."
  std::string domain;
  std::vector<relay::smtp::NextHop> hops;   // empty: MX delivery
  relay::smtp::TlsPolicy tls;
  const relay::smtp::Credentials* credentials = nullptr;
};

Destination destination_for(const Config& config, const std::string& domain);

// "domain=host:port[,host:port...]" -> routes; throws relay::Failure(kExitUsage) when malformed.
void add_route(Config& config, const std::string& spec);
// "host:port[,host:port...]" -> relayhosts.
void add_relayhosts(Config& config, const std::string& spec);
// "domain=policy" -> tls_policies.
void add_tls_policy(Config& config, const std::string& spec);

// Port 465 is implicit TLS (RFC 8314); every other port speaks plaintext first.
inline bool implicit_tls_port(uint16_t port) { return port == 465; }

}  // namespace mxdeliver
