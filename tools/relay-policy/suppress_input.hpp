#pragma once
// The input of relay-policy suppress: one address or domain a line, or bounce-parse JSON
// lines ({"recipient": ..., "reason": ..., "hard": ..., "date": ...}).
#include <cstdint>
#include <istream>
#include <string>
#include <vector>

#include "relay/policy_store.hpp"

namespace relay_policy {

struct SuppressInput {
  std::vector<relay::policy::Suppression> entries;
  size_t soft = 0;          // JSON lines with "hard": false (soft bounces are not suppressed)
  size_t no_recipient = 0;  // JSON lines without a recipient
};

// The entry for one address or domain as typed: lower case, checked. Throws Failure(65).
std::string suppression_key(const std::string& text);

// Reads lines; each entry gets reason (unless the line has its own), added = now unless the
// line has a date, and expires. Throws Failure(65) naming the line of the first bad one.
SuppressInput read_suppress_input(std::istream& in, const std::string& source, const std::string& reason,
                                  int64_t now, int64_t expire_after);

}  // namespace relay_policy
