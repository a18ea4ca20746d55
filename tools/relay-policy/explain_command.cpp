// relay-policy explain: the section that applies to a user or client, what it allows, and how
// full each of its rate windows is now. Looks only; changes no counter.
#include <cstdio>

#include "commands.hpp"
#include "relay/address.hpp"
#include "relay/clock.hpp"
#include "relay/exit_codes.hpp"
#include "relay/json.hpp"
#include "relay/policy_counters.hpp"
#include "relay/policy_rules.hpp"

namespace relay_policy {
namespace {

using namespace relay::policy;

std::string patterns_text(const std::vector<DomainPattern>& patterns) {
  if (patterns.empty()) return "none";
  std::string out;
  for (const auto& p : patterns) {
    if (!out.empty()) out += ' ';
    out += p.domain.empty() ? "*" : (p.subdomains ? "*." : "") + p.domain;
  }
  return out;
}

std::string limit_text(uint64_t value) { return value == 0 ? "none" : std::to_string(value); }

struct Window {
  CounterInfo info;
  int64_t limit, used, resets_in;
};

}  // namespace

int run_explain(const relay::Tool& tool, const Common& common, const ExplainArgs& args) {
  Rules rules = load_rules(common.policy_file);
  const Section& section = rules.resolve(args.user, args.client);
  Request request;
  request.stage = Stage::kData;
  request.user = args.user;
  request.client_ip = args.client;
  request.sender = args.sender;
  // One recipient of no domain when none is given, so the per-sender recipient windows show.
  request.recipients = args.recipients.empty() ? std::vector<std::string>{""} : args.recipients;
  std::vector<CounterInfo> info;
  std::vector<Counter> counters = counters_for(section, request, &info);

  std::vector<std::string> keys;
  for (const auto& c : counters) keys.push_back(c.key);
  Common with_store = common;
  if (with_store.store.empty()) with_store.store = rules.store;
  std::vector<int64_t> tats = keys.empty() ? std::vector<int64_t>{} : open_store(with_store)->read(keys);
  relay::Timestamp now_ts = tool.clock().now();
  int64_t now = now_ts.seconds * kNanos + int64_t{now_ts.micros} * 1000;
  std::vector<Window> windows;
  for (size_t i = 0; i < counters.size(); ++i) {
    int64_t resets = tats[i] > now ? (tats[i] - now + kNanos - 1) / kNanos : 0;
    windows.push_back({info[i], counters[i].limit, gcra_used(tats[i], now, counters[i].limit, counters[i].window), resets});
  }

  std::string sender_domain = args.sender.empty() ? "" : relay::domain_of(args.sender);
  bool sender_allowed = args.sender.empty() || domain_allowed(section.sender_domains, sender_domain);
  if (tool.json()) {
    relay::JsonObject o;
    o.add("section", section.name)
        .add("sender", args.sender)
        .add("sender_allowed", sender_allowed)
        .add("sender_domains", patterns_text(section.sender_domains))
        .add("from_domains", patterns_text(section.from_domains))
        .add("align", to_string(section.align))
        .add("max_size", static_cast<uint64_t>(section.max_size))
        .add("max_recipients", static_cast<uint64_t>(section.max_recipients))
        .add("hold", section.hold);
    relay::JsonArray list;
    for (const auto& w : windows) {
      relay::JsonObject j;
      j.add("setting", w.info.setting).add("rate", w.info.rate).add("subject", w.info.subject);
      j.add("used", w.used).add("limit", w.limit).add("resets_in", w.resets_in);
      list.push(j);
    }
    o.add("windows", list);
    std::puts(o.str().c_str());
    return relay::kExitOk;
  }
  std::printf("%-16s %s\n", "section", section.name.c_str());
  if (!args.sender.empty())
    std::printf("%-16s %s (%s)\n", "sender", args.sender.c_str(), sender_allowed ? "allowed" : "NOT allowed");
  std::printf("%-16s %s\n", "sender-domains", patterns_text(section.sender_domains).c_str());
  std::printf("%-16s %s\n", "from-domains", patterns_text(section.from_domains).c_str());
  std::printf("%-16s %s\n", "align", std::string(to_string(section.align)).c_str());
  std::printf("%-16s %s\n", "max-size", limit_text(section.max_size).c_str());
  std::printf("%-16s %s\n", "max-recipients", limit_text(section.max_recipients).c_str());
  std::printf("%-16s %s\n", "hold", section.hold ? "yes" : "no");
  for (const auto& w : windows)
    std::printf("%-30s %-14s %-36s used %lld/%lld, empty in %llds\n", w.info.setting.c_str(), w.info.rate.c_str(),
                w.info.subject.c_str(), static_cast<long long>(w.used), static_cast<long long>(w.limit),
                static_cast<long long>(w.resets_in));
  return relay::kExitOk;
}

}  // namespace relay_policy
