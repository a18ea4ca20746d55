#pragma once
// dmarc-check DOMAIN and --record TEXT: the published policy, parsed and explained.
#include <string>

#include "relay/dmarc.hpp"
#include "relay/json.hpp"

namespace relay::dmarc_check {

// Fields of a parsed record for text output ("name: value" lines) and JSON.
std::string record_text(const dmarc::Record& record);
JsonObject record_json(const dmarc::Record& record);

// Prints discovery for domain; returns the exit code (75 on temperror).
int show_domain(dns::Resolver& resolver, const std::string& domain, bool json);
// Parses text alone; returns 0 when valid, 65 when not.
int show_record(const std::string& text, bool json);

}  // namespace relay::dmarc_check
