#pragma once
// SPF (RFC 7208): record parsing and check_host() evaluation, shared by spf-check,
// dmarc-check (the SPF half of DMARC) and mail-audit (record analysis).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "relay/dns.hpp"

namespace relay::spf {

enum class Result { kNone, kNeutral, kPass, kFail, kSoftFail, kTempError, kPermError };
std::string_view to_string(Result result);

// ---- records ----

enum class Qualifier : char { kPass = '+', kFail = '-', kSoftFail = '~', kNeutral = '?' };
enum class Mechanism { kAll, kInclude, kA, kMx, kPtr, kIp4, kIp6, kExists };
std::string_view to_string(Mechanism mechanism);

struct Term {
  Qualifier qualifier = Qualifier::kPass;
  Mechanism mechanism = Mechanism::kAll;
  std::string domain_spec;  // macro-string; empty: the current domain (a, mx, ptr)
  std::string network;      // ip4/ip6: the address text
  int cidr4 = 32, cidr6 = 128;
  std::string text;  // the term as written, for "matched mechanism" output
};

struct Record {
  std::vector<Term> terms;
  std::optional<std::string> redirect;  // domain-spec
  std::optional<std::string> exp;       // domain-spec
  std::vector<std::string> unknown_modifiers;  // name=value, ignored by evaluation
};

// True when a TXT string is an SPF version 1 record ("v=spf1" then a space or the end).
bool is_spf_record(std::string_view text);
// Parses a whole record; on a syntax error returns nullopt and sets *error to a reason.
std::optional<Record> parse_record(std::string_view text, std::string* error);

// ---- evaluation ----

struct Limits {
  int dns_mechanisms = 10;  // include, a, mx, ptr, exists, redirect (RFC 7208 4.6.4)
  int mx_names = 10;        // address lookups per mx mechanism
  int ptr_names = 10;       // PTR names considered per ptr mechanism or %{p}
  int void_lookups = 2;
};

struct Query {
  std::string ip;       // SMTP client address (IPv4 or IPv6 text)
  std::string sender;   // MAIL FROM; empty: the null path, the HELO identity is checked
  std::string helo;     // HELO/EHLO name
  std::string receiver = "unknown";  // %{r}: the checking host's name
  int64_t now = 0;      // %{t}: seconds since the epoch
};

struct Verdict {
  Result result = Result::kNone;
  std::string identity;     // "mailfrom" or "helo"
  std::string domain;       // the domain check_host() started from
  std::string mechanism;    // the term that matched ("default" when none did)
  std::string explanation;  // for fail: the exp= text, or empty for the default
  std::string problem;      // for temperror/permerror: what went wrong
  int dns_mechanisms = 0;   // counted lookups used
  int void_lookups = 0;
};

// MAIL FROM as given on a command line or in SMTP: "<>" becomes "" (the null path), "<a@b>" a@b.
std::string envelope_sender(std::string_view text);

// check_host() for the MAIL FROM identity (or HELO for the null path, RFC 7208 2.4).
// Throws relay::Failure(kExitUsage) when query.ip is not an IP address.
Verdict check(dns::Resolver& resolver, const Query& query, const Limits& limits = {});

// check_host(ip, domain, sender) as RFC 7208 section 4 defines it.
Verdict check_host(dns::Resolver& resolver, const Query& query, std::string_view domain, const Limits& limits = {});

// ---- analysis of a published policy (mail-audit) ----

struct Analysis {
  int lookups = 0;       // terms that cost a DNS lookup, nested includes and redirects included
  int void_lookups = 0;  // a/mx/exists/include/redirect targets without records
  std::vector<std::string> void_names;
  std::vector<std::string> problems;  // permerror-level problems in nested records
  std::string temporary;              // a DNS timeout or SERVFAIL that stopped the walk
  std::optional<Qualifier> all;       // qualifier of the "all" that ends the policy, redirects followed
  bool ends_in_redirect = false;      // no all in the policy, redirect= to another domain
};

// Walks record (published at domain) and every record it includes or redirects to, counting
// lookups the way check_host() would if no mechanism matched. Macros are not expanded: a term
// whose domain holds one is counted but not followed.
Analysis analyze(dns::Resolver& resolver, std::string_view domain, const Record& record);

// "Received-SPF: pass (...) client-ip=...; envelope-from=...; helo=...; ..." (RFC 7208 9.1),
// folded with LF and a tab (as printed; a writer into a message uses CRLF), no final newline.
std::string received_spf_header(const Verdict& verdict, const Query& query);

// The explanation when the record gave none.
inline constexpr std::string_view kDefaultExplanation = "sender is not authorized by the domain's SPF policy";

}  // namespace relay::spf
