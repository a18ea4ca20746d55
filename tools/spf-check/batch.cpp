#include "batch.hpp"

#include <fmt/format.h>

#include <sstream>

#include "relay/cli.hpp"
#include "relay/dns_trace.hpp"
#include "relay/exit_codes.hpp"
#include "relay/log.hpp"
#include "relay/spf.hpp"

namespace relay::spf_check {

int run_batch(std::FILE* input, dns::Resolver& resolver, const std::string& receiver, int64_t now,
              const ReportOptions& options) {
  int code = kExitOk;
  std::string line;
  size_t number = 0;
  for (int c = 0; c != EOF;) {
    line.clear();
    bool too_long = false;
    while ((c = std::fgetc(input)) != EOF && c != '\n') {
      if (line.size() < kMaxBatchLine) line += static_cast<char>(c);
      else too_long = true;
    }
    if (c == EOF && line.empty()) break;
    ++number;
    std::istringstream fields(line);
    spf::Query query;
    std::string extra;
    fields >> query.ip >> query.sender >> query.helo >> extra;
    if (line.empty() || line[0] == '#') continue;
    if (too_long || query.helo.empty() || !extra.empty()) {
      log::warning(fmt::format("line {}: expected \"IP SENDER HELO\"{}", number, too_long ? " (line too long)" : ""));
      code = kExitData;
      continue;
    }
    query.sender = spf::envelope_sender(query.sender);
    query.receiver = receiver;
    query.now = now;
    dns::TracingResolver tracing(resolver);
    spf::Verdict verdict;
    try {
      verdict = spf::check(tracing, query);
    } catch (const Failure& failure) {
      log::warning(fmt::format("line {}: {}", number, failure.what()));
      code = kExitData;
      continue;
    }
    if (verdict.result == spf::Result::kTempError && code == kExitOk) code = kExitTemporary;
    std::string out = options.json
                          ? report(verdict, query, tracing.entries(), options)
                          : fmt::format("{} {} {} {} {}\n", spf::to_string(verdict.result), query.ip,
                                        query.sender.empty() ? "<>" : log::sanitize(query.sender),
                                        log::sanitize(query.helo),
                                        verdict.mechanism.empty() ? "-" : log::sanitize(verdict.mechanism));
    write_all(1, out, "standard output");
  }
  if (std::ferror(input)) throw Failure(kExitTemporary, "unable to read standard input");
  return code;
}

}  // namespace relay::spf_check
