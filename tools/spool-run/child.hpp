#pragma once
// A filter process with pipes on its standard input and output (and, when asked, error),
// served together with poll(2) so neither side can block the other, under a deadline.
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace relay::spoolrun {

using Deadline = std::chrono::steady_clock::time_point;

class Child {
 public:
  // Starts argv[0] (searched in PATH) with exactly env as its environment. With capture_stderr
  // its standard error is a pipe read by pump(); otherwise it shares ours. Throws Failure:
  // kExitConfig when the program cannot be found or run, kExitTemporary otherwise.
  Child(const std::vector<std::string>& argv, const std::vector<std::string>& env, bool capture_stderr);
  ~Child();  // kills and reaps a child still running
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  enum class Pumped { kDone, kOutputEnded, kTimeout, kTooLarge, kError };

  struct Exchange {
    std::string_view input;            // written to the child's standard input
    bool close_input_after = false;    // end its input once written (per-message mode)
    size_t max_output = 0;             // more output than this is kTooLarge
    // Complete once this says so; without it, once standard output (and error) end.
    std::function<bool(const std::string&)> complete;
    // Complete once all input is written (output read meanwhile is kept): a request sent
    // while the filter may still be answering earlier ones.
    bool until_written = false;
  };

  // Writes the input and collects standard output into output until the exchange is complete.
  // kError when the filter stops reading its input before an until_written exchange is done.
  // Standard error read meanwhile is copied to ours and its last line kept in last_error_line().
  Pumped pump(const Exchange& exchange, std::string& output, Deadline deadline);

  // Waits for the child to end; its wait status, or nullopt at the deadline.
  std::optional<int> wait(Deadline deadline);
  void close_input();
  // Asks for pipes to and from the child of this many bytes (F_SETPIPE_SZ; the kernel may
  // give less, up to /proc/sys/fs/pipe-max-size): room for requests sent ahead. Returns the
  // size of the smaller pipe it got.
  size_t widen_pipes(int bytes);
  void kill();
  pid_t pid() const { return pid_; }
  const std::string& last_error_line() const { return last_error_line_; }

 private:
  void read_error();
  // Writes what the pipe takes of the exchange's input after written (never waits).
  void write_input(const Exchange& exchange, size_t& written);

  pid_t pid_ = -1;
  int pidfd_ = -1;
  int in_ = -1, out_ = -1, err_ = -1;
  bool reaped_ = false;
  std::string error_tail_;
  std::string last_error_line_;
};

// How a wait status reads in a log line: "exited with 65", "killed by signal 9".
std::string describe_status(int status);

}  // namespace relay::spoolrun
