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
bool is_maildir(const std::string& dir);

// A file's bytes: a regular file mapped read-only (nothing copied) and unmapped when it goes;
// a pipe or device (/dev/stdin, <(command)) read into memory, at most 1 GiB.
class MappedFile {
 public:
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  std::string_view bytes() const {
    return data_ ? std::string_view(static_cast<const char*>(data_), size_) : std::string_view(read_);
  }

 private:
  void* data_ = nullptr;
  size_t size_ = 0;
  std::string read_;
};

// Splits mbox text at its "From " separator lines and hands over each message.
void split_mbox(std::string_view mbox, const std::string& name, const ReadLimits& limits, const MessageSink& sink);

}  // namespace bounce_parse
