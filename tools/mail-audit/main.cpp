// mail-audit: everything in DNS that decides whether a domain's mail is delivered.
#include <arpa/inet.h>

#include "checks.hpp"
#include "relay/audit_options.hpp"
#include "relay/cli.hpp"
#include "relay/exit_codes.hpp"

int main(int argc, char** argv) {
  relay::Tool tool("mail-audit", "Audit a domain's MX, SPF, DKIM, DMARC, MTA-STS, TLS-RPT and the relay's reverse DNS.");
  tool.add_json();
  relay::mail_audit::AuditOptions options;
  relay::dns::ResolverOptions resolver_options;
  bool strict = false;
  CLI::App& app = tool.app();
  app.add_option("domain", options.domain, "the sending domain to audit")->required();
  app.add_option("--selector", options.selectors, "DKIM selector to check (repeatable)");
  app.add_option("--relay-ip", options.relay_ips, "address the relay sends from: SPF must pass, PTR must confirm (repeatable)");
  app.add_flag("--strict", strict, "exit 1 when there are warnings (and no failures)");
  relay::audit::add_resolver_options(app, resolver_options);
  return tool.run(argc, argv, [&] {
    for (const auto& ip : options.relay_ips) {
      unsigned char scratch[16];
      if (inet_pton(AF_INET, ip.c_str(), scratch) != 1 && inet_pton(AF_INET6, ip.c_str(), scratch) != 1)
        throw relay::Failure(relay::kExitUsage, "unable to audit: --relay-ip " + ip + " is not an IP address");
    }
    if (!options.domain.empty() && options.domain.back() == '.') options.domain.pop_back();
    auto resolver = relay::dns::make_resolver(resolver_options);
    relay::mail_audit::Findings findings;
    relay::mail_audit::check_mx(*resolver, options, findings);
    relay::mail_audit::check_spf(*resolver, options, findings);
    relay::mail_audit::check_dkim(*resolver, options, findings);
    relay::mail_audit::check_dmarc(*resolver, options, findings);
    relay::mail_audit::check_transport(*resolver, options, findings);
    relay::mail_audit::check_relay_ips(*resolver, options, findings);
    int code = findings.exit_code(strict);
    relay::write_all(1, tool.json() ? findings.json_lines(options.domain, code) : findings.table(), "standard output");
    return code;
  });
}
