#pragma once
// Delivers one message to its recipients: groups them by destination, routes each group
// (per-domain route, relay hosts or MX), and tries the servers in order until one gives every
// recipient an answer. Sessions come from and go back to the shared cache.
#include <random>
#include <string>
#include <vector>

#include "config.hpp"
#include "relay/dns.hpp"
#include "relay/smtp_client_session.hpp"
#include "session_cache.hpp"

namespace mxdeliver {

struct RecipientOutcome {
  relay::smtp::Outcome outcome = relay::smtp::Outcome::kDeferred;
  std::string status;    // RFC 3463
  std::string response;  // the remote reply, or what went wrong here
  std::string remote;    // "host[ip]:port" of the server that answered, empty if none did
  std::string tls;       // TlsInfo::summary() of that session
  std::string reason;    // for deferrals: dns, connect, tls, auth, lost, remote
};

class Deliverer {
 public:
  // slots may be null (one message at a time: no per-destination limit needed).
  Deliverer(const Config& config, relay::dns::Resolver& resolver, const relay::smtp::TlsClientContext& tls,
            SessionCache& cache, DestinationSlots* slots);

  // One outcome per recipient of mail, in order.
  std::vector<RecipientOutcome> deliver(const relay::smtp::MailRequest& mail);

 private:
  void deliver_to(const Destination& destination, const relay::smtp::MailRequest& mail,
                  const std::vector<size_t>& indexes, std::vector<RecipientOutcome>& out);
  std::unique_ptr<relay::smtp::Session> open(const relay::smtp::Target& target, const Destination& destination,
                                             relay::smtp::SessionError& error);

  const Config& config_;
  relay::dns::Resolver& resolver_;
  const relay::smtp::TlsClientContext& tls_;
  SessionCache& cache_;
  DestinationSlots* slots_;
  std::mt19937 random_;
};

}  // namespace mxdeliver
