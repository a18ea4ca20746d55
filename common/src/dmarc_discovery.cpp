// Policy discovery (RFC 7489 6.6.3) and the authorization of reports sent to another domain
// (RFC 7489 7.1).
#include <fmt/format.h>

#include "relay/dmarc.hpp"
#include "relay/domain.hpp"

namespace relay::dmarc {
namespace {

// TXT records at name that are DMARC records; status kOk/kNoData/kNxDomain or an error.
std::pair<dns::Status, std::vector<std::string>> dmarc_records(dns::Resolver& resolver, const std::string& name) {
  auto answer = resolver.txt(name);
  std::vector<std::string> records;
  for (const auto& text : answer.records)
    if (is_dmarc_record(text)) records.push_back(text);
  return {answer.status, records};
}

}  // namespace

Discovery discover(dns::Resolver& resolver, std::string_view from_domain) {
  Discovery discovery;
  std::string domain = normalize_domain(from_domain);
  std::string org = organizational_domain(domain);
  for (bool at_org : {false, true}) {
    if (at_org && org == domain) break;
    const std::string& candidate = at_org ? org : domain;
    discovery.record_domain = candidate;
    discovery.from_org_domain = at_org;
    auto [status, records] = dmarc_records(resolver, "_dmarc." + candidate);
    if (dns::is_temporary(status) || status == dns::Status::kMalformed) {
      discovery.status = DiscoveryStatus::kTempError;
      discovery.problem = fmt::format("DNS {} looking up TXT _dmarc.{}", dns::to_string(status), candidate);
      return discovery;
    }
    if (records.empty()) continue;
    if (records.size() > 1) {
      discovery.status = DiscoveryStatus::kPermError;
      discovery.problem = fmt::format("_dmarc.{} has {} DMARC records (must be one)", candidate, records.size());
      return discovery;
    }
    discovery.text = records[0];
    std::string error;
    std::optional<Record> record = parse_record(records[0], &error);
    if (!record) {
      discovery.status = DiscoveryStatus::kPermError;
      discovery.problem = fmt::format("_dmarc.{}: {}", candidate, error);
      return discovery;
    }
    discovery.record = std::move(*record);
    discovery.status = DiscoveryStatus::kFound;
    return discovery;
  }
  discovery.status = DiscoveryStatus::kNone;
  discovery.record_domain.clear();
  discovery.from_org_domain = false;
  return discovery;
}

std::vector<ReportAuthorization> check_report_authorization(dns::Resolver& resolver, std::string_view policy_domain,
                                                            const Record& record) {
  std::vector<ReportAuthorization> results;
  std::string domain = normalize_domain(policy_domain);
  std::string org = organizational_domain(domain);
  for (const auto* uris : {&record.rua, &record.ruf}) {
    for (const std::string& uri : *uris) {
      ReportAuthorization auth;
      auth.uri = uri;
      std::string_view address = uri;
      address = address.substr(0, address.rfind('!') == std::string_view::npos ? address.size() : address.rfind('!'));
      size_t at = address.rfind('@');
      if (normalize_domain(address.substr(0, 7)) != "mailto:" || at == std::string_view::npos) {
        auth.authorized = true;  // only mailto: reports are authorized through DNS
        results.push_back(auth);
        continue;
      }
      auth.report_domain = normalize_domain(address.substr(at + 1));
      auth.external = organizational_domain(auth.report_domain) != org;
      if (!auth.external) {
        auth.authorized = true;
      } else {
        auto [status, records] = dmarc_records(resolver, domain + "._report._dmarc." + auth.report_domain);
        auth.status = status;
        auth.authorized = !records.empty();
      }
      results.push_back(auth);
    }
  }
  return results;
}

}  // namespace relay::dmarc
