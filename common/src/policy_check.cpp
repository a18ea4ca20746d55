// Policy: the rules of relay-policy.conf(5) applied to one stage of one SMTP transaction.
#include <mutex>

#include "relay/address.hpp"
#include "relay/domain.hpp"
#include "relay/exit_codes.hpp"
#include "relay/headers.hpp"
#include "relay/log.hpp"
#include "relay/policy.hpp"
#include "relay/policy_counters.hpp"
#include "relay/policy_rules.hpp"
#include "relay/policy_store.hpp"

namespace relay::policy {
namespace {

Verdict make(Action action, int code, std::string status, std::string text, std::string rule) {
  Verdict v;
  v.action = action;
  v.code = code;
  v.status = std::move(status);
  v.text = log::sanitize(text);
  v.rule = std::move(rule);
  return v;
}

Verdict accept() { return Verdict{}; }

// "user alice", "client 192.0.2.7", or "local submitter": who the rules were applied to.
std::string who(const Request& r) {
  if (!r.user.empty()) return "user " + r.user;
  if (!r.client_ip.empty()) return "client " + r.client_ip;
  return "local submitter";
}

std::string seconds_text(int64_t seconds) {
  return std::to_string(seconds) + (seconds == 1 ? " second" : " seconds");
}

}  // namespace

std::string Verdict::reply() const { return std::to_string(code) + " " + status + " " + text; }

int Verdict::exit_code() const {
  switch (action) {
    case Action::kAccept: return kExitOk;
    case Action::kDefer: return kExitTemporary;
    case Action::kReject:
    case Action::kHold: return kExitPermanent;
  }
  return kExitTemporary;
}

std::string_view to_string(Action action) {
  switch (action) {
    case Action::kAccept: return "accept";
    case Action::kReject: return "reject";
    case Action::kDefer: return "defer";
    case Action::kHold: return "hold";
  }
  return "defer";
}

struct Policy::Impl {
  Options options;
  std::mutex mutex;  // guards rules (swapped by reload) and store (opened lazily, per process)
  std::shared_ptr<const Rules> rules;
  std::shared_ptr<LmdbStore> store;

  std::shared_ptr<const Rules> snapshot() {
    std::lock_guard lock(mutex);
    return rules;
  }

  std::string store_dir(const Rules& r) const { return options.store_dir.empty() ? r.store : options.store_dir; }
  bool fail_open(const Rules& r) const { return options.fail_open.value_or(r.fail_open); }

  // The store of this process; reopened in a forked child, whose inherited handle must not be used.
  std::shared_ptr<LmdbStore> open_store(const Rules& r) {
    std::lock_guard lock(mutex);
    if (store && store->inherited()) store.reset();
    if (!store) store = LmdbStore::open(store_dir(r));
    return store;
  }

  Verdict store_failure(const Rules& r, const Request& request, const StoreError& e) {
    if (fail_open(r)) {
      log::warning(std::string("accepting without rate limits or suppression list (on-store-error = accept) for ") +
                   log::sanitize(who(request)) + ": " + e.what());
      return accept();
    }
    log::warning(std::string("deferring: ") + e.what());
    return make(Action::kDefer, 451, "4.3.0", "policy store unavailable, try again later", "store");
  }

  Verdict rate_verdict(const Section& section, const Request& request, const std::vector<Counter>& counters,
                       const TakeResult& taken) {
    // Names for the message are built only for a refusal, off the hot path.
    std::vector<CounterInfo> info;
    counters_for(section, request, &info);
    const CounterInfo& which = info[taken.refused];
    const Counter& c = counters[taken.refused];
    std::string rule = which.setting + " " + which.rate;
    if (taken.step.never)
      return make(Action::kReject, 550, "5.7.1",
                  "message has " + std::to_string(c.cost) + " recipients, more than " + rule + " allows for " +
                      which.subject,
                  rule);
    int64_t wait = (taken.step.retry_after + kNanos - 1) / kNanos;
    Verdict v = make(Action::kDefer, 451, "4.7.1",
                     "rate limit " + rule + " reached for " + which.subject + ", try again in " + seconds_text(wait),
                     rule);
    v.retry_after = wait;
    return v;
  }

  Verdict limits(const Rules& r, const Request& request, const Section& section, bool commit) {
    std::vector<Counter> counters = counters_for(section, request, nullptr);
    if (counters.empty()) return accept();
    Timestamp ts = options.clock.now();
    int64_t now = ts.seconds * kNanos + int64_t{ts.micros} * 1000;
    try {
      TakeResult taken = open_store(r)->take(counters, now, commit);
      if (taken.allowed) return accept();
      return rate_verdict(section, request, counters, taken);
    } catch (const StoreError& e) {
      return store_failure(r, request, e);
    }
  }

  Verdict size_check(const Section& section, uint64_t size) {
    if (section.max_size != 0 && size > section.max_size)
      return make(Action::kReject, 552, "5.3.4",
                  "message size " + std::to_string(size) + " exceeds the limit of " +
                      std::to_string(section.max_size) + " bytes",
                  "max-size");
    return accept();
  }

