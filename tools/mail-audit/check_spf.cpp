// SPF: exactly one record, its syntax, lookups across includes (at most 10), void lookups,
// the final all, and whether each relay IP passes.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "checks.hpp"
#include "relay/spf.hpp"

namespace relay::mail_audit {
namespace {

void check_all(const spf::Analysis& analysis, Findings& findings) {
  if (!analysis.all) {
    if (analysis.ends_in_redirect)
      return findings.warn("spf.all", "the policy ends in a redirect whose record has no all",
                           "end the policy with -all or ~all so unlisted hosts are not neutral");
    return findings.warn("spf.all", "no all mechanism: unlisted hosts get neutral",
                         "end the record with -all (or ~all while testing)");
  }
  switch (*analysis.all) {
    case spf::Qualifier::kPass:
      return findings.fail("spf.all", "+all: every host on the internet passes",
                           "replace +all with -all and list the hosts that send");
    case spf::Qualifier::kNeutral:
      return findings.warn("spf.all", "?all: unlisted hosts are neutral", "use -all (or ~all) once all senders are listed");
    case spf::Qualifier::kSoftFail:
      return findings.pass("spf.all", "~all: unlisted hosts soft-fail");
    case spf::Qualifier::kFail:
      return findings.pass("spf.all", "-all: unlisted hosts fail");
  }
}

void check_relays(dns::Resolver& resolver, const AuditOptions& options, Findings& findings) {
  for (const std::string& ip : options.relay_ips) {
    spf::Query query;
    query.ip = ip;
    query.sender = "postmaster@" + options.domain;
    query.helo = options.domain;
    spf::Verdict verdict = spf::check(resolver, query);
    std::string check = "spf.relay " + ip;
    std::string detail = fmt::format("{} ({})", spf::to_string(verdict.result),
                                     verdict.problem.empty() ? verdict.mechanism : verdict.problem);
    if (verdict.result == spf::Result::kPass)
      findings.pass(check, detail);
    else if (verdict.result == spf::Result::kTempError)
      findings.fail(check, detail, "the name servers did not answer: run again when DNS works");
    else
      findings.fail(check, detail, fmt::format("add ip{}:{} to the SPF record", ip.find(':') == std::string::npos ? 4 : 6, ip));
  }
}

}  // namespace

void check_spf(dns::Resolver& resolver, const AuditOptions& options, Findings& findings) {
  auto txt = resolver.txt(options.domain);
  if (dns::is_temporary(txt.status) || txt.status == dns::Status::kMalformed)
    return findings.dns_error("spf", txt.status, "TXT", options.domain);
  std::vector<std::string> records;
  for (const auto& text : txt.records)
    if (spf::is_spf_record(text)) records.push_back(text);
  if (records.empty())
    return findings.fail("spf", "no SPF record", fmt::format("publish a TXT record \"v=spf1 ... -all\" at {}", options.domain));
  if (records.size() > 1)
    return findings.fail("spf", fmt::format("{} SPF records (receivers see permerror)", records.size()),
                         "merge them into one record");
  findings.pass("spf", records[0]);
  std::string error;
  std::optional<spf::Record> record = spf::parse_record(records[0], &error);
  if (!record) return findings.fail("spf.syntax", error, "fix the record: receivers treat it as permerror");
  if (record->unknown_modifiers.empty())
    findings.pass("spf.syntax", "valid");
  else
    findings.warn("spf.syntax", fmt::format("unknown modifiers are ignored: {}", fmt::join(record->unknown_modifiers, " ")),
                  "remove them (or fix their spelling: only redirect= and exp= have a meaning)");

  spf::Analysis analysis = spf::analyze(resolver, options.domain, *record);
  if (!analysis.temporary.empty()) {
    findings.fail("spf.lookups", analysis.temporary, "the name servers did not answer: run again when DNS works");
  } else if (analysis.lookups > 10) {
    findings.fail("spf.lookups", fmt::format("{} DNS lookups (limit 10): receivers see permerror", analysis.lookups),
                  "replace includes with ip4:/ip6: ranges or drop senders you no longer use");
  } else {
    findings.pass("spf.lookups", fmt::format("{} DNS lookups (limit 10)", analysis.lookups));
  }
  std::string voids;
  for (const auto& name : analysis.void_names) voids += " " + name;
  if (analysis.void_lookups > 2)
    findings.fail("spf.void", fmt::format("{} void lookups (limit 2):{}", analysis.void_lookups, voids),
                  "remove mechanisms that name domains without records");
  else if (analysis.void_lookups > 0)
    findings.warn("spf.void", fmt::format("{} void lookup(s):{}", analysis.void_lookups, voids),
                  "remove mechanisms that name domains without records");
  else
    findings.pass("spf.void", "no void lookups");
  for (const auto& problem : analysis.problems)
    findings.fail("spf.nested", problem, "fix or remove the include: receivers see permerror");
  check_all(analysis, findings);
  check_relays(resolver, options, findings);
}

}  // namespace relay::mail_audit
