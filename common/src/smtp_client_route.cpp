#include "relay/smtp_client_route.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

#include "relay/headers.hpp"

namespace relay::smtp {
namespace {

bool is_ipv4(const std::string& text) {
  unsigned char b[4];
  return inet_pton(AF_INET, text.c_str(), b) == 1;
}
bool is_ipv6(const std::string& text) {
  unsigned char b[16];
  return inet_pton(AF_INET6, text.c_str(), b) == 1;
}

// Collects the addresses of one host. Returns the DNS status that explains an empty result.
dns::Status add_addresses(dns::Resolver& resolver, const std::string& host, uint16_t port,
                          const RouteOptions& options, std::vector<Target>& out) {
  if (is_ipv4(host) || is_ipv6(host)) {
    bool v6 = is_ipv6(host);
    if ((v6 && options.family == AddressFamily::kIpv4Only) || (!v6 && options.family == AddressFamily::kIpv6Only))
      return dns::Status::kNoData;
    out.push_back({host, host, port});
    return dns::Status::kOk;
  }
  bool want4 = options.family != AddressFamily::kIpv6Only;
  bool want6 = options.family != AddressFamily::kIpv4Only;
  bool six_first = options.family == AddressFamily::kPreferIpv6;
  std::vector<std::string> first, second;
  dns::Status worst = dns::Status::kNoData;
  auto take = [&](const dns::Answer<std::string>& answer, std::vector<std::string>& into) {
    if (answer.ok()) into = answer.records;
    else if (answer.status == dns::Status::kNxDomain && worst == dns::Status::kNoData) worst = dns::Status::kNxDomain;
    else if (dns::is_temporary(answer.status) || answer.status == dns::Status::kMalformed) worst = dns::Status::kServFail;
  };
  if (six_first) {
    if (want6) take(resolver.aaaa(host), first);
    if (want4) take(resolver.a(host), second);
  } else {
    if (want4) take(resolver.a(host), first);
    if (want6) take(resolver.aaaa(host), second);
  }
  for (const auto* list : {&first, &second})
    for (const auto& address : *list) out.push_back({host, address, port});
  return first.empty() && second.empty() ? worst : dns::Status::kOk;
}

RouteResult failure(bool permanent, std::string status, std::string text) {
  RouteResult r;
  r.permanent = permanent;
  r.status = std::move(status);
  r.text = std::move(text);
  return r;
}

// Address lookups for the hosts in order, up to the address limit.
RouteResult resolve_hosts(dns::Resolver& resolver, const std::vector<NextHop>& hosts, const RouteOptions& options,
                          std::string_view what) {
  RouteResult result;
  bool temporary = false;
  for (const auto& hop : hosts) {
    if (result.targets.size() >= options.max_addresses) break;
    dns::Status s = add_addresses(resolver, hop.host, hop.port, options, result.targets);
    if (s == dns::Status::kServFail) temporary = true;
  }
  if (result.targets.size() > options.max_addresses) result.targets.resize(options.max_addresses);
  if (result.ok()) return result;
  if (temporary)
    return failure(false, "4.4.3", "temporary failure looking up the address of " + std::string(what));
  return failure(true, "5.4.4", "no address (of the wanted family) for " + std::string(what));
}

}  // namespace

std::optional<AddressFamily> parse_family(std::string_view text) {
  if (text == "prefer-ipv4") return AddressFamily::kPreferIpv4;
  if (text == "prefer-ipv6") return AddressFamily::kPreferIpv6;
  if (text == "ipv4-only") return AddressFamily::kIpv4Only;
  if (text == "ipv6-only") return AddressFamily::kIpv6Only;
  return std::nullopt;
}

std::optional<NextHop> parse_next_hop(std::string_view text, uint16_t default_port) {
  NextHop hop;
  hop.port = default_port;
  std::string_view port_text;
  if (text.starts_with("[")) {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    hop.host = std::string(text.substr(1, close - 1));
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return std::nullopt;
      port_text = rest.substr(1);
    }
  } else {
    size_t colon = text.rfind(':');
    if (colon != std::string_view::npos && text.find(':') != colon) return std::nullopt;  // bare IPv6
    hop.host = std::string(text.substr(0, colon));
    if (colon != std::string_view::npos) port_text = text.substr(colon + 1);
  }
  if (hop.host.empty() || hop.host.size() > 255) return std::nullopt;
  if (!port_text.empty() || text.ends_with(":")) {
    unsigned port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || port == 0 || port > 65535)
      return std::nullopt;
    hop.port = static_cast<uint16_t>(port);
  }
  hop.host = to_lower(hop.host);
  return hop;
}

RouteResult route_by_hops(dns::Resolver& resolver, const std::vector<NextHop>& hops, const RouteOptions& options) {
  std::string names;
  for (const auto& hop : hops) names += (names.empty() ? "" : ", ") + hop.host;
  return resolve_hosts(resolver, hops, options, names);
}

RouteResult route_by_mx(dns::Resolver& resolver, std::string_view domain_in, const RouteOptions& options,
                        std::mt19937& random) {
  std::string domain = to_lower(domain_in);
  if (domain.starts_with("[") && domain.ends_with("]")) {
    std::string literal = domain.substr(1, domain.size() - 2);
    if (literal.starts_with("ipv6:")) literal = literal.substr(5);
    return resolve_hosts(resolver, {{literal, options.port}}, options, domain);
  }
  dns::Answer<dns::MxRecord> mx = resolver.mx(domain);
  if (mx.status == dns::Status::kNxDomain)
    return failure(true, "5.1.2", "domain " + domain + " does not exist (NXDOMAIN)");
  if (mx.status == dns::Status::kMalformed && mx.records.empty())
    return failure(true, "5.1.2", "bad destination domain " + domain);
  if (mx.status != dns::Status::kOk && mx.status != dns::Status::kNoData)
    return failure(false, "4.4.3", "temporary failure looking up the MX of " + domain + " (" +
                                       std::string(dns::to_string(mx.status)) + ")");
  if (mx.status == dns::Status::kNoData || mx.records.empty())
    // RFC 5321 5.1: no MX, so the domain itself is the implicit MX.
    return resolve_hosts(resolver, {{domain, options.port}}, options, domain);

  if (std::any_of(mx.records.begin(), mx.records.end(), [](const dns::MxRecord& r) { return r.exchange.empty(); }))
    return failure(true, "5.1.10", "domain " + domain + " accepts no mail (null MX)");

  std::vector<dns::MxRecord> records = mx.records;
  std::shuffle(records.begin(), records.end(), random);  // then a stable sort keeps equal ones shuffled
  std::stable_sort(records.begin(), records.end(),
                   [](const dns::MxRecord& a, const dns::MxRecord& b) { return a.preference < b.preference; });
  // RFC 5321 5.1: when this relay is one of the MX hosts, only the more preferred ones qualify.
  for (size_t i = 0; i < records.size(); ++i) {
    if (std::find(options.self_names.begin(), options.self_names.end(), to_lower(records[i].exchange)) !=
        options.self_names.end()) {
      uint16_t self_pref = records[i].preference;
      std::erase_if(records, [&](const dns::MxRecord& r) { return r.preference >= self_pref; });
      if (records.empty())
        return failure(true, "5.4.6", "mail for " + domain + " loops back to myself");
      break;
    }
  }
  std::vector<NextHop> hosts;
  for (const auto& r : records) hosts.push_back({to_lower(r.exchange), options.port});
  return resolve_hosts(resolver, hosts, options, "the MX hosts of " + domain);
}

}  // namespace relay::smtp
