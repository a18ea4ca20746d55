// dmarc-check: a domain's DMARC policy (RFC 7489), a record's syntax, or a message's verdict.
#include "message_check.hpp"
#include "policy_report.hpp"
#include "relay/audit_options.hpp"
#include "relay/cli.hpp"
#include "relay/exit_codes.hpp"
#include "relay/headers.hpp"
#include "relay/spf.hpp"

int main(int argc, char** argv) {
  relay::Tool tool("dmarc-check",
                   "Show a domain's DMARC policy, check a DMARC record, or evaluate SPF, DKIM and DMARC for a message.");
  tool.add_json();
  tool.add_now();
  std::string domain, record;
  relay::dmarc_check::MessageOptions message;
  relay::dns::ResolverOptions resolver_options;
  relay::dmarc_check::Output output;
  CLI::App& app = tool.app();
  app.add_option("domain", domain, "domain whose policy to look up (with the organizational-domain fallback)");
  app.add_option("--record", record, "check the syntax of this record text instead of looking one up");
  auto* message_option = app.add_option("--message", message.file, "message file to evaluate (- for standard input)");
  app.add_option("--ip", message.ip, "SMTP client address the message came from")->needs(message_option);
  app.add_option("--helo", message.helo, "HELO/EHLO name of that client")->needs(message_option);
  app.add_option("--mail-from", message.mail_from, "MAIL FROM address (empty or <>: the null path)")->needs(message_option);
  app.add_option("--authserv-id", message.authserv_id, "name in Authentication-Results (default: the host name)");
  app.add_flag("--trace", output.trace, "show every DNS query and its answer");
  relay::audit::add_resolver_options(app, resolver_options);
  return tool.run(argc, argv, [&]() -> int {
    int modes = !domain.empty() + !record.empty() + !message.file.empty();
    if (modes != 1) throw relay::Failure(relay::kExitUsage, "unable to start: give one of DOMAIN, --record or --message");
    if (!record.empty()) return relay::dmarc_check::show_record(record, tool.json());
    output.json = tool.json();
    auto resolver = relay::dns::make_resolver(resolver_options);
    relay::dns::TracingResolver tracing(*resolver);
    if (!domain.empty()) return relay::dmarc_check::show_domain(tracing, domain, output);
    if (message.ip.empty()) throw relay::Failure(relay::kExitUsage, "unable to check a message: --ip is required");
    message.mail_from = relay::spf::envelope_sender(message.mail_from);
    if (message.mail_from.empty() && message.helo.empty())
      throw relay::Failure(relay::kExitUsage, "unable to check a message: give --mail-from or --helo");
    if (message.authserv_id.empty()) message.authserv_id = relay::local_hostname();
    message.now = tool.clock().seconds();
    return relay::dmarc_check::check_message(tracing, message, output);
  });
}
