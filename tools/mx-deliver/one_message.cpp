#include "one_message.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "deliverer.hpp"
#include "relay/address.hpp"
#include "relay/cli.hpp"
#include "relay/exit_codes.hpp"
#include "report.hpp"

namespace mxdeliver {
namespace {

std::string read_stdin() {
  std::string message;
  char buffer[65536];
  for (;;) {
    ssize_t n = ::read(0, buffer, sizeof buffer);
    if (n == 0) return message;
    if (n < 0) {
      if (errno == EINTR) continue;
      relay::fail_errno("unable to read the message from standard input", errno);
    }
    if (message.size() + static_cast<size_t>(n) > kMaxMessage)
      throw relay::Failure(relay::kExitData, "unable to read the message: larger than 256 MiB");
    message.append(buffer, static_cast<size_t>(n));
  }
}

}  // namespace

int deliver_one(const Config& config, const std::string& sender, const std::vector<std::string>& recipients,
                bool json) {
  std::string bracketed = sender.starts_with("<") ? sender : "<" + sender + ">";
  relay::AddressResult from = relay::parse_path(bracketed, true, true);
  if (!from.ok()) throw relay::Failure(relay::kExitUsage, "unable to use sender " + sender + ": " + from.error);
  for (const auto& r : recipients) {
    relay::AddressResult to = relay::parse_mailbox(r, true);
    if (!to.ok()) throw relay::Failure(relay::kExitUsage, "unable to use recipient " + r + ": " + to.error);
  }
  std::string message = read_stdin();

  relay::smtp::MailRequest mail;
  mail.sender = from.mailbox ? from.mailbox->str() : "";
  for (const auto& r : recipients) mail.recipients.push_back({r, "", ""});
  mail.message = message;

  auto resolver = relay::dns::make_resolver({.server = config.resolver});
  relay::smtp::TlsClientContext tls(config.tls_ca);
  SessionCache cache(config.max_per_connection, config.idle_limit_ms);
  Deliverer deliverer(config, *resolver, tls, cache, nullptr);
  std::vector<RecipientOutcome> outcomes = deliverer.deliver(mail);
  cache.close_all();

  std::string out;
  bool any_deferred = false, any_failed = false;
  for (size_t i = 0; i < outcomes.size(); ++i) {
    out += (json ? report_json(recipients[i], outcomes[i]) : report_line(recipients[i], outcomes[i])) + "\n";
    any_deferred |= outcomes[i].outcome == relay::smtp::Outcome::kDeferred;
    any_failed |= outcomes[i].outcome == relay::smtp::Outcome::kFailed;
  }
  relay::write_all(1, out, "the report");
  if (any_deferred) return relay::kExitTemporary;
  return any_failed ? relay::kExitPermanent : relay::kExitOk;
}

}  // namespace mxdeliver
