// DMARC: present, syntax, policy strength, reports, alignment, external report authorization.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "checks.hpp"
#include "relay/dmarc.hpp"

namespace relay::mail_audit {
namespace {

void check_policy(const dmarc::Discovery& discovery, Findings& findings) {
  const dmarc::Record& record = discovery.record;
  dmarc::Policy subdomains = record.sp.value_or(record.p);
  std::string detail = fmt::format("p={} sp={} pct={}", dmarc::to_string(record.p), dmarc::to_string(subdomains), record.pct);
  if (record.p == dmarc::Policy::kNone)
    findings.warn("dmarc.policy", detail + ": monitoring only, failing mail is delivered",
                  "move to p=quarantine, then p=reject, once the reports show only your own mail");
  else if (record.pct < 100)
    findings.warn("dmarc.policy", detail + ": applied to part of the failing mail", "raise pct to 100");
  else if (subdomains == dmarc::Policy::kNone)
    findings.warn("dmarc.policy", detail + ": subdomains are not protected", "set sp= to quarantine or reject");
  else
    findings.pass("dmarc.policy", detail);
}

void check_reports(dns::Resolver& resolver, const dmarc::Discovery& discovery, Findings& findings) {
  const dmarc::Record& record = discovery.record;
  if (record.rua.empty())
    findings.warn("dmarc.rua", "no aggregate report address", "add rua=mailto:... to learn who sends as this domain");
  else
    findings.pass("dmarc.rua", fmt::format("rua={}{}", fmt::join(record.rua, ","),
                                           record.ruf.empty() ? "" : fmt::format(" ruf={}", fmt::join(record.ruf, ","))));
  for (const auto& auth : dmarc::check_report_authorization(resolver, discovery.record_domain, record)) {
    if (!auth.external) continue;
    std::string check = "dmarc.report-auth " + auth.report_domain;
    std::string name = discovery.record_domain + "._report._dmarc." + auth.report_domain;
    if (auth.authorized)
      findings.pass(check, fmt::format("{} authorized by {}", auth.uri, name));
    else if (dns::is_temporary(auth.status))
      findings.dns_error(check, auth.status, "TXT", name);
    else
      findings.fail(check, fmt::format("{} is in another domain and {} has no \"v=DMARC1\" record", auth.uri, name),
                    fmt::format("ask {} to publish TXT \"v=DMARC1\" at {}", auth.report_domain, name));
  }
}

}  // namespace

void check_dmarc(dns::Resolver& resolver, const AuditOptions& options, Findings& findings) {
  dmarc::Discovery discovery = dmarc::discover(resolver, options.domain);
  switch (discovery.status) {
    case dmarc::DiscoveryStatus::kNone:
      return findings.fail("dmarc", "no DMARC record", fmt::format("publish TXT \"v=DMARC1; p=none; rua=mailto:...\" at _dmarc.{}", options.domain));
    case dmarc::DiscoveryStatus::kTempError:
      return findings.fail("dmarc", discovery.problem, "the name servers did not answer: run again when DNS works");
    case dmarc::DiscoveryStatus::kPermError:
      return findings.fail("dmarc", discovery.problem, "fix the record: receivers ignore an invalid DMARC record");
    case dmarc::DiscoveryStatus::kFound:
      break;
  }
  findings.pass("dmarc", fmt::format("_dmarc.{}{}: {}", discovery.record_domain,
                                     discovery.from_org_domain ? " (organizational domain)" : "", discovery.text));
  for (const auto& warning : discovery.record.warnings)
    findings.warn("dmarc.syntax", warning, "fix the record so every receiver reads it the same way");
  check_policy(discovery, findings);
  check_reports(resolver, discovery, findings);
  const char* modes[] = {"relaxed", "strict"};
  findings.pass("dmarc.alignment", fmt::format("adkim={} aspf={}", modes[static_cast<int>(discovery.record.adkim)],
                                               modes[static_cast<int>(discovery.record.aspf)]));
}

}  // namespace relay::mail_audit
