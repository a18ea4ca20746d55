// The rate counters a request touches. A key is "<scope>/<unit>/<window>/<name>": the window is
// part of it so "100/minute 10000/day" are two counters, the count is not, so raising a limit
// keeps what was already counted (GCRA reads the stored time against the new interval).
#include <algorithm>
#include <map>

#include "relay/address.hpp"
#include "relay/headers.hpp"
#include "relay/policy_counters.hpp"

namespace relay::policy {
namespace {

// The textual form of an address, so "::ffff:192.0.2.7" and "192.0.2.7" share a counter.
// Dotted IPv4 is already canonical (inet_pton refuses other spellings).
std::string canonical_ip(const std::string& text) {
  if (text.find(':') == std::string::npos) return text;
  auto ip = parse_ip(text);
  return ip ? ip->str() : text;
}

class Builder {
 public:
  Builder(const Section& section, std::vector<Counter>& out, std::vector<CounterInfo>* info)
      : section_(section), out_(out), info_(info) {}

  void add(Scope scope, Unit unit, const std::string& name, int64_t cost) {
    if (name.empty() || cost <= 0) return;
    static const char kScope[] = {'u', 'c', 's', 'r'};
    for (const Rate& rate : section_.rates_for(scope, unit)) {
      std::string key;
      key += kScope[static_cast<size_t>(scope)];
      key += unit == Unit::kMessages ? "/m/" : "/r/";
      key += std::to_string(rate.window);
      key += '/';
      key += name;
      out_.push_back(Counter{std::move(key), rate.count, rate.window, cost});
      if (info_) info_->push_back(CounterInfo{rate_setting_name(scope, unit), rate.text, subject(scope, name)});
    }
  }

 private:
  static std::string subject(Scope scope, const std::string& name) {
    switch (scope) {
      case Scope::kUser: return "user " + name;
      case Scope::kClient: return "client " + name;
      case Scope::kSenderDomain: return "sender domain " + name;
      case Scope::kRecipientDomain: return "recipient domain " + name;
    }
    return name;
  }

  const Section& section_;
  std::vector<Counter>& out_;
  std::vector<CounterInfo>* info_;
};

}  // namespace

std::vector<Counter> counters_for(const Section& section, const Request& request,
                                  std::vector<CounterInfo>* info) {
  std::vector<Counter> out;
  Builder b(section, out, info);
  std::string client = request.client_ip.empty() ? std::string() : canonical_ip(request.client_ip);
  std::string sender_domain = request.sender.empty() ? std::string() : domain_of(request.sender);
  auto senders = [&](Unit unit, int64_t cost) {
    b.add(Scope::kUser, unit, request.user, cost);
    b.add(Scope::kClient, unit, client, cost);
    b.add(Scope::kSenderDomain, unit, sender_domain, cost);
  };
  switch (request.stage) {
    case Stage::kMail:
      senders(Unit::kMessages, 1);
      break;
    case Stage::kRcpt: {
      // The recipients of the transaction so far must fit, not just this one.
      senders(Unit::kRecipients, std::max<int64_t>(1, static_cast<int64_t>(request.recipient_count)));
      std::string domain = domain_of(request.recipient);
      b.add(Scope::kRecipientDomain, Unit::kMessages, domain, 1);
      b.add(Scope::kRecipientDomain, Unit::kRecipients, domain, 1);
      break;
    }
    case Stage::kData: {
      senders(Unit::kMessages, 1);
      senders(Unit::kRecipients, static_cast<int64_t>(request.recipients.size()));
      std::map<std::string, int64_t> per_domain;
      for (const auto& recipient : request.recipients) ++per_domain[domain_of(recipient)];
      for (const auto& [domain, count] : per_domain) {
        b.add(Scope::kRecipientDomain, Unit::kMessages, domain, 1);
        b.add(Scope::kRecipientDomain, Unit::kRecipients, domain, count);
      }
      break;
    }
  }
  return out;
}

}  // namespace relay::policy
