#pragma once
// The two ways spool-run asks a filter about a message (relay-filter(7)): a process per
// message, or one long-running process speaking the streaming protocol.
#include <chrono>
#include <memory>
#include <cstdint>
#include <string>
#include <vector>

#include "relay/envelope.hpp"
#include "relay/filter_protocol.hpp"

namespace relay::spoolrun {

struct FilterSettings {
  std::vector<std::string> argv;
  std::string spool;
  std::string stage;                 // the stage messages are taken from
  std::chrono::seconds timeout{300};
  size_t max_output = 0;             // most bytes a filter may write for one message
};

class Filter {
 public:
  virtual ~Filter() = default;
  // How many messages may be submitted before the oldest verdict is collected: more than one
  // when the filter takes requests while it works on earlier ones (relay-filter(7), pipelining).
  virtual size_t window() const { return 1; }
  // How many bytes of messages may be in flight at once: a filter whose requests wait in a
  // pipe gives the pipe's size, so that sending one never waits for the filter to catch up.
  virtual size_t window_bytes() const { return SIZE_MAX; }
  // Hands the filter one message; envelope and message must stay in place until its verdict
  // has been collected.
  virtual void submit(const Envelope& envelope, const std::string& message) = 0;
  // The verdict on the oldest message submitted and not yet collected. A filter that crashes,
  // hangs or breaks the protocol gives code 75; one that cannot be started throws Failure
  // (the run stops).
  virtual filter::Verdict collect() = 0;
};

std::unique_ptr<Filter> make_per_message_filter(FilterSettings settings);
std::unique_ptr<Filter> make_stream_filter(FilterSettings settings);

}  // namespace relay::spoolrun
