#pragma once
// A whole message as a policy Request: the envelope given, the From domain and size read
// from the message itself.
#include <string>
#include <vector>

#include "relay/policy.hpp"

namespace relay_policy {

struct EnvelopeFields {
  std::string user, client, sender;
  std::vector<std::string> recipients;
};

// The domain of the first address of the message's From field; empty when there is none or
// it does not parse.
std::string header_from_domain(const std::string& message);

relay::policy::Request message_request(const EnvelopeFields& envelope, const std::string& message);

}  // namespace relay_policy
