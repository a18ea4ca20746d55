// spool-run: runs a filter over every message of one spool stage and moves the result to the
// next stage (relay-filter(7)); --stream keeps one filter process for many messages.
#include <string>
#include <vector>

#include "filters.hpp"
#include "relay/cli.hpp"
#include "relay/clock.hpp"
#include "relay/exit_codes.hpp"
#include "relay/spool.hpp"
#include "runner.hpp"

namespace {

relay::Stage stage_option(const std::string& name, const char* option) {
  auto stage = relay::parse_stage(name);
  if (!stage || *stage == relay::Stage::kTmp || *stage == relay::Stage::kActive)
    throw relay::Failure(relay::kExitUsage, std::string("unable to use ") + option + " " + name +
                                                ": expected a stage such as incoming, outgoing, hold");
  return *stage;
}

int64_t duration_option(const std::string& text, const char* option) {
  auto seconds = relay::parse_duration(text);
  if (!seconds || *seconds <= 0)
    throw relay::Failure(relay::kExitUsage, std::string("unable to read ") + option + " " + text +
                                                ": expected a duration such as 30s, 5m");
  return *seconds;
}

}  // namespace

int main(int argc, char** argv) {
  relay::Tool tool("spool-run", "Run a filter over each message of one spool stage and move the result to the "
                                "next stage (see relay-filter(7)).");
  tool.add_json();
  CLI::App& app = tool.app();
  std::string spool_dir = "/var/spool/relay", from = "incoming", to = "outgoing", timeout = "5m", retry = "60s";
  bool stream = false, loop = false, once = false;
  uint64_t max_messages = 0, max_size = 100ull << 20;
  std::vector<std::string> command;
  app.add_option("--spool", spool_dir, "spool directory")->envname("RELAY_SPOOL")->capture_default_str();
  app.add_option("--from", from, "stage to take messages from")->capture_default_str();
  app.add_option("--to", to, "stage to move filtered messages to")->capture_default_str();
  app.add_flag("--stream", stream, "keep one filter process speaking the relay-filter(7) streaming protocol");
  auto* loop_flag = app.add_flag("--loop", loop, "keep running: wait for new messages instead of exiting");
  app.add_flag("--once", once, "one pass over the stage, then exit (the default)")->excludes(loop_flag);
  app.add_option("--max", max_messages, "stop after this many messages (0: no limit)")->capture_default_str();
  app.add_option("--timeout", timeout, "longest a filter may take over one message")->capture_default_str();
  app.add_option("--max-size", max_size, "most bytes a filter may write for one message (with prepend: the bytes it adds)")->capture_default_str();
  app.add_option("--retry", retry, "with --loop: how long a deferred message waits before the next try")
      ->capture_default_str();
  app.add_option("command", command, "the filter and its arguments, after --")->required();

  return tool.run(argc, argv, [&] {
    relay::spoolrun::RunSettings settings;
    settings.from = stage_option(from, "--from");
    settings.to = stage_option(to, "--to");
    if (settings.from == settings.to) throw relay::Failure(relay::kExitUsage, "unable to run: --from and --to are the same stage");
    settings.loop = loop;
    settings.max_messages = max_messages;
    settings.retry_interval = duration_option(retry, "--retry");
    settings.json = tool.json();
    relay::spoolrun::FilterSettings filter_settings{
        .argv = command, .spool = spool_dir, .stage = std::string(relay::to_string(settings.from)),
        .timeout = std::chrono::seconds(duration_option(timeout, "--timeout")), .max_output = max_size};
    relay::Spool spool(spool_dir);
    auto filter = stream ? relay::spoolrun::make_stream_filter(filter_settings)
                         : relay::spoolrun::make_per_message_filter(filter_settings);
    relay::spoolrun::Runner runner(spool, *filter, settings);
    return runner.run();
  });
}
