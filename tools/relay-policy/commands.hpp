#pragma once
// The sub-commands of relay-policy(8), each in its own file; main.cpp only wires the options.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "relay/cli.hpp"
#include "relay/policy.hpp"
#include "relay/policy_store.hpp"

namespace relay_policy {

// Options every sub-command shares.
struct Common {
  std::string policy_file = "/etc/relay/policy.conf";
  std::string store;
  bool fail_open = false;

  relay::policy::Options options(const relay::Tool& tool) const;
  std::string store_dir() const;  // --store, else the policy file's
};

struct CheckArgs {
  std::string user, client, sender;
  bool sender_given = false;
  std::vector<std::string> recipients;
  std::optional<uint64_t> size;
  bool filter = false;
};
int run_check(const relay::Tool& tool, const Common& common, const CheckArgs& args);

struct ServeArgs {
  std::string listen;  // empty: one client on stdin/stdout (spawn mode)
  int notify_fd = -1;
  int max_clients = 100;
  std::string idle_timeout = "300s";
};
int run_serve(const relay::Tool& tool, const Common& common, const ServeArgs& args);

struct SuppressArgs {
  bool add = false, remove = false, list = false;
  std::vector<std::string> inputs;  // addresses, domains, or "-" for standard input
  std::string reason;
  std::string expire;
};
int run_suppress(const relay::Tool& tool, const Common& common, const SuppressArgs& args);

struct ExplainArgs {
  std::string user, client, sender;
  std::vector<std::string> recipients;
};
int run_explain(const relay::Tool& tool, const Common& common, const ExplainArgs& args);

struct InitArgs {
  bool force = false;
  std::string size = "256M";
};
int run_init(const Common& common, const InitArgs& args);
// The store named by --store or the policy file; Failure(75) when it cannot be opened.
std::shared_ptr<relay::policy::LmdbStore> open_store(const Common& common);
int run_purge(const relay::Tool& tool, const Common& common);

}  // namespace relay_policy
