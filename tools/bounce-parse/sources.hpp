#pragma once
// Where bounces come from: standard input, message files, mboxes and Maildirs. Each message is
// handed to a callback with a name for the "source" field, and never held longer than the call.
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace bounce_parse {

using MessageSink = std::function<void(const std::string& source, std::string_view message)>;

struct ReadLimits {
  size_t max_message = 16 * 1024 * 1024;  // bytes of one message read; the rest is ignored
};

// One message on standard input (an mbox there is split as well); source "-".
void read_stdin(const ReadLimits& limits, const MessageSink& sink);

// A message file, an mbox (first line "From "), or a Maildir (a directory with cur/ or new/).
void read_path(const std::string& path, const ReadLimits& limits, const MessageSink& sink);

// The message files of a Maildir, new/ first, each in name (arrival) order.
std::vector<std::string> maildir_files(const std::string& dir);
// One of them; false when it is gone (a mail reader moved it from new/ to cur/ meanwhile).
bool read_maildir_file(const std::string& file, const ReadLimits& limits, const MessageSink& sink);
bool is_maildir(const std::string& dir);

// Splits mbox text at its "From " separator lines and hands over each message.
void split_mbox(std::string_view mbox, const std::string& name, const ReadLimits& limits, const MessageSink& sink);

}  // namespace bounce_parse
