#pragma once
// The Postfix policy delegation protocol (SMTPD_POLICY_README): name=value lines ending with
// an empty line in, "action=..." and an empty line out, many requests per connection.
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "relay/policy.hpp"

namespace relay_policy {

using Attributes = std::map<std::string, std::string>;

// The state of one Postfix connection: the recipients accepted in the current transaction
// (named by Postfix's "instance"), so END-OF-MESSAGE can count them per recipient domain.
class PostfixSession {
 public:
  explicit PostfixSession(relay::policy::Policy& policy) : policy_(policy) {}

  // The action for one request: DUNNO (no objection, let Postfix's other rules decide),
  // "451 4.7.1 text", "550 5.7.1 text" or "HOLD text".
  std::string answer(const Attributes& request);

 private:
  relay::policy::Policy& policy_;
  std::string instance_;
  std::vector<std::string> recipients_;
};

// Serves requests from in_fd, answering on out_fd, until the client closes, stays idle longer
// than idle, or breaks the protocol (logged). Never throws for the client's doing.
void serve_postfix_client(relay::policy::Policy& policy, int in_fd, int out_fd, std::chrono::seconds idle);

}  // namespace relay_policy
