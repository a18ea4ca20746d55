#pragma once
// spf-check's output: the verdict as aligned text or one JSON line, the trace, the header.
#include <vector>

#include "relay/dns_trace.hpp"
#include "relay/spf.hpp"

namespace relay::spf_check {

struct ReportOptions {
  bool json = false;
  bool trace = false;
  bool header = false;
};

std::string report(const spf::Verdict& verdict, const spf::Query& query,
                   const std::vector<dns::TraceEntry>& trace, const ReportOptions& options);

}  // namespace relay::spf_check
