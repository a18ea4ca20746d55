#pragma once
// --deliver: after a pass that moved mail to outgoing/, run mx-deliver over the spool and wait.
#include <optional>

#include "options.hpp"

namespace spoolretry {

// Runs "MX_DELIVER --spool DIR ARGS..." with RELAY_NOW set when the clock is fixed, and returns
// its exit code (75 when it could not be started or died by a signal).
int run_mx_deliver(const Options& options, std::optional<int64_t> fixed_now);

}  // namespace spoolretry
