#pragma once
// The checks of mail-audit, one area each. Every check adds findings and never throws for
// what DNS says: absence, errors and timeouts are findings.
#include <string>
#include <vector>

#include "findings.hpp"
#include "relay/dns.hpp"

namespace relay::mail_audit {

struct AuditOptions {
  std::string domain;
  std::vector<std::string> selectors;
  std::vector<std::string> relay_ips;
};

void check_mx(dns::Resolver& resolver, const AuditOptions& options, Findings& findings);
void check_spf(dns::Resolver& resolver, const AuditOptions& options, Findings& findings);
void check_dkim(dns::Resolver& resolver, const AuditOptions& options, Findings& findings);
void check_dmarc(dns::Resolver& resolver, const AuditOptions& options, Findings& findings);
void check_transport(dns::Resolver& resolver, const AuditOptions& options, Findings& findings);  // MTA-STS, TLS-RPT
void check_relay_ips(dns::Resolver& resolver, const AuditOptions& options, Findings& findings);  // PTR, FCrDNS

}  // namespace relay::mail_audit
