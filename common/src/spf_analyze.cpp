// Static analysis of a published SPF policy for audits: total lookups across includes and
// redirects, void targets, loops, the final all, problems in nested records.
#include <set>

#include <fmt/format.h>

#include "relay/spf.hpp"

namespace relay::spf {
namespace {

constexpr int kMaxDepth = 10;

class Analyzer {
 public:
  explicit Analyzer(dns::Resolver& resolver) : resolver_(resolver) {}

  void walk(const std::string& domain, const Record& record, int depth, Analysis& out) {
    if (!out.temporary.empty()) return;
    for (const Term& term : record.terms) {
      switch (term.mechanism) {
        case Mechanism::kAll:
          if (depth == 0) out.all = term.qualifier;
          break;
        case Mechanism::kIp4:
        case Mechanism::kIp6:
          break;
        case Mechanism::kInclude:
          ++out.lookups;
          follow(term.domain_spec, depth, out, "include");
          break;
        case Mechanism::kA:
        case Mechanism::kMx:
        case Mechanism::kExists:
        case Mechanism::kPtr:
          ++out.lookups;
          check_target(term, domain, out);
          break;
      }
      if (!out.temporary.empty()) return;
    }
    if (record.redirect) {
      ++out.lookups;
      if (depth == 0 && !out.all) out.ends_in_redirect = true;
      follow(*record.redirect, depth, out, "redirect");
    }
  }

 private:
  static bool has_macro(std::string_view spec) { return spec.find('%') != std::string_view::npos; }

  static std::string bare(std::string_view name) {
    std::string out(name);
    if (!out.empty() && out.back() == '.') out.pop_back();
    return out;
  }

  void note_dns_error(dns::Status status, std::string_view type, std::string_view name, Analysis& out) {
    out.temporary = fmt::format("DNS {} looking up {} {}", dns::to_string(status), type, name);
  }

  void add_void(const std::string& name, Analysis& out) {
    ++out.void_lookups;
    out.void_names.push_back(name);
  }

  void check_target(const Term& term, const std::string& domain, Analysis& out) {
    if (term.mechanism == Mechanism::kPtr || has_macro(term.domain_spec)) return;
    std::string target = term.domain_spec.empty() ? domain : bare(term.domain_spec);
    dns::Status status;
    if (term.mechanism == Mechanism::kMx) {
      auto answer = resolver_.mx(target);
      status = answer.status;
      if (answer.records.size() > 10)
        out.problems.push_back(fmt::format("mx:{} has {} MX records (limit 10)", target, answer.records.size()));
    } else {
      auto v4 = resolver_.a(target);
      status = v4.status;
      if (term.mechanism == Mechanism::kA && (status == dns::Status::kNoData || status == dns::Status::kNxDomain)) {
        auto v6 = resolver_.aaaa(target);
        if (v6.status != dns::Status::kNxDomain) status = v6.status;
      }
    }
    if (dns::is_temporary(status)) return note_dns_error(status, term.mechanism == Mechanism::kMx ? "MX" : "A", target, out);
    if (status == dns::Status::kNoData || status == dns::Status::kNxDomain) add_void(target, out);
  }

  void follow(const std::string& spec, int depth, Analysis& out, std::string_view how) {
    if (has_macro(spec)) return;
    std::string target = bare(spec);
    if (depth + 1 > kMaxDepth || !visiting_.insert(target).second) {
      out.problems.push_back(fmt::format("{}:{} loops or nests too deeply", how, target));
      return;
    }
    auto answer = resolver_.txt(target);
    if (dns::is_temporary(answer.status)) {
      visiting_.erase(target);
      return note_dns_error(answer.status, "TXT", target, out);
    }
    std::vector<std::string> records;
    for (const auto& text : answer.records)
      if (is_spf_record(text)) records.push_back(text);
    if (records.size() != 1) {
      if (records.empty()) add_void(target, out);
      out.problems.push_back(records.empty() ? fmt::format("{}:{} has no SPF record", how, target)
                                             : fmt::format("{}:{} has {} SPF records", how, target, records.size()));
    } else {
      std::string error;
      std::optional<Record> nested = parse_record(records[0], &error);
      if (!nested) {
        out.problems.push_back(fmt::format("{}:{}: {}", how, target, error));
      } else {
        // A redirect continues the same policy: its all counts as this record's.
        walk(target, *nested, how == "redirect" ? depth : depth + 1, out);
      }
    }
    visiting_.erase(target);
  }

  dns::Resolver& resolver_;
  std::set<std::string> visiting_;
};

}  // namespace

Analysis analyze(dns::Resolver& resolver, std::string_view domain, const Record& record) {
  Analysis out;
  Analyzer analyzer(resolver);
  analyzer.walk(std::string(domain), record, 0, out);
  return out;
}

}  // namespace relay::spf
