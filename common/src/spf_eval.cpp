// check_host() (RFC 7208 sections 4 and 5): record selection, mechanisms in order, include and
// redirect recursion, the DNS lookup and void-lookup limits, exp= explanations.
#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "relay/exit_codes.hpp"
#include "relay/spf.hpp"
#include "spf_address.hpp"
#include "spf_macro.hpp"

namespace relay::spf {
namespace {

// A temperror or permerror ends the whole evaluation, from however deep an include it comes.
struct Abort {
  Result result;
  std::string problem;
};

constexpr size_t kMaxDomainLength = 253;

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string without_final_dot(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  return std::string(name);
}

// RFC 7208 4.3: a name check_host() can look up at all (else the result is "none").
bool is_valid_domain(std::string_view name) {
  std::string domain = without_final_dot(name);
  if (domain.empty() || domain.size() > kMaxDomainLength || domain.find('.') == std::string::npos) return false;
  size_t start = 0;
  while (start <= domain.size()) {
    size_t dot = domain.find('.', start);
    if (dot == std::string::npos) dot = domain.size();
    size_t length = dot - start;
    if (length == 0 || length > 63) return false;
    start = dot + 1;
  }
  return true;
}

// RFC 7208 7.3: an expanded name longer than 253 characters loses labels on the left.
std::string truncate_left(std::string name) {
  name = without_final_dot(name);
  while (name.size() > kMaxDomainLength) {
    size_t dot = name.find('.');
    if (dot == std::string::npos) break;
    name.erase(0, dot + 1);
  }
  return name;
}

Result result_of(Qualifier qualifier) {
  switch (qualifier) {
    case Qualifier::kPass: return Result::kPass;
    case Qualifier::kFail: return Result::kFail;
    case Qualifier::kSoftFail: return Result::kSoftFail;
    case Qualifier::kNeutral: return Result::kNeutral;
  }
  return Result::kNeutral;
}

class Evaluator {
 public:
  Evaluator(dns::Resolver& resolver, const Query& query, const Address& ip, const Limits& limits)
      : resolver_(resolver), ip_(ip), limits_(limits) {
    std::string sender = query.sender.empty() ? "postmaster@" + query.helo : query.sender;
    size_t at = sender.rfind('@');
    context_.local_part = at == std::string::npos || at == 0 ? "postmaster" : sender.substr(0, at);
    context_.sender_domain = at == std::string::npos ? sender : sender.substr(at + 1);
    context_.sender = context_.local_part + "@" + context_.sender_domain;
    context_.helo = query.helo;
    context_.receiver = query.receiver;
    context_.ip = ip;
    context_.now = query.now;
    context_.validated_name = [this] { return validated_name(); };
  }

  Verdict run(std::string_view domain) {
    Verdict verdict;
    verdict.domain = std::string(domain);
    try {
      Outcome outcome = check_host(domain);
      verdict.result = outcome.result;
      verdict.mechanism = outcome.mechanism;
      verdict.explanation = outcome.explanation;
    } catch (const Abort& abort) {
      verdict.result = abort.result;
      verdict.problem = abort.problem;
    }
    verdict.dns_mechanisms = lookups_;
    verdict.void_lookups = voids_;
    return verdict;
  }

 private:
  struct Outcome {
    Result result = Result::kNone;
    std::string mechanism;
    std::string explanation;
  };

  Outcome check_host(std::string_view domain) {
    if (++depth_ > kMaxDepth) throw Abort{Result::kPermError, "includes and redirects nested too deeply"};
    struct DepthGuard {
      int& depth;
      ~DepthGuard() { --depth; }
    } guard{depth_};
    if (!is_valid_domain(domain)) return {Result::kNone, "", ""};
    std::string saved_domain = context_.domain;
    context_.domain = without_final_dot(domain);
    Outcome outcome = evaluate(context_.domain);
    context_.domain = saved_domain;
    return outcome;
  }

