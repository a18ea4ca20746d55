// relay-policy: who may send what, how much and to whom (relay-policy(8)).
#include "commands.hpp"
#include "relay/exit_codes.hpp"
#include "relay/policy_rules.hpp"

namespace relay_policy {

relay::policy::Options Common::options(const relay::Tool& tool) const {
  relay::policy::Options o;
  o.policy_file = policy_file;
  o.store_dir = store;
  if (fail_open) o.fail_open = true;
  o.clock = tool.clock();
  return o;
}

std::string Common::store_dir() const {
  return store.empty() ? relay::policy::load_rules(policy_file).store : store;
}

}  // namespace relay_policy

int main(int argc, char** argv) {
  using namespace relay_policy;
  relay::Tool tool("relay-policy", "Decide who may send what through the relay: check, serve Postfix, suppress, explain.");
  tool.add_json();
  tool.add_now();
  CLI::App& app = tool.app();
  app.require_subcommand(1);
  app.fallthrough();

  Common common;
  app.add_option("--policy", common.policy_file, "policy file, relay-policy.conf(5)")
      ->envname("RELAY_POLICY")
      ->capture_default_str();
  app.add_option("--store", common.store, "rate-limit and suppression store directory (overrides the policy file)");
  app.add_flag("--fail-open", common.fail_open, "accept (with a warning) when the store is missing or broken");

  CheckArgs check;
  CLI::App* check_cmd = app.add_subcommand("check", "check one message: envelope on the command line, message on stdin");
  check_cmd->add_option("--user", check.user, "authenticated user");
  check_cmd->add_option("--client", check.client, "client IP address");
  check_cmd->add_option("--sender", check.sender, "envelope sender (empty for <>)")->each([&](const std::string&) {
    check.sender_given = true;
  });
  check_cmd->add_option("--rcpt", check.recipients, "envelope recipient (repeat for several)");
  check_cmd->add_option("--size", check.size, "message size in bytes (default: the bytes on stdin)");
  check_cmd->add_flag("--filter", check.filter,
                      "run as a spool-run filter: per message (RELAY_* variables) or streaming (RELAY_FILTER_PROTOCOL)");

  ServeArgs serve;
  CLI::App* serve_cmd = app.add_subcommand("serve", "Postfix policy delegation server (SMTPD_POLICY_README)");
  serve_cmd->add_option("--listen", serve.listen, "unix:PATH, /PATH, HOST:PORT or [V6]:PORT (default: stdin/stdout)");
  serve_cmd->add_option("--notify-fd", serve.notify_fd, "write a newline to this descriptor when ready");
  serve_cmd->add_option("--max-clients", serve.max_clients, "connections served at once")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  serve_cmd->add_option("--idle-timeout", serve.idle_timeout, "close a connection idle this long")->capture_default_str();

  SuppressArgs suppress;
  CLI::App* suppress_cmd = app.add_subcommand("suppress", "edit or list the suppression list");
  auto* add = suppress_cmd->add_flag("--add", suppress.add, "add the addresses, domains or bounce-parse JSON lines given");
  auto* remove = suppress_cmd->add_flag("--remove", suppress.remove, "remove the entries given");
  auto* list = suppress_cmd->add_flag("--list", suppress.list, "print the list");
  add->excludes(remove)->excludes(list);
  remove->excludes(list);
  suppress_cmd->add_option("--reason", suppress.reason, "reason stored with added entries (default: from the input, else \"manual\")");
  suppress_cmd->add_option("--expire", suppress.expire, "added entries expire after this long (300s, 4h, 30d)");
  suppress_cmd->add_option("input", suppress.inputs, "addresses or domains; - reads lines from stdin");

  ExplainArgs explain;
  CLI::App* explain_cmd = app.add_subcommand("explain", "print what a user or client may send and how full each window is");
  explain_cmd->add_option("--user", explain.user, "authenticated user");
  explain_cmd->add_option("--client", explain.client, "client IP address");
  explain_cmd->add_option("--sender", explain.sender, "envelope sender");
  explain_cmd->add_option("--rcpt", explain.recipients, "recipient (repeat for several)");

  InitArgs init;
  CLI::App* init_cmd = app.add_subcommand("init", "create the store, or set its size");
  init_cmd->add_flag("--force", init.force, "remove a broken store first (counters and the suppression list are lost)");
  init_cmd->add_option("--size", init.size, "room for counters, reserved on disk: 256M (default), 4G, ...");
  CLI::App* purge_cmd = app.add_subcommand("purge", "delete idle counters and expired suppressions (for cron)");

  return tool.run(argc, argv, [&]() -> int {
    if (*check_cmd) return run_check(tool, common, check);
    if (*serve_cmd) return run_serve(tool, common, serve);
    if (*suppress_cmd) return run_suppress(tool, common, suppress);
    if (*explain_cmd) return run_explain(tool, common, explain);
    if (*init_cmd) return run_init(common, init);
    if (*purge_cmd) return run_purge(tool, common);
    return relay::kExitUsage;
  });
}
