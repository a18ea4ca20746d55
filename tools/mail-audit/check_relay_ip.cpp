// The relay's addresses: a PTR record whose name resolves back to the address
// (forward-confirmed reverse DNS), which many receivers require.
#include <fmt/format.h>

#include "checks.hpp"

namespace relay::mail_audit {

void check_relay_ips(dns::Resolver& resolver, const AuditOptions& options, Findings& findings) {
  for (const std::string& ip : options.relay_ips) {
    std::string check = "ptr " + ip;
    auto ptr = resolver.ptr(ip);
    if (ptr.status == dns::Status::kNxDomain || ptr.status == dns::Status::kNoData) {
      findings.fail(check, "no PTR record", "ask whoever runs the address block to set a PTR to the relay's name");
      continue;
    }
    if (!ptr.ok()) {
      findings.dns_error(check, ptr.status, "PTR", ip);
      continue;
    }
    bool v6 = ip.find(':') != std::string::npos;
    std::string confirmed, problem;
    for (const auto& name : ptr.records) {
      auto forward = v6 ? resolver.aaaa(name) : resolver.a(name);
      if (dns::is_temporary(forward.status)) {
        problem = fmt::format("DNS {} looking up {} {}", dns::to_string(forward.status), v6 ? "AAAA" : "A", name);
        continue;
      }
      for (const auto& address : forward.records)
        if (dns::reverse_name(address) == dns::reverse_name(ip)) confirmed = name;
      if (!confirmed.empty()) break;
    }
    if (!confirmed.empty())
      findings.pass(check, fmt::format("{} (forward-confirmed)", confirmed));
    else if (!problem.empty())
      findings.fail(check, problem, "the name servers did not answer: run again when DNS works");
    else
      findings.fail(check, fmt::format("{} does not resolve back to {}", ptr.records.front(), ip),
                    fmt::format("add an {} record {} -> {}", v6 ? "AAAA" : "A", ptr.records.front(), ip));
  }
}

}  // namespace relay::mail_audit
