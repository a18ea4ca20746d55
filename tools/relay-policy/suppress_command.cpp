// relay-policy suppress: add, remove or list suppression-list entries.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "commands.hpp"
#include "relay/clock.hpp"
#include "relay/exit_codes.hpp"
#include "relay/json.hpp"
#include "relay/log.hpp"
#include "relay/policy_store.hpp"
#include "suppress_input.hpp"

namespace relay_policy {
namespace {

// The entries named on the command line, with "-" standing for the lines of stdin.
SuppressInput gather(const SuppressArgs& args, int64_t now, int64_t expire_after) {
  SuppressInput all;
  std::string reason = args.reason.empty() ? "manual" : relay::log::sanitize(args.reason);
  for (const auto& input : args.inputs) {
    SuppressInput part;
    if (input == "-") {
      part = read_suppress_input(std::cin, "standard input", reason, now, expire_after);
    } else {
      std::istringstream one(input);
      part = read_suppress_input(one, "argument \"" + relay::log::sanitize(input) + "\"", reason, now, expire_after);
    }
    all.soft += part.soft;
    all.no_recipient += part.no_recipient;
    for (auto& e : part.entries) all.entries.push_back(std::move(e));
  }
  return all;
}

int list(const relay::Tool& tool, relay::policy::LmdbStore& store) {
  int64_t now = tool.clock().seconds();
  for (const auto& s : store.list()) {
    std::string expires = s.expires == 0 ? "never" : relay::iso_time(s.expires);
    bool expired = s.expires != 0 && s.expires <= now;
    if (tool.json()) {
      relay::JsonObject o;
      o.add("entry", s.entry).add("reason", s.reason).add("added", relay::iso_time(s.added));
      if (s.expires == 0) o.add_null("expires");
      else o.add("expires", expires);
      o.add("expired", expired);
      std::puts(o.str().c_str());
    } else {
      std::printf("%-40s %s  %-20s %s%s\n", s.entry.c_str(), relay::iso_time(s.added).c_str(), expires.c_str(),
                  s.reason.c_str(), expired ? " (expired)" : "");
    }
  }
  return relay::kExitOk;
}

}  // namespace

int run_suppress(const relay::Tool& tool, const Common& common, const SuppressArgs& args) {
  if (!args.add && !args.remove && !args.list)
    throw relay::Failure(relay::kExitUsage, "unable to suppress: give --add, --remove or --list");
  if (args.list) {
    if (!args.inputs.empty()) throw relay::Failure(relay::kExitUsage, "unable to list: --list takes no entries");
    return list(tool, *open_store(common));
  }
  if (args.inputs.empty()) throw relay::Failure(relay::kExitUsage, "unable to suppress: no entries given (- reads stdin)");
  int64_t expire_after = 0;
  if (!args.expire.empty()) {
    auto d = relay::parse_duration(args.expire);
    if (!d || *d <= 0) throw relay::Failure(relay::kExitUsage, "unable to parse --expire \"" + args.expire + "\"");
    expire_after = *d;
  }
  // Everything is read and checked before the store changes: a bad line changes nothing.
  SuppressInput input = gather(args, tool.clock().seconds(), expire_after);
  auto store = open_store(common);
  try {
    if (args.add) {
      store->add(input.entries);
      relay::log::info("added " + std::to_string(input.entries.size()) + " entries; skipped " +
                       std::to_string(input.soft) + " soft bounces and " + std::to_string(input.no_recipient) +
                       " lines without a recipient");
    } else {
      std::vector<std::string> keys;
      for (const auto& e : input.entries) keys.push_back(e.entry);
      size_t removed = store->remove(keys);
      relay::log::info("removed " + std::to_string(removed) + " of " + std::to_string(keys.size()) + " entries");
    }
  } catch (const relay::policy::StoreError& e) {
    throw relay::Failure(relay::kExitTemporary, std::string("unable to update the suppression list: ") + e.what());
  }
  return relay::kExitOk;
}

}  // namespace relay_policy
