#include "findings.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "relay/json.hpp"
#include "relay/log.hpp"

namespace relay::mail_audit {

std::string_view to_string(Status status) {
  switch (status) {
    case Status::kPass: return "pass";
    case Status::kWarn: return "warn";
    case Status::kFail: return "fail";
  }
  return "fail";
}

void Findings::pass(std::string check, std::string detail) {
  findings_.push_back({std::move(check), Status::kPass, std::move(detail), ""});
}

void Findings::warn(std::string check, std::string detail, std::string advice) {
  findings_.push_back({std::move(check), Status::kWarn, std::move(detail), std::move(advice)});
}

void Findings::fail(std::string check, std::string detail, std::string advice) {
  findings_.push_back({std::move(check), Status::kFail, std::move(detail), std::move(advice)});
}

void Findings::dns_error(std::string check, dns::Status status, std::string_view type, std::string_view name) {
  fail(std::move(check), fmt::format("DNS {} looking up {} {}", dns::to_string(status), type, name),
       status == dns::Status::kTimeout ? "the name servers did not answer: check they are reachable, then run again"
                                       : "the name servers answered with an error: check the zone loads, then run again");
}

std::string Findings::table() const {
  size_t width = 5;
  for (const auto& finding : findings_) width = std::max(width, finding.check.size());
  std::string out = fmt::format("{:<6}{:<{}}  {}\n", "STATE", "CHECK", width, "DETAIL / ADVICE");
  for (const auto& finding : findings_) {
    out += fmt::format("{:<6}{:<{}}  {}\n", to_string(finding.status), finding.check, width, log::sanitize(finding.detail));
    if (!finding.advice.empty()) out += fmt::format("{:<6}{:<{}}  -> {}\n", "", "", width, log::sanitize(finding.advice));
  }
  return out;
}

std::string Findings::json_lines(const std::string& domain, int exit_code) const {
  std::string out;
  int counts[3] = {0, 0, 0};
  for (const auto& finding : findings_) {
    ++counts[static_cast<int>(finding.status)];
    JsonObject object;
    object.add("domain", domain).add("check", finding.check).add("status", to_string(finding.status));
    object.add("detail", finding.detail).add("advice", finding.advice);
    out += object.str() + "\n";
  }
  JsonObject summary;
  summary.add("domain", domain).add("summary", true).add("pass", counts[0]).add("warn", counts[1]);
  summary.add("fail", counts[2]).add("exit", exit_code);
  return out + summary.str() + "\n";
}

int Findings::exit_code(bool strict) const {
  bool warned = false;
  for (const auto& finding : findings_) {
    if (finding.status == Status::kFail) return 2;
    warned |= finding.status == Status::kWarn;
  }
  return warned && strict ? 1 : 0;
}

}  // namespace relay::mail_audit
