#pragma once
// DMARC (RFC 7489, with the np= tag of DMARCbis): record syntax, policy discovery with the
// organizational-domain fallback (libpsl), identifier alignment, the policy to apply, and the
// Authentication-Results header field (RFC 8601). Used by dmarc-check and mail-audit.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "relay/dns.hpp"

namespace relay::dmarc {

enum class Policy { kNone, kQuarantine, kReject };
enum class Alignment { kRelaxed, kStrict };
std::string_view to_string(Policy policy);

struct Record {
  Policy p = Policy::kNone;
  std::optional<Policy> sp, np;  // absent: sp inherits p, np inherits sp
  Alignment adkim = Alignment::kRelaxed, aspf = Alignment::kRelaxed;
  int pct = 100;
  std::vector<std::string> rua, ruf;  // reporting URIs as written ("mailto:a@b!10m")
  std::string fo = "0";
  std::vector<std::string> warnings;  // accepted but worth saying (unknown tags, p missing with rua)
};

// True when a TXT string is a DMARC record ("v=DMARC1" first, RFC 7489 6.6.3).
bool is_dmarc_record(std::string_view text);
// Parses a record; on an error returns nullopt and sets *error ("pct=150: ...").
std::optional<Record> parse_record(std::string_view text, std::string* error);

enum class DiscoveryStatus { kFound, kNone, kTempError, kPermError };

struct Discovery {
  DiscoveryStatus status = DiscoveryStatus::kNone;
  std::string record_domain;  // where the record was found: the From domain or its org domain
  std::string text;           // the record as published
  Record record;
  std::string problem;        // for kTempError / kPermError
  bool from_org_domain = false;
};

// RFC 7489 6.6.3: _dmarc.<domain>, then _dmarc.<organizational domain>.
Discovery discover(dns::Resolver& resolver, std::string_view from_domain);

// ---- evaluation of one message ----

struct DkimIdentifier {
  std::string domain;  // d=
  std::string selector;
  std::string result;  // RFC 8601 name: pass, fail, neutral, temperror, permerror
};

struct Identifiers {
  std::string from_domain;  // RFC5322.From domain
  std::string spf_result;   // RFC 8601 name
  std::string spf_domain;   // MAIL FROM domain, or the HELO name for the null path
  bool spf_from_helo = false;
  std::vector<DkimIdentifier> dkim;
};

enum class Result { kNone, kPass, kFail, kTempError, kPermError };
std::string_view to_string(Result result);

struct Evaluation {
  Result result = Result::kNone;
  Discovery discovery;
  bool spf_aligned = false, dkim_aligned = false;
  std::string aligned_dkim_domain;
  std::string policy_tag = "p";      // which tag decided: p, sp or np
  Policy policy = Policy::kNone;      // the requested policy for this domain
  Policy disposition = Policy::kNone;  // after pct sampling, for failing mail
  bool sampled_out = false;           // pct < 100 and this message fell outside the sample
  std::string problem;
};

bool aligned(std::string_view identifier_domain, std::string_view from_domain, Alignment mode);

// sample: a number 0-99 that decides pct sampling (stable per message, e.g. from its Message-ID).
Evaluation evaluate(dns::Resolver& resolver, const Identifiers& ids, int sample);

// "Authentication-Results: host; spf=...; dkim=...; dmarc=..." folded with LF and a tab.
std::string authentication_results(std::string_view authserv_id, const Identifiers& ids,
                                   const Evaluation& evaluation);

// ---- reports to other domains (RFC 7489 7.1) ----

struct ReportAuthorization {
  std::string uri;            // as in rua/ruf
  std::string report_domain;  // domain of the mailto: address
  bool external = false;      // another organizational domain than the policy's
  dns::Status status = dns::Status::kOk;  // of the <domain>._report._dmarc.<report domain> lookup
  bool authorized = false;    // not external, or the authorization record exists
};
std::vector<ReportAuthorization> check_report_authorization(dns::Resolver& resolver, std::string_view policy_domain,
                                                            const Record& record);

}  // namespace relay::dmarc
