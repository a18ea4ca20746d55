#include "message_request.hpp"

#include "relay/address.hpp"
#include "relay/headers.hpp"

namespace relay_policy {

std::string header_from_domain(const std::string& message) {
  relay::HeaderBlock headers(message);
  const relay::HeaderField* from = headers.find("From");
  if (!from) return "";
  auto addresses = relay::parse_address_list(from->value());
  if (!addresses || addresses->empty()) return "";
  return relay::domain_of(addresses->front());
}

relay::policy::Request message_request(const EnvelopeFields& envelope, const std::string& message) {
  relay::policy::Request r;
  r.stage = relay::policy::Stage::kData;
  r.user = envelope.user;
  r.client_ip = envelope.client;
  r.sender = envelope.sender;
  r.recipients = envelope.recipients;
  r.from_domain = header_from_domain(message);
  r.size = message.size();
  return r;
}

}  // namespace relay_policy