  Outcome evaluate(const std::string& domain) {
    auto answer = resolver_.txt(domain);
    if (dns::is_temporary(answer.status))
      throw Abort{Result::kTempError, fmt::format("DNS {} looking up TXT {}", dns::to_string(answer.status), domain)};
    if (answer.status == dns::Status::kMalformed)
      throw Abort{Result::kTempError, fmt::format("malformed DNS answer for TXT {}", domain)};
    std::vector<std::string> records;
    for (const auto& text : answer.records)
      if (is_spf_record(text)) records.push_back(text);
    if (records.empty()) return {Result::kNone, "", ""};
    if (records.size() > 1) throw Abort{Result::kPermError, fmt::format("{} has more than one SPF record", domain)};
    std::string error;
    std::optional<Record> record = parse_record(records[0], &error);
    if (!record) throw Abort{Result::kPermError, fmt::format("{}: {}", domain, error)};

    for (const Term& term : record->terms) {
      if (!matches(term)) continue;
      Outcome outcome{result_of(term.qualifier), term.text, ""};
      if (outcome.result == Result::kFail && record->exp) outcome.explanation = explain(*record->exp);
      return outcome;
    }
    if (record->redirect) {
      count_lookup();
      std::string target = expand_domain(*record->redirect);
      Outcome outcome = check_host(target);
      if (outcome.result == Result::kNone)
        throw Abort{Result::kPermError, fmt::format("redirect={} has no SPF record", target)};
      return outcome;
    }
    return {Result::kNeutral, "default", ""};
  }

  bool matches(const Term& term) {
    switch (term.mechanism) {
      case Mechanism::kAll:
        return true;
      case Mechanism::kIp4:
      case Mechanism::kIp6: {
        bool v6 = term.mechanism == Mechanism::kIp6;
        if (v6 != ip_.v6) return false;
        return ip_.in_network(*Address::parse(term.network, v6), v6 ? term.cidr6 : term.cidr4);
      }
      case Mechanism::kA:
        count_lookup();
        return address_matches(target_of(term), term);
      case Mechanism::kMx:
        count_lookup();
        return mx_matches(target_of(term), term);
      case Mechanism::kPtr: {
        count_lookup();
        std::string target = lower(target_of(term));
        for (const std::string& name : validated_names()) {
          std::string candidate = lower(name);
          if (candidate == target || candidate.ends_with("." + target)) return true;
        }
        return false;
      }
      case Mechanism::kExists: {
        count_lookup();
        std::string target = expand_domain(term.domain_spec);
        auto answer = resolver_.a(target);
        check_dns(answer.status, "A", target);
        return answer.ok();
      }
      case Mechanism::kInclude: {
        count_lookup();
        std::string target = expand_domain(term.domain_spec);
        Outcome outcome = check_host(target);
        if (outcome.result == Result::kNone)
          throw Abort{Result::kPermError, fmt::format("include:{} has no SPF record", target)};
        return outcome.result == Result::kPass;
      }
    }
    return false;
  }

  std::string target_of(const Term& term) {
    return term.domain_spec.empty() ? context_.domain : expand_domain(term.domain_spec);
  }

  bool address_matches(const std::string& name, const Term& term) {
    auto answer = ip_.v6 ? resolver_.aaaa(name) : resolver_.a(name);
    check_dns(answer.status, ip_.v6 ? "AAAA" : "A", name);
    return any_in_network(answer.records, term);
  }

  bool any_in_network(const std::vector<std::string>& addresses, const Term& term) {
    for (const auto& text : addresses) {
      std::optional<Address> address = Address::parse(text, true);
      if (address && ip_.in_network(*address, ip_.v6 ? term.cidr6 : term.cidr4)) return true;
    }
    return false;
  }

  bool mx_matches(const std::string& name, const Term& term) {
    auto answer = resolver_.mx(name);
    check_dns(answer.status, "MX", name);
    if (static_cast<int>(answer.records.size()) > limits_.mx_names)
      throw Abort{Result::kPermError, fmt::format("{} has more than {} MX records", name, limits_.mx_names)};
    for (const auto& mx : answer.records) {
      if (mx.exchange.empty()) continue;  // null MX
      auto addresses = ip_.v6 ? resolver_.aaaa(mx.exchange) : resolver_.a(mx.exchange);
      if (dns::is_temporary(addresses.status))
        throw Abort{Result::kTempError,
                    fmt::format("DNS {} looking up {}", dns::to_string(addresses.status), mx.exchange)};
      if (any_in_network(addresses.records, term)) return true;
    }
    return false;
  }

