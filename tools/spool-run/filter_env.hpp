#pragma once
// The environment spool-run gives a filter (relay-filter(7), ENVIRONMENT).
#include <string>
#include <vector>

#include "relay/envelope.hpp"

namespace relay::spoolrun {

// Linux refuses a single variable longer than 128 KiB (MAX_ARG_STRLEN); stay below it.
inline constexpr size_t kMaxVariable = 120 * 1024;

// Our own environment without the variables spool-run sets itself.
std::vector<std::string> inherited_environment();

// For a per-message filter: inherited plus RELAY_SPOOL, RELAY_STAGE and the envelope variables.
// Throws Failure(kExitData) when the recipient list does not fit one variable.
std::vector<std::string> message_environment(const std::vector<std::string>& inherited, const std::string& spool,
                                             const std::string& stage, const Envelope& envelope);

// For a streaming filter: inherited plus RELAY_SPOOL, RELAY_STAGE, RELAY_FILTER_PROTOCOL and
// RELAY_FILTER_EXTENSIONS (the protocol extensions offered).
std::vector<std::string> stream_environment(const std::vector<std::string>& inherited, const std::string& spool,
                                            const std::string& stage);

}  // namespace relay::spoolrun
