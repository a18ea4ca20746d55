#pragma once
// How relay-policy check prints a verdict: one line for people, or one JSON object.
#include <string>
#include <vector>

#include "relay/policy.hpp"

namespace relay_policy {

// "reject 550 5.7.1 sender domain ... [sender-domains]"
std::string verdict_text(const relay::policy::Verdict& verdict);

std::string verdict_json(const relay::policy::Verdict& verdict, const std::vector<std::string>& recipients,
                         const std::vector<relay::policy::Verdict>& per_recipient);

}  // namespace relay_policy
