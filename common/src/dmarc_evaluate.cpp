// DMARC for one message: identifier alignment, the policy tag that applies (p, sp or np),
// pct sampling (RFC 7489 6.6.4), and the Authentication-Results header field (RFC 8601).
#include <cctype>

#include <fmt/format.h>

#include "relay/dmarc.hpp"
#include "relay/domain.hpp"

namespace relay::dmarc {
namespace {

// DMARCbis: a domain "does not exist" when A, AAAA and MX all answer NXDOMAIN.
bool domain_exists(dns::Resolver& resolver, const std::string& domain) {
  if (resolver.a(domain).status != dns::Status::kNxDomain) return true;
  if (resolver.aaaa(domain).status != dns::Status::kNxDomain) return true;
  return resolver.mx(domain).status != dns::Status::kNxDomain;
}

// The next milder policy, for failing mail outside the pct sample.
Policy milder(Policy policy) {
  return policy == Policy::kReject ? Policy::kQuarantine : Policy::kNone;
}

// Header values: a domain or token as is when it is one, else quoted.
std::string property_value(std::string_view value) {
  bool token = !value.empty();
  for (unsigned char c : value)
    if (!(std::isalnum(c) || std::string_view("-._@+").find(static_cast<char>(c)) != std::string_view::npos)) token = false;
  if (token) return std::string(value);
  std::string quoted = "\"";
  for (unsigned char c : value) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += (c < 0x20 || c > 0x7e) ? '?' : static_cast<char>(c);
  }
  return quoted + "\"";
}

}  // namespace

std::string_view to_string(Result result) {
  switch (result) {
    case Result::kNone: return "none";
    case Result::kPass: return "pass";
    case Result::kFail: return "fail";
    case Result::kTempError: return "temperror";
    case Result::kPermError: return "permerror";
  }
  return "none";
}

bool aligned(std::string_view identifier_domain, std::string_view from_domain, Alignment mode) {
  std::string identifier = normalize_domain(identifier_domain), from = normalize_domain(from_domain);
  if (identifier.empty() || from.empty()) return false;
  if (mode == Alignment::kStrict) return identifier == from;
  return organizational_domain(identifier) == organizational_domain(from);
}

Evaluation evaluate(dns::Resolver& resolver, const Identifiers& ids, int sample) {
  Evaluation evaluation;
  evaluation.discovery = discover(resolver, ids.from_domain);
  const Discovery& discovery = evaluation.discovery;
  const Record& record = discovery.record;
  Alignment adkim = discovery.status == DiscoveryStatus::kFound ? record.adkim : Alignment::kRelaxed;
  Alignment aspf = discovery.status == DiscoveryStatus::kFound ? record.aspf : Alignment::kRelaxed;
  evaluation.spf_aligned = ids.spf_result == "pass" && aligned(ids.spf_domain, ids.from_domain, aspf);
  for (const auto& signature : ids.dkim) {
    if (signature.result == "pass" && aligned(signature.domain, ids.from_domain, adkim)) {
      evaluation.dkim_aligned = true;
      evaluation.aligned_dkim_domain = signature.domain;
      break;
    }
  }
  switch (discovery.status) {
    case DiscoveryStatus::kNone:
      evaluation.result = Result::kNone;
      return evaluation;
    case DiscoveryStatus::kTempError:
      evaluation.result = Result::kTempError;
      evaluation.problem = discovery.problem;
      return evaluation;
    case DiscoveryStatus::kPermError:
      evaluation.result = Result::kPermError;
      evaluation.problem = discovery.problem;
      return evaluation;
    case DiscoveryStatus::kFound:
      break;
  }
  evaluation.policy = record.p;
  if (discovery.from_org_domain) {
    if (record.np && !domain_exists(resolver, normalize_domain(ids.from_domain))) {
      evaluation.policy = *record.np;
      evaluation.policy_tag = "np";
    } else if (record.sp) {
      evaluation.policy = *record.sp;
      evaluation.policy_tag = "sp";
    }
  }
  evaluation.result = evaluation.spf_aligned || evaluation.dkim_aligned ? Result::kPass : Result::kFail;
  if (evaluation.result == Result::kFail) {
    evaluation.sampled_out = record.pct < 100 && sample >= record.pct;
    evaluation.disposition = evaluation.sampled_out ? milder(evaluation.policy) : evaluation.policy;
  }
  return evaluation;
}

std::string authentication_results(std::string_view authserv_id, const Identifiers& ids,
                                   const Evaluation& evaluation) {
  std::vector<std::string> methods;
  methods.push_back(fmt::format("spf={} {}={}", ids.spf_result, ids.spf_from_helo ? "smtp.helo" : "smtp.mailfrom",
                                property_value(ids.spf_domain)));
  if (ids.dkim.empty()) methods.push_back("dkim=none");
  for (const auto& signature : ids.dkim)
    methods.push_back(fmt::format("dkim={} header.d={} header.s={}", signature.result, property_value(signature.domain),
                                  property_value(signature.selector)));
  std::string dmarc = fmt::format("dmarc={}", to_string(evaluation.result));
  if (evaluation.discovery.status == DiscoveryStatus::kFound)
    dmarc += fmt::format(" ({}={} dis={})", evaluation.policy_tag, to_string(evaluation.policy),
                         to_string(evaluation.result == Result::kFail ? evaluation.disposition : Policy::kNone));
  dmarc += " header.from=" + property_value(ids.from_domain);
  methods.push_back(dmarc);
  std::string header = fmt::format("Authentication-Results: {}", property_value(authserv_id));
  for (const auto& method : methods) header += ";\n\t" + method;
  return header;
}

}  // namespace relay::dmarc
