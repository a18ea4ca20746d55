// Resolver options and DNS trace formatting for the audit programs.
#include "relay/audit_options.hpp"

#include <fmt/format.h>

#include "relay/log.hpp"

namespace relay::audit {

void add_resolver_options(CLI::App& app, dns::ResolverOptions& options) {
  app.add_option("--resolver", options.server, "DNS server IP[:PORT] or [IPv6]:PORT (default: /etc/resolv.conf)")
      ->envname("RELAY_RESOLVER");
  app.add_option_function<double>(
         "--dns-timeout", [&options](double seconds) { options.timeout_ms = static_cast<int>(seconds * 1000); },
         "seconds to wait for each DNS answer, retries included (default 5)")
      ->check(CLI::Range(0.01, 120.0));
  app.add_option("--dns-retries", options.retries, "times a DNS query is sent again after no answer (default 1)")
      ->check(CLI::Range(0, 10));
}

std::string trace_line(const dns::TraceEntry& entry) {
  std::string line = fmt::format("dns {} {} {} {:.1f}ms", entry.type, log::sanitize(entry.name),
                                 dns::to_string(entry.status), entry.milliseconds);
  for (const auto& name : entry.cname_chain) line += " cname=" + log::sanitize(name);
  for (const auto& record : entry.records) line += " " + json_quote(record);
  return line;
}

JsonArray trace_json(const std::vector<dns::TraceEntry>& entries) {
  JsonArray array;
  for (const auto& entry : entries) {
    JsonObject object;
    object.add("type", entry.type).add("name", entry.name).add("status", dns::to_string(entry.status));
    object.add("ms", entry.milliseconds).add("records", entry.records);
    if (!entry.cname_chain.empty()) object.add("cname_chain", entry.cname_chain);
    array.push(object);
  }
  return array;
}

}  // namespace relay::audit
