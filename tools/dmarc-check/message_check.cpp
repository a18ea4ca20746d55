#include "message_check.hpp"

#include <fmt/format.h>

#include "policy_report.hpp"
#include "relay/address.hpp"
#include "relay/cli.hpp"
#include "relay/dkim_io.hpp"
#include "relay/dkim_verify.hpp"
#include "relay/dmarc.hpp"
#include "relay/exit_codes.hpp"
#include "relay/headers.hpp"
#include "relay/json.hpp"
#include "relay/log.hpp"
#include "relay/spf.hpp"

namespace relay::dmarc_check {
namespace {

std::string read_message(const std::string& file) {
  return file == "-" ? dkim::read_limited(0, kMaxMessageBytes, "standard input")
                     : dkim::read_file_limited(file, kMaxMessageBytes);
}

// The one RFC5322.From domain DMARC applies to (RFC 7489 6.6.1).
std::string from_domain(const HeaderBlock& headers) {
  auto fields = headers.find_all("From");
  if (fields.size() != 1)
    throw Failure(kExitData, fmt::format("unable to check DMARC: the message has {} From fields (needs one)", fields.size()));
  auto addresses = parse_address_list(fields[0]->value());
  if (!addresses || addresses->size() != 1)
    throw Failure(kExitData, "unable to check DMARC: the From field does not hold exactly one address");
  std::string domain = domain_of(addresses->front());
  if (domain.empty()) throw Failure(kExitData, "unable to check DMARC: the From address has no domain");
  return domain;
}

// A number 0-99 stable for one message (FNV-1a of its Message-ID), for pct sampling.
int sample_of(const HeaderBlock& headers) {
  const HeaderField* id = headers.find("Message-ID");
  std::string key = id ? id->value() : "";
  uint32_t hash = 2166136261u;
  for (unsigned char c : key) hash = (hash ^ c) * 16777619u;
  return static_cast<int>(hash % 100);
}

std::string_view dkim_name(dkim::Result result) { return dkim::to_string(result); }

}  // namespace

int check_message(dns::TracingResolver& resolver, const MessageOptions& options, const Output& output) {
  std::string message = read_message(options.file);
  HeaderBlock headers(message);
  if (headers.fields().empty() || headers.malformed())
    throw Failure(kExitData, fmt::format("unable to check DMARC: {} has no valid header section", options.file));

  dmarc::Identifiers ids;
  ids.from_domain = from_domain(headers);

  spf::Query query;
  query.ip = options.ip;
  query.sender = options.mail_from;
  query.helo = options.helo;
  query.receiver = options.authserv_id;
  query.now = options.now;
  spf::Verdict spf_verdict = spf::check(resolver, query);
  ids.spf_result = std::string(spf::to_string(spf_verdict.result));
  ids.spf_from_helo = options.mail_from.empty();
  ids.spf_domain = spf_verdict.domain;

  dkim::VerifyOptions dkim_options;
  dkim_options.now = options.now;
  for (const auto& signature : dkim::verify_message(message, resolver, dkim_options))
    ids.dkim.push_back({signature.domain, signature.selector, std::string(dkim_name(signature.result))});

  dmarc::Evaluation evaluation = dmarc::evaluate(resolver, ids, sample_of(headers));
  std::string header = dmarc::authentication_results(options.authserv_id, ids, evaluation);
  std::string out = trace_text(resolver, output);
  if (output.json) {
    JsonObject object;
    object.add("dmarc", dmarc::to_string(evaluation.result)).add("from_domain", ids.from_domain);
    object.add("record_domain", evaluation.discovery.record_domain).add("problem", evaluation.problem);
    object.add("policy", dmarc::to_string(evaluation.policy)).add("policy_tag", evaluation.policy_tag);
    object.add("disposition", dmarc::to_string(evaluation.disposition)).add("sampled_out", evaluation.sampled_out);
    object.add("spf", ids.spf_result).add("spf_domain", ids.spf_domain).add("spf_aligned", evaluation.spf_aligned);
    JsonArray signatures;
    for (const auto& signature : ids.dkim) {
      JsonObject one;
      one.add("domain", signature.domain).add("selector", signature.selector).add("result", signature.result);
      signatures.push(one);
    }
    object.add("dkim", signatures).add("dkim_aligned", evaluation.dkim_aligned);
    object.add("authentication_results", header);
    add_trace(object, resolver, output);
    out += object.str() + "\n";
  } else {
    auto line = [&](std::string_view name, std::string_view value) {
      out += fmt::format("{:<14} {}\n", std::string(name) + ":", log::sanitize(value));
    };
    line("dmarc", dmarc::to_string(evaluation.result));
    line("from-domain", ids.from_domain);
    if (!evaluation.discovery.record_domain.empty()) line("found-at", "_dmarc." + evaluation.discovery.record_domain);
    if (!evaluation.problem.empty()) line("problem", evaluation.problem);
    if (evaluation.discovery.status == dmarc::DiscoveryStatus::kFound) {
      line("policy", fmt::format("{} ({}=)", dmarc::to_string(evaluation.policy), evaluation.policy_tag));
      line("disposition", fmt::format("{}{}", dmarc::to_string(evaluation.disposition),
                                      evaluation.sampled_out ? " (outside the pct sample)" : ""));
    }
    line("spf", fmt::format("{} {} ({})", ids.spf_result, ids.spf_domain, evaluation.spf_aligned ? "aligned" : "not aligned"));
    if (ids.dkim.empty()) line("dkim", "none");
    for (const auto& signature : ids.dkim) {
      bool aligned_signature = signature.result == "pass" && signature.domain == evaluation.aligned_dkim_domain;
      line("dkim", fmt::format("{} d={} s={} ({})", signature.result, signature.domain, signature.selector,
                               aligned_signature ? "aligned" : "not aligned"));
    }
    out += header + "\n";
  }
  write_all(1, out, "standard output");
  return evaluation.result == dmarc::Result::kTempError ? kExitTemporary : kExitOk;
}

}  // namespace relay::dmarc_check
