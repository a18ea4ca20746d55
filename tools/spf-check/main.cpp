// spf-check: RFC 7208 check_host() for one client IP, MAIL FROM and HELO.
#include <cstdio>

#include "relay/audit_options.hpp"
#include "relay/cli.hpp"
#include "relay/dns_trace.hpp"
#include "relay/exit_codes.hpp"
#include "relay/headers.hpp"
#include "batch.hpp"
#include "report.hpp"

int main(int argc, char** argv) {
  relay::Tool tool("spf-check", "Evaluate the SPF policy (RFC 7208) for a client IP, sender and HELO name.");
  tool.add_json();
  tool.add_now();
  relay::spf::Query query;
  relay::dns::ResolverOptions resolver_options;
  relay::spf_check::ReportOptions report_options;
  std::string receiver;
  CLI::App& app = tool.app();
  bool batch = false;
  auto* ip = app.add_option("--ip", query.ip, "SMTP client address (IPv4 or IPv6)");
  auto* sender =
      app.add_option("--sender", query.sender, "MAIL FROM address; empty, <> or absent: the null path (HELO is checked)");
  auto* helo = app.add_option("--helo", query.helo, "HELO/EHLO name of the client");
  app.add_flag("--batch", batch, "read \"IP SENDER HELO\" lines on standard input, print one result line each")
      ->excludes(ip)
      ->excludes(sender)
      ->excludes(helo);
  app.add_option("--receiver", receiver, "this host's name for %{r} and Received-SPF (default: the host name)");
  app.add_flag("--trace", report_options.trace, "show every DNS query and its answer");
  app.add_flag("--received-spf", report_options.header, "print a Received-SPF header field");
  relay::audit::add_resolver_options(app, resolver_options);
  return tool.run(argc, argv, [&]() -> int {
    report_options.json = tool.json();
    query.receiver = receiver.empty() ? relay::local_hostname() : receiver;
    query.now = tool.clock().seconds();
    if (batch) {
      auto resolver = relay::dns::make_resolver(resolver_options);
      return relay::spf_check::run_batch(stdin, *resolver, query.receiver, query.now, report_options);
    }
    if (query.ip.empty()) throw relay::Failure(relay::kExitUsage, "unable to check SPF: give --ip (or --batch)");
    query.sender = relay::spf::envelope_sender(query.sender);
    if (query.sender.empty() && query.helo.empty())
      throw relay::Failure(relay::kExitUsage, "unable to check SPF: give --sender or --helo");
    auto resolver = relay::dns::make_resolver(resolver_options);
    relay::dns::TracingResolver tracing(*resolver);
    relay::spf::Verdict verdict = relay::spf::check(tracing, query);
    std::string text = relay::spf_check::report(verdict, query, tracing.entries(), report_options);
    relay::write_all(1, text, "standard output");
    // A temporary DNS failure is worth a retry; every other result is an answer.
    return verdict.result == relay::spf::Result::kTempError ? relay::kExitTemporary : relay::kExitOk;
  });
}
