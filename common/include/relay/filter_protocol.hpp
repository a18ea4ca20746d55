#pragma once
// The streaming filter protocol of relay-filter(7), version 1: spool-run keeps one filter
// process for many messages. spool-run sets RELAY_FILTER_PROTOCOL=1 in the filter's
// environment; a filter that sees it speaks this protocol on stdin/stdout instead of
// filtering one message.
//
//   spool-run -> filter:  "relay-filter 1\n"                          once, at start
//   filter -> spool-run:  "relay-filter 1\n"                          once, the answer
//   spool-run -> filter:  "<envelope-length> <message-length>\n" ENVELOPE MESSAGE   per message
//   filter -> spool-run:  "<code> <message-length> <reason>\n" MESSAGE            per message
//
// ENVELOPE is the relay-spool(5) envelope text (name=value lines, ending with an empty line).
// code is an exit code of the toolkit: 0 the new MESSAGE replaces the old one and the message
// moves on; 75 leaves it for a later run; anything else moves it to hold/ with reason.
// message-length is 0 unless code is 0. reason is one line of text (may be empty).
//
// Extensions: spool-run names the ones it offers in RELAY_FILTER_EXTENSIONS (words separated
// by spaces); the filter lists those it accepts after its answer: "relay-filter 1 pipelining".
// A filter that answers the plain line gets the plain protocol, so old filters keep working.
//   pipelining  spool-run may send further requests before it has read a verdict; the filter
//               reads each request by its lengths and answers them in order, one verdict each.
//   prepend     a verdict of 0 may carry "+<length>": its bytes go before the message, which
//               is otherwise unchanged and not sent back ("0 +0": moved on as it is).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "relay/envelope.hpp"

namespace relay::filter {

inline constexpr const char* kProtocolEnv = "RELAY_FILTER_PROTOCOL";
inline constexpr int kProtocolVersion = 1;
inline constexpr const char* kExtensionsEnv = "RELAY_FILTER_EXTENSIONS";
inline constexpr const char* kPipelining = "pipelining";
inline constexpr const char* kPrepend = "prepend";
// True when a space-separated list of extensions names extension.
bool lists_extension(std::string_view extensions, std::string_view extension);
inline constexpr uint64_t kMaxFrame = 1ull << 30;  // 1 GiB: larger lengths are a protocol error

struct Verdict {
  int code = 0;            // exit-code table
  std::string reason;      // one line
  std::string message;     // the new message when code == 0
  // message holds only bytes to put before the unchanged message (header fields a filter
  // adds): sent as they are when spool-run accepted the prepend extension, else followed by
  // the message.
  bool prepend = false;
};

// True when this process was started by spool-run in streaming mode.
bool streaming_requested();

// The filter side: answers the handshake (accepting pipelining and prepend when they are
// offered: handle is called for one message at a time either way, and its prepend verdicts
// are completed with the message when prepend is not agreed), then calls handle for each message until stdin
// ends. Returns the exit code for the process (0 at a clean end of input, 76 on a framing
// error). handle's exceptions become a verdict of 75 for that message, never a lost message.
using Handler = std::function<Verdict(const Envelope& envelope, const std::string& message)>;
int serve(const Handler& handle);

// As serve, but when spool-run offers pipelining, up to `threads` requests are handled at once,
// each on one of `threads` threads (the calling thread is one; handle must be safe to call
// from several threads); verdicts are still written in request order. Threads beyond the
// first are woken only while requests wait and take long to handle (150 us or more on
// average). Each thread holds one request in memory; the rest wait in the pipe. Without pipelining, or with threads <= 1,
// this is serve.
int serve_concurrently(const Handler& handle, unsigned threads);

}  // namespace relay::filter
