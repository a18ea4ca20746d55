// MTA-STS (RFC 8461 3.1) and TLS-RPT (RFC 8460 3) TXT records.
#include <algorithm>
#include <cctype>
#include <functional>

#include <fmt/format.h>

#include "checks.hpp"

namespace relay::mail_audit {
namespace {

std::string trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return std::string(text);
}

// The value of tag in a "k=v; k=v" record, or nullopt.
std::optional<std::string> tag_value(std::string_view record, std::string_view tag) {
  size_t start = 0;
  while (start <= record.size()) {
    size_t semicolon = record.find(';', start);
    if (semicolon == std::string_view::npos) semicolon = record.size();
    std::string part = trim(record.substr(start, semicolon - start));
    start = semicolon + 1;
    size_t equals = part.find('=');
    if (equals != std::string::npos && trim(std::string_view(part).substr(0, equals)) == tag)
      return trim(std::string_view(part).substr(equals + 1));
  }
  return std::nullopt;
}

// Looks up the one record at name starting with version; validate returns "" or a problem.
void check_record(dns::Resolver& resolver, const std::string& check, const std::string& name, std::string_view version,
                  const std::function<std::string(const std::string&)>& validate, const std::string& missing_advice,
                  Findings& findings) {
  auto txt = resolver.txt(name);
  if (dns::is_temporary(txt.status) || txt.status == dns::Status::kMalformed)
    return findings.dns_error(check, txt.status, "TXT", name);
  std::vector<std::string> records;
  for (const auto& text : txt.records)
    if (text.starts_with(version)) records.push_back(text);
  if (records.empty()) return findings.warn(check, fmt::format("no record at {}", name), missing_advice);
  if (records.size() > 1)
    return findings.fail(check, fmt::format("{} records at {}", records.size(), name), "publish exactly one");
  std::string problem = validate(records[0]);
  if (!problem.empty()) return findings.fail(check, fmt::format("{}: {}", records[0], problem), "fix the record syntax");
  findings.pass(check, records[0]);
}

}  // namespace

void check_transport(dns::Resolver& resolver, const AuditOptions& options, Findings& findings) {
  check_record(
      resolver, "mta-sts", "_mta-sts." + options.domain, "v=STSv1",
      [](const std::string& record) -> std::string {
        auto id = tag_value(record, "id");
        if (!id) return "no id=";
        if (id->empty() || id->size() > 32 ||
            !std::all_of(id->begin(), id->end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)); }))
          return "id= must be 1 to 32 letters and digits";
        return "";
      },
      "publish an MTA-STS policy so senders insist on TLS to your MX hosts", findings);
  check_record(
      resolver, "tls-rpt", "_smtp._tls." + options.domain, "v=TLSRPTv1",
      [](const std::string& record) -> std::string {
        auto rua = tag_value(record, "rua");
        if (!rua || rua->empty()) return "no rua=";
        for (size_t start = 0; start <= rua->size();) {
          size_t comma = rua->find(',', start);
          if (comma == std::string::npos) comma = rua->size();
          std::string uri = trim(std::string_view(*rua).substr(start, comma - start));
          if (!uri.starts_with("mailto:") && !uri.starts_with("https://"))
            return fmt::format("rua URI {} must be mailto: or https:", uri);
          start = comma + 1;
        }
        return "";
      },
      "publish TXT \"v=TLSRPTv1; rua=mailto:...\" to hear about TLS failures", findings);
}

}  // namespace relay::mail_audit
