#include "report.hpp"

#include <fmt/format.h>

#include "relay/audit_options.hpp"
#include "relay/json.hpp"
#include "relay/log.hpp"

namespace relay::spf_check {
namespace {

std::string explanation_of(const spf::Verdict& verdict) {
  if (verdict.result != spf::Result::kFail) return "";
  return verdict.explanation.empty() ? std::string(spf::kDefaultExplanation) : verdict.explanation;
}

}  // namespace

std::string report(const spf::Verdict& verdict, const spf::Query& query,
                   const std::vector<dns::TraceEntry>& trace, const ReportOptions& options) {
  std::string explanation = explanation_of(verdict);
  if (options.json) {
    JsonObject object;
    object.add("result", spf::to_string(verdict.result)).add("identity", verdict.identity);
    object.add("domain", verdict.domain).add("ip", query.ip).add("sender", query.sender).add("helo", query.helo);
    object.add("mechanism", verdict.mechanism).add("explanation", explanation).add("problem", verdict.problem);
    object.add("explanation_from_exp", !verdict.explanation.empty());
    object.add("dns_lookups", verdict.dns_mechanisms).add("void_lookups", verdict.void_lookups);
    if (options.header) object.add("received_spf", spf::received_spf_header(verdict, query));
    if (options.trace) object.add("trace", audit::trace_json(trace));
    return object.str() + "\n";
  }
  std::string out;
  if (options.trace)
    for (const auto& entry : trace) out += audit::trace_line(entry) + "\n";
  auto field = [&](std::string_view name, std::string_view value) {
    if (!value.empty()) out += fmt::format("{:<12} {}\n", std::string(name) + ":", log::sanitize(value));
  };
  field("result", spf::to_string(verdict.result));
  field("identity", verdict.identity);
  field("domain", verdict.domain);
  field("mechanism", verdict.mechanism);
  field("explanation", explanation);
  field("problem", verdict.problem);
  field("lookups", fmt::format("{} (void {})", verdict.dns_mechanisms, verdict.void_lookups));
  if (options.header) out += spf::received_spf_header(verdict, query) + "\n";
  return out;
}

}  // namespace relay::spf_check
