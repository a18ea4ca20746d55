#include "deliverer.hpp"

#include <map>
#include <optional>

#include "idna.hpp"
#include "relay/address.hpp"
#include "relay/log.hpp"

namespace mxdeliver {
namespace {

using relay::smtp::Outcome;

std::string reason_of(std::string_view status) {
  if (status == "4.4.1") return "connect";
  if (status == "4.4.2") return "lost";
  if (status == "4.4.3") return "dns";
  if (status.starts_with("4.7.4") || status.starts_with("4.7.5")) return "tls";
  if (status == "4.7.0" || status == "4.7.8") return "auth";
  return "remote";
}

// The transaction for some recipients of mail, with A-label domains where that spares SMTPUTF8.
relay::smtp::MailRequest request_for(const relay::smtp::MailRequest& mail, const std::vector<size_t>& indexes) {
  relay::smtp::MailRequest request = mail;
  request.sender = ascii_address(mail.sender);
  request.recipients.clear();
  for (size_t i : indexes) {
    request.recipients.push_back(mail.recipients[i]);
    request.recipients.back().address = ascii_address(mail.recipients[i].address);
  }
  return request;
}

}  // namespace

Deliverer::Deliverer(const Config& config, relay::dns::Resolver& resolver, const relay::smtp::TlsClientContext& tls,
                     SessionCache& cache, DestinationSlots* slots)
    : config_(config), resolver_(resolver), tls_(tls), cache_(cache), slots_(slots), random_(std::random_device{}()) {}

std::vector<RecipientOutcome> Deliverer::deliver(const relay::smtp::MailRequest& mail) {
  std::vector<RecipientOutcome> out(mail.recipients.size());
  // Recipients grouped by domain, in the order they first appear.
  std::vector<std::string> order;
  std::map<std::string, std::vector<size_t>> groups;
  for (size_t i = 0; i < mail.recipients.size(); ++i) {
    std::string domain = relay::domain_of(mail.recipients[i].address);
    if (domain.empty()) {
      out[i] = {Outcome::kFailed, "5.1.3", "bad recipient address syntax", "", "", ""};
      continue;
    }
    if (!groups.contains(domain)) order.push_back(domain);
    groups[domain].push_back(i);
  }
  for (const auto& domain : order) deliver_to(destination_for(config_, domain), mail, groups[domain], out);
  return out;
}

std::unique_ptr<relay::smtp::Session> Deliverer::open(const relay::smtp::Target& target,
                                                      const Destination& destination,
                                                      relay::smtp::SessionError& error) {
  relay::smtp::SessionOptions options;
  options.helo_name = config_.hostname;
  options.tls = destination.tls;
  options.tls_context = &tls_;
  options.implicit_tls = implicit_tls_port(target.port);
  options.credentials = destination.credentials;
  options.timeouts = config_.timeouts;
  relay::smtp::Peer peer{target.host, target.address, target.port};
  cache_.count_opened();
  auto session = relay::smtp::Session::open(peer, options, false, error);
  if (!session && error.tls_failed) {
    // Opportunistic TLS: a failed handshake gets one plaintext try, as Postfix does.
    relay::log::warning("TLS with " + peer.str() + " failed, trying again without TLS: " + error.text);
    cache_.count_opened();
    session = relay::smtp::Session::open(peer, options, true, error);
  }
  return session;
}

void Deliverer::deliver_to(const Destination& destination, const relay::smtp::MailRequest& mail,
                           const std::vector<size_t>& indexes, std::vector<RecipientOutcome>& out) {
  std::optional<std::string> dns_domain = ascii_domain(destination.domain);
  if (!dns_domain) {
    for (size_t i : indexes) out[i] = {Outcome::kFailed, "5.1.2", "bad destination domain " + destination.domain, "", "", ""};
    return;
  }
  relay::smtp::RouteResult route =
      destination.hops.empty()
          ? relay::smtp::route_by_mx(resolver_, *dns_domain, config_.route, random_)
          : relay::smtp::route_by_hops(resolver_, destination.hops, config_.route);
  if (!route.ok()) {
    for (size_t i : indexes)
      out[i] = {route.permanent ? Outcome::kFailed : Outcome::kDeferred, route.status, route.text, "", "", "dns"};
    return;
  }
  std::optional<SlotGuard> slot;
  if (slots_) slot.emplace(*slots_, destination.key);

  std::vector<size_t> pending = indexes;
  std::vector<bool> answered(out.size(), false);
  std::optional<relay::smtp::SessionError> last_error;
  bool any_temporary = false;
  size_t next_target = 0;
  std::unique_ptr<relay::smtp::Session> session = cache_.take(destination.key);
  while (!pending.empty()) {
    if (!session) {
      if (next_target >= route.targets.size()) break;
      relay::smtp::SessionError error;
      session = open(route.targets[next_target++], destination, error);
      if (!session) {
        any_temporary |= !error.permanent;
        last_error = error;
        continue;
      }
    }
    relay::smtp::MailResult result = session->send(request_for(mail, pending));
    std::string remote = session->peer().str();
    std::string tls = session->tls().summary();
    std::vector<size_t> retry;
    for (size_t k = 0; k < pending.size(); ++k) {
      const auto& r = result.recipients[k];
      out[pending[k]] = {r.outcome, r.status, r.response, remote, tls,
                         r.outcome == Outcome::kDeferred ? reason_of(r.status) : ""};
      answered[pending[k]] = true;
      if (result.try_elsewhere && r.outcome == Outcome::kDeferred) retry.push_back(pending[k]);
    }
    if (result.reusable) cache_.put(destination.key, std::move(session));
    else session->quit();
    session.reset();
    if (!result.try_elsewhere) return;
    pending = std::move(retry);
    any_temporary = true;
  }
  // No server gave an answer to these: the last connection error is theirs.
  for (size_t i : pending) {
    if (answered[i]) continue;
    relay::smtp::SessionError e = last_error.value_or(relay::smtp::SessionError{false, "4.4.1", "no server to try", false});
    bool permanent = e.permanent && !any_temporary;
    std::string status = e.status;
    if (!permanent && !status.empty()) status[0] = '4';
    out[i] = {permanent ? Outcome::kFailed : Outcome::kDeferred, status, e.text, "", "",
              permanent ? "" : reason_of(status)};
  }
}

}  // namespace mxdeliver