  Verdict mail(const Rules& r, const Request& request, const Section& section) {
    if (Verdict v = size_check(section, request.size); !v.accepted()) return v;
    if (!request.sender.empty()) {
      std::string domain = domain_of(request.sender);
      if (!domain_allowed(section.sender_domains, domain))
        return make(Action::kReject, 550, "5.7.1",
                    "sender domain " + (domain.empty() ? std::string("(none)") : domain) + " is not allowed for " +
                        who(request),
                    "sender-domains");
    }
    return limits(r, request, section, false);
  }

  Verdict rcpt(const Rules& r, const Request& request, const Section& section) {
    if (section.max_recipients != 0 && request.recipient_count > section.max_recipients)
      return make(Action::kDefer, 452, "4.5.3",
                  "too many recipients, at most " + std::to_string(section.max_recipients) + " per message",
                  "max-recipients");
    std::string address = to_lower(request.recipient);
    try {
      if (auto entry = open_store(r)->find(address, options.clock.seconds()))
        return make(Action::kReject, 550, "5.7.1",
                    "recipient <" + request.recipient + "> is on the suppression list (" + entry->reason +
                        (entry->reason.empty() ? "" : ", ") + "since " + iso_time(entry->added) + "); not sending",
                    "suppression " + entry->entry);
    } catch (const StoreError& e) {
      return store_failure(r, request, e);
    }
    return limits(r, request, section, false);
  }

  Verdict header_from(const Request& request, const Section& section) {
    std::string from = to_lower(request.from_domain);
    if (from.empty())
      return make(Action::kReject, 550, "5.7.1", "message has no From address", "from-domains");
    if (!domain_allowed(section.from_domains, from))
      return make(Action::kReject, 550, "5.7.1",
                  "From domain " + from + " is not allowed for " + who(request), "from-domains");
    if (!request.sender.empty() && section.align != Align::kNone) {
      std::string sender = domain_of(request.sender);
      bool aligned = section.align == Align::kStrict
                         ? sender == from
                         : organizational_domain(sender) == organizational_domain(from);
      if (!aligned)
        return make(Action::kReject, 550, "5.7.1",
                    "sender domain " + sender + " does not align with From domain " + from + " (" +
                        std::string(to_string(section.align)) + ")",
                    "align");
    }
    return accept();
  }

  Verdict data(const Rules& r, const Request& request, const Section& section) {
    if (Verdict v = size_check(section, request.size); !v.accepted()) return v;
    size_t count = request.recipient_count ? request.recipient_count : request.recipients.size();
    if (section.max_recipients != 0 && count > section.max_recipients)
      return make(Action::kReject, 550, "5.5.3",
                  "too many recipients (" + std::to_string(count) + "), at most " +
                      std::to_string(section.max_recipients) + " per message",
                  "max-recipients");
    if (request.headers_seen)
      if (Verdict v = header_from(request, section); !v.accepted()) return v;
    if (Verdict v = limits(r, request, section, true); !v.accepted()) return v;
    if (section.hold)
      return make(Action::kHold, 250, "2.0.0", "accepted and held for review", "hold");
    return accept();
  }
};

Policy::Policy(Options options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->rules = std::make_shared<const Rules>(load_rules(impl_->options.policy_file));
}

Policy::~Policy() = default;

void Policy::reload() {
  auto fresh = std::make_shared<const Rules>(load_rules(impl_->options.policy_file));
  std::lock_guard lock(impl_->mutex);
  if (impl_->store && impl_->store_dir(*fresh) != impl_->store_dir(*impl_->rules)) impl_->store.reset();
  impl_->rules = std::move(fresh);
}

Verdict Policy::check(const Request& request) {
  auto rules = impl_->snapshot();
  const Section& section = rules->resolve(request.user, request.client_ip);
  switch (request.stage) {
    case Stage::kMail: return impl_->mail(*rules, request, section);
    case Stage::kRcpt: return impl_->rcpt(*rules, request, section);
    case Stage::kData: return impl_->data(*rules, request, section);
  }
  return impl_->data(*rules, request, section);
}

Verdict Policy::check_message(const Request& request, std::vector<Verdict>* per_recipient) {
  Request step = request;
  step.stage = Stage::kMail;
  Verdict v = check(step);
  if (!v.accepted()) return v;
  step.stage = Stage::kRcpt;
  step.recipient_count = 0;  // the count is judged once, at DATA, as a whole-message refusal
  Verdict first_refusal;
  bool refused = false;
  for (const auto& recipient : request.recipients) {
    step.recipient = recipient;
    Verdict r = check(step);
    if (!r.accepted() && !refused) {
      first_refusal = r;
      refused = true;
    }
    if (per_recipient) per_recipient->push_back(std::move(r));
  }
  if (refused) return first_refusal;
  step.stage = Stage::kData;
  step.recipient.clear();
  step.recipient_count = request.recipients.size();
  return check(step);
}

}  // namespace relay::policy
