#pragma once
// Which rate counters a request touches, and what each costs: the mapping from the rate
// settings of relay-policy.conf(5) (scope, unit, windows) to store keys.
#include <string>
#include <vector>

#include "relay/policy.hpp"
#include "relay/policy_rules.hpp"
#include "relay/policy_store.hpp"

namespace relay::policy {

// For messages: what a counter stands for, in words.
struct CounterInfo {
  std::string setting;  // "user-messages"
  std::string rate;     // "100/minute"
  std::string subject;  // "user alice", "recipient domain example.net"
};

// The counters of section's rate settings that request touches at its stage: at MAIL one
// message, at RCPT the recipients so far (and one message and one recipient for the
// recipient's domain), at DATA the whole message. info (when given) gets one entry per counter.
std::vector<Counter> counters_for(const Section& section, const Request& request,
                                  std::vector<CounterInfo>* info);

}  // namespace relay::policy
