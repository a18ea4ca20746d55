#pragma once
// dmarc-check DOMAIN and --record TEXT: the published policy, parsed and explained.
#include <string>

#include "relay/dmarc.hpp"
#include "relay/dns_trace.hpp"
#include "relay/json.hpp"

namespace relay::dmarc_check {

struct Output {
  bool json = false;
  bool trace = false;  // include every DNS query the resolver answered
};

// The trace as text lines (to put before the result) or as a JSON field.
std::string trace_text(const dns::TracingResolver& resolver, const Output& output);
void add_trace(JsonObject& object, const dns::TracingResolver& resolver, const Output& output);

// Fields of a parsed record for text output ("name: value" lines) and JSON.
std::string record_text(const dmarc::Record& record);
JsonObject record_json(const dmarc::Record& record);

// Prints discovery for domain; returns the exit code (75 on temperror).
int show_domain(dns::TracingResolver& resolver, const std::string& domain, const Output& output);
// Parses text alone; returns 0 when valid, 65 when not.
int show_record(const std::string& text, bool json);

}  // namespace relay::dmarc_check
