#pragma once
// mail-audit's results: one finding per check (pass, warn or fail, a detail, one line of
// advice), printed as an aligned table or JSON lines, summarised into the exit code.
#include <string>
#include <vector>

#include "relay/dns.hpp"

namespace relay::mail_audit {

enum class Status { kPass, kWarn, kFail };

struct Finding {
  std::string check;   // "spf.lookups"
  Status status = Status::kPass;
  std::string detail;  // what was found
  std::string advice;  // what to do (empty for pass)
};

class Findings {
 public:
  void pass(std::string check, std::string detail);
  void warn(std::string check, std::string detail, std::string advice);
  void fail(std::string check, std::string detail, std::string advice);
  // A lookup that failed for a reason other than absence: reported as such, a failure.
  void dns_error(std::string check, dns::Status status, std::string_view type, std::string_view name);

  std::string table() const;
  std::string json_lines(const std::string& domain, int exit_code) const;
  // 2 with any failure; 1 with warnings when strict; else 0.
  int exit_code(bool strict) const;

 private:
  std::vector<Finding> findings_;
};

std::string_view to_string(Status status);

}  // namespace relay::mail_audit
