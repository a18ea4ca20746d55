#pragma once
// spf-check --batch: one evaluation per input line "IP SENDER HELO" ("<>" for the null
// sender), one result line per evaluation, one resolver for all (log checks, benchmarks).
#include <cstdio>
#include <string>

#include "relay/dns.hpp"
#include "report.hpp"

namespace relay::spf_check {

inline constexpr size_t kMaxBatchLine = 4096;

// Reads input to the end; returns 0, 65 when a line could not be used, 75 after a temperror.
int run_batch(std::FILE* input, dns::Resolver& resolver, const std::string& receiver, int64_t now,
              const ReportOptions& options);

}  // namespace relay::spf_check