  // Names the client's address points to that point back to it (RFC 7208 5.5); errors skip.
  std::vector<std::string> validated_names() {
    std::vector<std::string> validated;
    auto names = resolver_.ptr(ip_.text());
    if (!names.ok()) return validated;
    int considered = 0;
    for (const auto& name : names.records) {
      if (++considered > limits_.ptr_names) break;
      auto addresses = ip_.v6 ? resolver_.aaaa(name) : resolver_.a(name);
      for (const auto& text : addresses.records) {
        std::optional<Address> address = Address::parse(text, true);
        if (address && address->v6 == ip_.v6 && address->bytes == ip_.bytes) {
          validated.push_back(name);
          break;
        }
      }
    }
    return validated;
  }

  // %{p}: a validated name, preferring the domain being checked or one below it.
  std::string validated_name() {
    std::vector<std::string> names = validated_names();
    if (names.empty()) return "unknown";
    std::string domain = lower(context_.domain);
    for (const auto& name : names) {
      std::string candidate = lower(name);
      if (candidate == domain || candidate.ends_with("." + domain)) return name;
    }
    return names.front();
  }

  void count_lookup() {
    if (++lookups_ > limits_.dns_mechanisms)
      throw Abort{Result::kPermError, fmt::format("more than {} DNS lookups", limits_.dns_mechanisms)};
  }

  // Errors abort; "no such name" and "no records" are void lookups, limited (RFC 7208 4.6.4).
  void check_dns(dns::Status status, std::string_view type, std::string_view name) {
    if (dns::is_temporary(status))
      throw Abort{Result::kTempError, fmt::format("DNS {} looking up {} {}", dns::to_string(status), type, name)};
    if (status == dns::Status::kMalformed) return;  // a name DNS cannot hold matches nothing
    if ((status == dns::Status::kNxDomain || status == dns::Status::kNoData) && ++voids_ > limits_.void_lookups)
      throw Abort{Result::kPermError, fmt::format("more than {} void DNS lookups", limits_.void_lookups)};
  }

  std::string expand_domain(const std::string& spec) {
    std::string error;
    std::optional<std::string> expanded = expand_macros(spec, &context_, MacroUse::kDomainSpec, &error);
    if (!expanded) throw Abort{Result::kPermError, error};
    return truncate_left(*expanded);
  }

  // The exp= text (RFC 7208 6.2); any problem gives the default explanation ("").
  std::string explain(const std::string& spec) {
    std::string error;
    std::optional<std::string> name = expand_macros(spec, &context_, MacroUse::kDomainSpec, &error);
    if (!name || !is_valid_domain(truncate_left(*name))) return "";
    auto answer = resolver_.txt(truncate_left(*name));
    if (!answer.ok() || answer.records.size() != 1) return "";
    for (unsigned char c : answer.records[0])
      if (c < 0x20 || c > 0x7e) return "";
    return expand_macros(answer.records[0], &context_, MacroUse::kExplanation, &error).value_or("");
  }

  static constexpr int kMaxDepth = 32;  // the lookup limit ends loops first; this bounds the stack

  dns::Resolver& resolver_;
  Address ip_;
  Limits limits_;
  MacroContext context_;
  int lookups_ = 0;
  int voids_ = 0;
  int depth_ = 0;
};

Address client_address(const Query& query) {
  std::optional<Address> ip = Address::parse(query.ip);
  if (!ip) throw Failure(kExitUsage, fmt::format("unable to check SPF: {} is not an IP address", query.ip));
  return *ip;
}

}  // namespace

Verdict check_host(dns::Resolver& resolver, const Query& query, std::string_view domain, const Limits& limits) {
  Evaluator evaluator(resolver, query, client_address(query), limits);
  return evaluator.run(domain);
}

std::string envelope_sender(std::string_view text) {
  if (text.size() >= 2 && text.front() == '<' && text.back() == '>') text = text.substr(1, text.size() - 2);
  return std::string(text);
}

Verdict check(dns::Resolver& resolver, const Query& query, const Limits& limits) {
  std::string domain;
  Verdict verdict;
  if (query.sender.empty()) {
    domain = query.helo;
  } else {
    size_t at = query.sender.rfind('@');
    domain = at == std::string::npos ? query.sender : query.sender.substr(at + 1);
  }
  verdict = check_host(resolver, query, domain, limits);
  verdict.identity = query.sender.empty() ? "helo" : "mailfrom";
  return verdict;
}

}  // namespace relay::spf
