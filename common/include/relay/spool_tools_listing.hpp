#pragma once
// The queue as spool-ls, spool-ctl show and relay-sendmail -bp print it: one message at a time
// from Spool::scan and read_envelope, so memory does not grow with the queue.
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "relay/envelope.hpp"
#include "relay/json.hpp"
#include "relay/spool.hpp"

namespace relay::listing {

// The stages a listing shows by default: mail still in the queue (not failed/ or sent/).
inline constexpr Stage kQueueStages[] = {Stage::kIncoming, Stage::kOutgoing, Stage::kActive, Stage::kDeferred,
                                         Stage::kHold};

struct Options {
  std::vector<Stage> stages;   // empty: kQueueStages
  std::string sender;          // "" any; "<>" the null sender; "@domain" a domain; else one address
  std::string recipient;       // the same forms, matched against every recipient
  bool sort = false;           // by id (arrival) within each stage; holds the entries of a stage in memory
  bool json = false;
};

struct Summary {
  uint64_t messages = 0;
  uint64_t bytes = 0;
  uint64_t unreadable = 0;     // entries whose envelope could not be parsed (warned on stderr)
};

// Writes the listing to out (text for people, or JSON lines) and returns the totals.
Summary list_queue(const Spool& spool, const Options& options, std::FILE* out);

// The JSON object of one message (the fields spool-ls --json documents), for adding more.
JsonObject message_json(const SpoolEntry& entry, const Envelope& envelope);
// The same object appended to out (no newline): for a listing, without an object per message.
void append_message_json(std::string& out, const SpoolEntry& entry, const Envelope& envelope);
// Appends the text block of one message, as spool-ls prints it.
void append_message_text(std::string& out, const SpoolEntry& entry, const Envelope& envelope);

// True when address matches a filter pattern of Options (case-insensitive).
bool address_matches(std::string_view address, std::string_view pattern);

// Parses a comma-separated list of stage names, or "all"; throws Failure(kExitUsage).
std::vector<Stage> parse_stages(std::string_view text);

}  // namespace relay::listing
