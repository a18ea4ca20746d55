// spool-ctl: the operator's hands on a spool: create it, look at a message, hold, release,
// delete, requeue, counts per stage, and the clean-ups after crashed processes.
#include <string>
#include <vector>

#include "commands.hpp"
#include "relay/cli.hpp"
#include "relay/clock.hpp"
#include "relay/exit_codes.hpp"

namespace {

int64_t duration_option(const std::string& text, const char* option) {
  auto seconds = relay::parse_duration(text);
  if (!seconds) throw relay::Failure(relay::kExitUsage, std::string("unable to read ") + option + " " + text +
                                                             ": expected a duration such as 600, 10m, 36h, 2d");
  return *seconds;
}

}  // namespace

int main(int argc, char** argv) {
  relay::Tool tool("spool-ctl", "Manage a relay spool: init, show, hold, release, delete, requeue, stats, "
                                "purge-tmp, recover.");
  tool.add_json();
  tool.add_now();
  CLI::App& app = tool.app();
  std::string spool_dir = "/var/spool/relay";
  app.add_option("--spool", spool_dir, "spool directory")->envname("RELAY_SPOOL")->capture_default_str();
  app.require_subcommand(1);
  app.fallthrough();

  std::vector<std::string> ids;
  std::string show_id, reason = "held by operator", to_stage, max_age = "36h", lease = "10m";
  bool envelope_only = false, message_only = false, all = false;

  CLI::App* init = app.add_subcommand("init", "create the spool directory and its stages");
  CLI::App* show = app.add_subcommand("show", "print a message: its envelope, an empty line, the message");
  show->add_option("id", show_id, "queue id")->required();
  auto* envelope_flag = show->add_flag("--envelope", envelope_only, "print only the envelope");
  show->add_flag("--message", message_only, "print only the message")->excludes(envelope_flag);
  CLI::App* hold = app.add_subcommand("hold", "move messages to hold/ (from incoming, outgoing or deferred)");
  hold->add_option("ids", ids, "queue ids")->required();
  hold->add_option("--reason", reason, "why (stored in the envelope as hold-reason)")->capture_default_str();
  CLI::App* release = app.add_subcommand("release", "move held messages back where they were held from");
  release->add_option("ids", ids, "queue ids")->required();
  release->add_option("--to", to_stage, "put them in this stage instead: incoming, outgoing or deferred");
  CLI::App* remove = app.add_subcommand("delete", "delete messages (not those a process is working on)");
  remove->add_option("ids", ids, "queue ids")->required();
  CLI::App* requeue = app.add_subcommand("requeue", "move deferred messages to outgoing/ for delivery now");
  auto* ids_option = requeue->add_option("ids", ids, "queue ids");
  requeue->add_flag("--all", all, "every message in deferred/")->excludes(ids_option);
  CLI::App* stats = app.add_subcommand("stats", "messages, bytes and oldest age per stage; due deferred");
  CLI::App* purge = app.add_subcommand("purge-tmp", "remove files in tmp/ left by writers that died");
  purge->add_option("--max-age", max_age, "only files older than this")->capture_default_str();
  CLI::App* recover = app.add_subcommand("recover", "put back active/ entries whose process died");
  recover->add_option("--lease", lease, "only entries claimed longer ago than this")->capture_default_str();

  return tool.run(argc, argv, [&]() -> int {
    if (init->parsed()) {
      relay::Spool::create(spool_dir);
      relay::Spool check(spool_dir);  // proves every stage can be opened
      return relay::kExitOk;
    }
    relay::Spool spool(spool_dir);
    int64_t now = tool.clock().seconds();
    using relay::spoolctl::ShowPart;
    if (show->parsed())
      return relay::spoolctl::show(spool, show_id,
                                   envelope_only ? ShowPart::kEnvelope : message_only ? ShowPart::kMessage : ShowPart::kAll,
                                   tool.json());
    if (hold->parsed()) return relay::spoolctl::hold(spool, ids, reason);
    if (release->parsed()) return relay::spoolctl::release(spool, ids, to_stage);
    if (remove->parsed()) return relay::spoolctl::remove(spool, ids);
    if (requeue->parsed()) {
      if (!all && ids.empty()) throw relay::Failure(relay::kExitUsage, "unable to requeue: name queue ids or --all");
      return relay::spoolctl::requeue(spool, ids, all, tool.json());
    }
    if (stats->parsed()) return relay::spoolctl::stats(spool, now, tool.json());
    if (purge->parsed()) return relay::spoolctl::purge_tmp(spool, now, duration_option(max_age, "--max-age"), tool.json());
    return relay::spoolctl::recover(spool, now, duration_option(lease, "--lease"), tool.json());
  });
}
