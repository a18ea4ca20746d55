#pragma once
// What one spool-retry pass is told to do (from the command line).
#include <cstdint>
#include <string>
#include <vector>

#include "relay/dsn.hpp"
#include "relay/retry_schedule.hpp"

namespace spoolretry {

struct Options {
  std::string spool_dir;
  relay::RetryPolicy policy;
  int64_t max_age = 5 * 86400;        // queue lifetime
  int64_t dsn_max_age = 2 * 86400;    // lifetime of mail from the null sender (DSNs themselves)
  int64_t delay_warning = 4 * 3600;   // 0: no delay warnings
  int64_t lease = 600;                // active/ entries older than this with no claimer go back
  size_t dsn_return_limit = relay::kDefaultDsnReturnLimit;
  std::string hostname;               // Reporting-MTA and MAILER-DAEMON@ of DSNs
  bool dry_run = false;
  bool full_scan = false;             // ignore the nothing-due hint
  bool json = false;
  std::string mx_deliver;             // --deliver: the mx-deliver program; empty: no delivery
  std::vector<std::string> deliver_args;
};

}  // namespace spoolretry
