#pragma once
// What spf-check, dmarc-check and mail-audit share on the command line and in their output:
// the resolver options and the DNS trace as text or JSON.
#include <CLI/CLI.hpp>
#include <string>

#include "relay/dns.hpp"
#include "relay/dns_trace.hpp"
#include "relay/json.hpp"

namespace relay::audit {

// --resolver IP[:PORT], --dns-timeout SECONDS, --dns-retries N.
void add_resolver_options(CLI::App& app, dns::ResolverOptions& options);

// One line per query: "dns TXT example.com ok 1.2ms \"v=spf1 -all\"".
std::string trace_line(const dns::TraceEntry& entry);
JsonArray trace_json(const std::vector<dns::TraceEntry>& entries);

}  // namespace relay::audit
