// bounce-parse: reads bounces, prints one line per failed, delayed, auto-replied or complained
// recipient. The parsing is relay::bounce (common/); this file is options, inputs and exit code.
#include <set>

#include "follow_state.hpp"
#include "output.hpp"
#include "relay/bounce.hpp"
#include "relay/cli.hpp"
#include "relay/exit_codes.hpp"
#include "relay/log.hpp"
#include "sources.hpp"

namespace {

constexpr size_t kMaxListedNonBounces = 100;

struct NotBounce {
  std::string source;
  std::string why;
};

struct Run {
  bounce_parse::Output& output;
  bool skip_other = false;
  size_t messages = 0;
  size_t not_bounces = 0;
  std::vector<NotBounce> listed;

  void read(const std::string& source, std::string_view message) {
    ++messages;
    relay::bounce::Report report = relay::bounce::parse(message);
    if (report.kind != relay::bounce::Kind::kNotBounce) {
      output.add(source, report);
      return;
    }
    ++not_bounces;
    if (listed.size() < kMaxListedNonBounces) listed.push_back({source, report.why_not});
  }

  // 0, or 65 when a message was no bounce (unless --skip-other); said once on stderr.
  int verdict() const {
    if (not_bounces == 0 || skip_other) return relay::kExitOk;
    if (messages == 1)
      throw relay::Failure(relay::kExitData, "unable to parse " + relay::log::sanitize(listed.front().source) +
                                                 " as a bounce: " + listed.front().why);
    for (const NotBounce& n : listed)
      relay::log::warning("unable to parse " + relay::log::sanitize(n.source) + " as a bounce: " + n.why);
    throw relay::Failure(relay::kExitData, "unable to parse " + std::to_string(not_bounces) + " of " +
                                               std::to_string(messages) + " messages as bounces");
  }
};

int follow_maildir(const std::string& dir, const std::string& state_path, const bounce_parse::ReadLimits& limits, Run& run) {
  if (!bounce_parse::is_maildir(dir))
    throw relay::Failure(relay::kExitData, "unable to follow " + dir + ": no Maildir (no cur/ or new/)");
  bounce_parse::FollowState state(state_path.empty() ? dir + "/bounce-parse.state" : state_path);
  std::set<std::string> present;
  for (const std::string& file : bounce_parse::maildir_files(dir)) {
    present.insert(bounce_parse::FollowState::unique_name(file));
    if (state.seen(file)) continue;
    if (bounce_parse::read_maildir_file(file, limits, [&](const std::string& source, std::string_view message) {
          run.read(source, message);
        }))
      state.mark(file);
  }
  run.output.finish();  // when writing the results fails, the state stays: they are read again
  state.save(present);
  return run.verdict();
}

}  // namespace

int main(int argc, char** argv) {
  relay::Tool tool("bounce-parse",
                   "Read bounces (RFC 3464 DSNs, ARF complaints, MTA bounce texts, auto-replies) and print one "
                   "line per failed, delayed, auto-replied or complaining recipient.");
  tool.add_json();
  CLI::App& app = tool.app();
  bool suppress = false;
  bool skip_other = false;
  std::string follow;
  std::string state;
  bounce_parse::ReadLimits limits;
  std::vector<std::string> inputs;
  app.add_flag("--suppress", suppress,
               "print JSON lines of hard failures and complaints only, for relay-policy's suppression list");
  auto* follow_option = app.add_option("--follow", follow, "read only the messages of Maildir DIR that earlier runs have not read")
                            ->type_name("DIR");
  app.add_option("--state", state, "the state file of --follow (default: DIR/bounce-parse.state)")
      ->type_name("FILE")
      ->needs(follow_option);
  app.add_flag("--skip-other", skip_other, "skip messages that are not bounces without a word, and exit 0 for them");
  app.add_option("--max-size", limits.max_message, "bytes of each message that are read (default 16777216)")
      ->type_name("BYTES")
      ->check(CLI::Range(size_t{1024}, size_t{1} << 30));
  auto* inputs_option = app.add_option("input", inputs, "message files, mboxes or Maildirs; - or none: standard input");
  follow_option->excludes(inputs_option);

  return tool.run(argc, argv, [&] {
    bounce_parse::Style style = suppress ? bounce_parse::Style::kSuppress
                                : tool.json() ? bounce_parse::Style::kJson
                                              : bounce_parse::Style::kTable;
    bounce_parse::Output output(style);
    Run run{output, skip_other, 0, 0, {}};
    if (!follow.empty()) return follow_maildir(follow, state, limits, run);
    auto sink = [&](const std::string& source, std::string_view message) { run.read(source, message); };
    if (inputs.empty()) inputs.push_back("-");
    for (const std::string& input : inputs) bounce_parse::read_path(input, limits, sink);
    output.finish();
    return run.verdict();
  });
}
