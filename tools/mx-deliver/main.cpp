// mx-deliver: delivers mail over SMTP to the recipients' MX hosts (or configured next hops),
// one message from standard input or every message of a spool's outgoing/ stage.
#include "config.hpp"
#include "credentials.hpp"
#include "one_message.hpp"
#include "relay/cli.hpp"
#include "relay/exit_codes.hpp"
#include "relay/headers.hpp"
#include "spool_runner.hpp"

namespace {

int seconds_option_ms(const std::string& text, const std::string& option) {
  auto seconds = relay::parse_duration(text);
  if (!seconds || *seconds < 0 || *seconds > 86400)
    throw relay::Failure(relay::kExitUsage, "unable to parse " + option + ": bad duration '" + text + "'");
  return static_cast<int>(*seconds * 1000);
}

}  // namespace

int main(int argc, char** argv) {
  relay::Tool tool("mx-deliver", "Deliver mail over SMTP to the recipients' mail exchangers.");
  tool.add_json();
  tool.add_now();
  CLI::App& app = tool.app();

  std::string sender;
  std::vector<std::string> recipients;
  mxdeliver::SpoolRunOptions spool;
  std::string family = "prefer-ipv4", tls = "may", auth_file, max_wait, idle_limit = "5s", min_backoff = "300s",
              lease = "60s";
  std::vector<std::string> routes, relayhosts, tls_policies;
  bool no_keep_sent = false;
  mxdeliver::Config config;
  config.hostname = relay::local_hostname();
  unsigned port = 25, max_addresses = 5;

  auto* from = app.add_option("-f,--from", sender, "envelope sender (one-message mode; \"\" is the null sender)");
  app.add_option("recipients", recipients, "recipient addresses (one-message mode)");
  auto* spool_opt = app.add_option("--spool", spool.dir, "deliver every message of DIR/outgoing (spool mode)");
  spool_opt->excludes(from);
  app.add_option("--resolver", config.resolver, "DNS server IP[:PORT] (default: /etc/resolv.conf)");
  app.add_option("--family", family, "address family: prefer-ipv4, prefer-ipv6, ipv4-only, ipv6-only")
      ->capture_default_str()
      ->check(CLI::IsMember({"prefer-ipv4", "prefer-ipv6", "ipv4-only", "ipv6-only"}));
  app.add_option("--port", port, "port of MX hosts")->capture_default_str()->check(CLI::Range(1, 65535));
  app.add_option("--max-addresses", max_addresses, "addresses tried per destination, over all its MX hosts")
      ->capture_default_str()
      ->check(CLI::Range(1, 100));
  app.add_option("--route", routes, "DOMAIN=HOST:PORT[,HOST:PORT...]: next hops for DOMAIN instead of its MX");
  app.add_option("--relayhost", relayhosts, "HOST:PORT[,HOST:PORT...]: send all other mail there (failover in order)");
  app.add_option("--hostname", config.hostname, "name given in EHLO; MX records naming it are a mail loop")
      ->capture_default_str();
  app.add_option("--tls", tls, "TLS policy: none, may, encrypt, verify")
      ->capture_default_str()
      ->check(CLI::IsMember({"none", "may", "encrypt", "verify"}));
  app.add_option("--tls-policy", tls_policies, "DOMAIN=POLICY: TLS policy for one recipient domain");
  app.add_option("--tls-ca", config.tls_ca, "PEM file of trusted CAs for the verify policy (default: system store)");
  app.add_option("--auth-file", auth_file, "relay host credentials: HOST[:PORT] USER PASSWORD lines (mode 600)");
  app.add_option("--max-wait", max_wait, "cap on every SMTP timeout (default: RFC 5321 values)");
  app.add_option("--concurrency", spool.concurrency, "messages delivered at once (spool mode)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  app.add_option("--destination-concurrency", spool.per_destination, "connections at once to one destination")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  app.add_option("--max-per-connection", config.max_per_connection, "messages sent over one connection")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  app.add_option("--idle-limit", idle_limit, "close cached connections idle longer than this")->capture_default_str();
  app.add_flag("--no-keep-sent", no_keep_sent, "remove delivered messages instead of moving them to sent/");
  app.add_flag("--loop", spool.loop, "spool mode: keep running, delivering what arrives, until SIGTERM");
  app.add_option("--min-backoff", min_backoff, "time before a deferred message is due again")->capture_default_str();
  app.add_option("--lease", lease, "take back active/ messages left unlocked this long")->capture_default_str();

  return tool.run(argc, argv, [&] {
    config.route.family = *relay::smtp::parse_family(family);
    config.route.port = static_cast<uint16_t>(port);
    config.route.max_addresses = max_addresses;
    config.route.self_names = {relay::to_lower(config.hostname)};
    config.tls = *relay::smtp::parse_tls_policy(tls);
    for (const auto& r : routes) mxdeliver::add_route(config, r);
    for (const auto& r : relayhosts) mxdeliver::add_relayhosts(config, r);
    for (const auto& p : tls_policies) mxdeliver::add_tls_policy(config, p);
    if (!auth_file.empty()) config.credentials = mxdeliver::read_credentials(auth_file);
    if (!max_wait.empty()) config.timeouts.cap(std::max(1, seconds_option_ms(max_wait, "--max-wait")));
    config.idle_limit_ms = seconds_option_ms(idle_limit, "--idle-limit");
    spool.min_backoff = seconds_option_ms(min_backoff, "--min-backoff") / 1000;
    spool.lease = seconds_option_ms(lease, "--lease") / 1000;
    spool.keep_sent = !no_keep_sent;
    spool.json = tool.json();

    if (!spool.dir.empty()) {
      if (!recipients.empty())
        throw relay::Failure(relay::kExitUsage, "unable to parse the command line: recipients given with --spool");
      return mxdeliver::run_spool(config, spool, tool.clock());
    }
    if (from->count() == 0 || recipients.empty())
      throw relay::Failure(relay::kExitUsage,
                           "unable to parse the command line: need -f SENDER and recipients, or --spool DIR");
    return mxdeliver::deliver_one(config, sender, recipients, tool.json());
  });
}
