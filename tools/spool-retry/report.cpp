#include "report.hpp"

#include <cstdio>

#include "relay/clock.hpp"
#include "relay/json.hpp"
#include "relay/log.hpp"

namespace spoolretry {
namespace {

// "in 1h02m", "3m ago": how far a time is from now, for people.
std::string relative(int64_t when, int64_t now) {
  int64_t d = when - now;
  int64_t a = d < 0 ? -d : d;
  char buf[48];
  if (a < 60) std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(a));
  else if (a < 3600) std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(a / 60), static_cast<long long>(a % 60));
  else if (a < 86400) std::snprintf(buf, sizeof buf, "%lldh%02lldm", static_cast<long long>(a / 3600), static_cast<long long>(a % 3600 / 60));
  else std::snprintf(buf, sizeof buf, "%lldd%02lldh", static_cast<long long>(a / 86400), static_cast<long long>(a % 86400 / 3600));
  return d < 0 ? std::string(buf) + " ago" : "in " + std::string(buf);
}

}  // namespace

void Reporter::event(const Event& e) {
  if (json_) {
    relay::JsonObject o;
    o.add("id", e.id).add("action", e.action);
    if (e.next_attempt != 0) o.add("next_attempt", e.next_attempt).add("due_in", e.next_attempt - now_);
    if (e.recipients != 0) o.add("recipients", e.recipients);
    if (!e.dsn.empty()) o.add("dsn", e.dsn);
    if (!e.detail.empty()) o.add("detail", e.detail);
    if (dry_run_) o.add("dry_run", true);
    std::puts(o.str().c_str());
  } else if (dry_run_) {
    if (!header_done_) {
      std::printf("%-44s %-20s %-14s %s\n", "ID", "NEXT-ATTEMPT", "DUE", "ACTION");
      header_done_ = true;
    }
    std::string what = e.action;
    if (!e.detail.empty()) what += " (" + e.detail + ")";
    std::printf("%-44s %-20s %-14s %s\n", e.id.c_str(), relay::iso_time(e.next_attempt).c_str(),
                relative(e.next_attempt, now_).c_str(), what.c_str());
  }
  if (dry_run_) return;
  std::string line = relay::log::format_event({{"id", e.id}, {"action", e.action}});
  auto add = [&](std::string_view key, const std::string& value) {
    if (!value.empty()) line += " " + relay::log::format_event({{key, value}});
  };
  add("next", e.next_attempt != 0 ? relay::iso_time(e.next_attempt) : "");
  add("recipients", e.recipients != 0 ? std::to_string(e.recipients) : "");
  add("dsn", e.dsn);
  add("detail", e.detail);
  relay::log::info(line);
}

void Reporter::summary(const Summary& s) {
  if (json_) {
    relay::JsonObject o;
    o.add("action", "summary").add("scanned", s.scanned).add("due", s.due).add("moved", s.moved);
    o.add("rescheduled", s.rescheduled).add("expired", s.expired).add("warned", s.warned).add("dsns", s.dsns);
    o.add("busy", s.busy).add("held", s.held).add("ignored", s.ignored).add("errors", s.errors).add("recovered", s.recovered);
    o.add("stats", s.stats).add("index_skip", s.index_skip);
    if (s.next_due != 0) o.add("next_due", s.next_due);
    if (dry_run_) o.add("dry_run", true);
    std::puts(o.str().c_str());
  } else if (dry_run_) {
    std::printf("%llu deferred, %llu due%s\n", static_cast<unsigned long long>(s.scanned),
                static_cast<unsigned long long>(s.due),
                s.next_due != 0 ? (", next not due " + relative(s.next_due, now_)).c_str() : "");
  }
  if (dry_run_ || (s.due == 0 && s.recovered == 0)) return;
  relay::log::event({{"status", "pass"}, {"scanned", std::to_string(s.scanned)}, {"due", std::to_string(s.due)},
                     {"moved", std::to_string(s.moved)}, {"rescheduled", std::to_string(s.rescheduled)},
                     {"expired", std::to_string(s.expired)}, {"warned", std::to_string(s.warned)},
                     {"busy", std::to_string(s.busy)}, {"errors", std::to_string(s.errors)},
                     {"recovered", std::to_string(s.recovered)}});
}

}  // namespace spoolretry
