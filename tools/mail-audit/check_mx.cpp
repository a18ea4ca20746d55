// MX: present, null MX (RFC 7505), every exchange resolves, none is a CNAME (RFC 2181 10.3).
#include <fmt/format.h>

#include "checks.hpp"

namespace relay::mail_audit {

void check_mx(dns::Resolver& resolver, const AuditOptions& options, Findings& findings) {
  auto mx = resolver.mx(options.domain);
  if (mx.status == dns::Status::kNoData || mx.status == dns::Status::kNxDomain) {
    findings.warn("mx", fmt::format("no MX record ({})", dns::to_string(mx.status)),
                  "publish an MX so bounces and DMARC reports for this domain can be delivered");
    return;
  }
  if (!mx.ok()) return findings.dns_error("mx", mx.status, "MX", options.domain);
  bool null_mx = false;
  for (const auto& record : mx.records) null_mx |= record.exchange.empty();
  if (null_mx && mx.records.size() > 1)
    return findings.fail("mx", "a null MX (\".\") next to other MX records",
                         "a null MX must be the only MX record (RFC 7505): remove it or the others");
  if (null_mx)
    return findings.warn("mx", "null MX: the domain accepts no mail",
                         "bounces to this sending domain are lost; use another bounce domain or publish a real MX");
  std::string hosts;
  for (const auto& record : mx.records) hosts += fmt::format("{}{} {}", hosts.empty() ? "" : ", ", record.preference, record.exchange);
  findings.pass("mx", hosts);
  for (const auto& record : mx.records) {
    std::string check = "mx.host " + record.exchange;
    auto v4 = resolver.a(record.exchange);
    auto v6 = resolver.aaaa(record.exchange);
    if (dns::is_temporary(v4.status)) {
      findings.dns_error(check, v4.status, "A", record.exchange);
      continue;
    }
    if (dns::is_temporary(v6.status)) {
      findings.dns_error(check, v6.status, "AAAA", record.exchange);
      continue;
    }
    if (!v4.cname_chain.empty() || !v6.cname_chain.empty()) {
      findings.warn(check, "the MX target is an alias (CNAME)",
                    "point the MX at the host's own name, not an alias (RFC 2181 10.3)");
      continue;
    }
    if (v4.records.empty() && v6.records.empty()) {
      findings.fail(check, "has no A or AAAA record", "give the MX host an address or remove the MX record");
      continue;
    }
    std::string addresses;
    for (const auto* list : {&v4.records, &v6.records})
      for (const auto& address : *list) addresses += (addresses.empty() ? "" : " ") + address;
    findings.pass(check, addresses);
  }
}

}  // namespace relay::mail_audit
