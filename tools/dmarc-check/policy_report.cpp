#include "policy_report.hpp"

#include <fmt/format.h>

#include "relay/audit_options.hpp"
#include "relay/cli.hpp"
#include "relay/domain.hpp"
#include "relay/exit_codes.hpp"
#include "relay/log.hpp"

namespace relay::dmarc_check {
namespace {

std::string_view mode_name(dmarc::Alignment mode) { return mode == dmarc::Alignment::kStrict ? "strict" : "relaxed"; }

std::string_view status_name(dmarc::DiscoveryStatus status) {
  switch (status) {
    case dmarc::DiscoveryStatus::kFound: return "found";
    case dmarc::DiscoveryStatus::kNone: return "none";
    case dmarc::DiscoveryStatus::kTempError: return "temperror";
    case dmarc::DiscoveryStatus::kPermError: return "permerror";
  }
  return "none";
}

std::string line(std::string_view name, std::string_view value) {
  return fmt::format("{:<14} {}\n", std::string(name) + ":", log::sanitize(value));
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ",") + item;
  return out.empty() ? "-" : out;
}

}  // namespace

std::string record_text(const dmarc::Record& record) {
  std::string out;
  out += line("policy", dmarc::to_string(record.p));
  out += line("subdomains", record.sp ? dmarc::to_string(*record.sp) : fmt::format("{} (from p)", dmarc::to_string(record.p)));
  dmarc::Policy subdomain = record.sp.value_or(record.p);
  out += line("nonexistent", record.np ? dmarc::to_string(*record.np) : fmt::format("{} (inherited)", dmarc::to_string(subdomain)));
  out += line("pct", std::to_string(record.pct));
  out += line("adkim", mode_name(record.adkim));
  out += line("aspf", mode_name(record.aspf));
  out += line("rua", join(record.rua));
  out += line("ruf", join(record.ruf));
  for (const auto& warning : record.warnings) out += line("warning", warning);
  return out;
}

JsonObject record_json(const dmarc::Record& record) {
  JsonObject object;
  dmarc::Policy subdomain = record.sp.value_or(record.p);
  object.add("p", dmarc::to_string(record.p)).add("sp", dmarc::to_string(subdomain));
  object.add("np", dmarc::to_string(record.np.value_or(subdomain))).add("pct", record.pct);
  object.add("adkim", mode_name(record.adkim)).add("aspf", mode_name(record.aspf));
  object.add("rua", record.rua).add("ruf", record.ruf).add("fo", record.fo).add("warnings", record.warnings);
  return object;
}

std::string trace_text(const dns::TracingResolver& resolver, const Output& output) {
  std::string out;
  if (output.trace && !output.json)
    for (const auto& entry : resolver.entries()) out += audit::trace_line(entry) + "\n";
  return out;
}

void add_trace(JsonObject& object, const dns::TracingResolver& resolver, const Output& output) {
  if (output.trace) object.add("trace", audit::trace_json(resolver.entries()));
}

int show_domain(dns::TracingResolver& resolver, const std::string& domain, const Output& output) {
  dmarc::Discovery discovery = dmarc::discover(resolver, domain);
  std::string out = trace_text(resolver, output);
  if (output.json) {
    JsonObject object;
    object.add("domain", domain).add("org_domain", relay::organizational_domain(domain));
    object.add("status", status_name(discovery.status)).add("record_domain", discovery.record_domain);
    object.add("record", discovery.text).add("problem", discovery.problem);
    if (discovery.status == dmarc::DiscoveryStatus::kFound) object.add("policy", record_json(discovery.record));
    add_trace(object, resolver, output);
    out = object.str() + "\n";
  } else {
    out += line("domain", domain);
    out += line("org-domain", relay::organizational_domain(domain));
    out += line("status", status_name(discovery.status));
    if (!discovery.record_domain.empty()) out += line("found-at", "_dmarc." + discovery.record_domain);
    if (!discovery.text.empty()) out += line("record", discovery.text);
    if (!discovery.problem.empty()) out += line("problem", discovery.problem);
    if (discovery.status == dmarc::DiscoveryStatus::kFound) out += record_text(discovery.record);
  }
  write_all(1, out, "standard output");
  return discovery.status == dmarc::DiscoveryStatus::kTempError ? kExitTemporary : kExitOk;
}

int show_record(const std::string& text, bool json) {
  std::string error;
  std::optional<dmarc::Record> record = dmarc::parse_record(text, &error);
  std::string out;
  if (json) {
    JsonObject object;
    object.add("valid", record.has_value()).add("error", error);
    if (record) object.add("policy", record_json(*record));
    out = object.str() + "\n";
  } else {
    out = record ? line("valid", "yes") + record_text(*record) : line("valid", "no") + line("error", error);
  }
  write_all(1, out, "standard output");
  return record ? kExitOk : kExitData;
}

}  // namespace relay::dmarc_check
