#pragma once
// Holding and releasing a claimed message, the same way for spool-ctl and spool-run: the
// envelope records why (hold-reason) and where from (hold-from), so release can put it back.
#include <optional>
#include <string_view>

#include "relay/spool.hpp"

namespace relay::hold {

inline constexpr std::string_view kHoldFromField = "hold-from";

// Records reason and the claim's origin in the envelope, then moves the message to hold/.
void hold_claimed(Claim& claim, std::string_view reason);

// Clears the hold fields and moves a message claimed from hold/ on: to `to` when given, else
// where it was held from (deferred mail to outgoing/, to be tried now; unknown to incoming/).
Stage release_claimed(Claim& claim, std::optional<Stage> to);

}  // namespace relay::hold
