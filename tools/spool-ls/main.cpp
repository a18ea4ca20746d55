// spool-ls: the queue as mailq(1) shows it, or as JSON lines for scripts.
#include <cstdio>
#include <string>

#include "relay/cli.hpp"
#include "relay/exit_codes.hpp"
#include "relay/spool.hpp"
#include "relay/spool_tools_listing.hpp"

int main(int argc, char** argv) {
  relay::Tool tool("spool-ls", "List the messages of a relay spool: id, size, arrival, sender, and each "
                               "recipient with its state and last response.");
  tool.add_json();
  std::string spool_dir = "/var/spool/relay";
  std::string stages;
  relay::listing::Options options;
  CLI::App& app = tool.app();
  app.add_option("--spool", spool_dir, "spool directory")->envname("RELAY_SPOOL")->capture_default_str();
  app.add_option("--stage", stages, "comma-separated stages to list, or \"all\" (default: the queue: "
                                    "incoming,outgoing,active,deferred,hold)");
  app.add_option("--sender", options.sender, "only messages from this address, \"@domain\", or \"<>\"");
  app.add_option("--recipient", options.recipient, "only messages with a recipient at this address or \"@domain\"");
  app.add_flag("--sort", options.sort, "list each stage in arrival order (holds a stage's names in memory)");
  return tool.run(argc, argv, [&] {
    options.json = tool.json();
    if (!stages.empty()) options.stages = relay::listing::parse_stages(stages);
    relay::Spool spool(spool_dir);
    static char buffer[1 << 16];
    std::setvbuf(stdout, buffer, _IOFBF, sizeof buffer);
    relay::listing::Summary summary = relay::listing::list_queue(spool, options, stdout);
    // Unreadable envelopes were listed as warnings; the listing itself is complete.
    return summary.unreadable > 0 ? relay::kExitData : relay::kExitOk;
  });
}
