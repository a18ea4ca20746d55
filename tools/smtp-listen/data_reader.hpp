#pragma once
// Reading message data off the wire, line by line, under the rules that stop SMTP smuggling
// (CVE-2023-51764 class): only CRLF "." CRLF ends DATA; a bare LF ends a line but is never
// part of an end (it is normalized to CRLF, or refused with --bare-newline reject); a bare CR
// and a NUL byte are refused; lines longer than the limit are refused. A refused message is
// still read to its real end, so the bytes after a fake end can never become a second message.
#include <cstddef>
#include <functional>
#include <string_view>

#include "config.hpp"

namespace smtp_listen {

enum class DataFault { kNone, kBareCr, kBareLf, kNul, kLineTooLong };

// The reply text for a fault: "bare CR in message data", ...
std::string_view describe(DataFault fault);

using LineOutput = std::function<void(std::string_view content)>;  // a line without its end

// Checks lines, drops the remainder of over-long ones, and hands good lines on while the
// message has no fault.
class LineFilter {
 public:
  LineFilter(size_t max_line, BareNewline mode, LineOutput output);
  // raw is a line without its LF; returns whether it ended with CRLF.
  bool take(std::string_view raw, bool allow_unstuff, bool* is_end, bool prev_crlf);
  void fail(DataFault fault);
  DataFault fault() const { return fault_; }
  size_t max_line() const { return max_line_; }

 private:
  size_t max_line_;
  BareNewline mode_;
  LineOutput output_;
  DataFault fault_ = DataFault::kNone;
};

// DATA (RFC 5321 4.1.1.4): dot-unstuffing and the end of data.
class DataReader {
 public:
  DataReader(size_t max_line, BareNewline mode, LineOutput output);
  // Consumes whole lines of input (all of it while skipping an over-long line) and returns
  // how many bytes it used; stops right after the end of data.
  size_t consume(std::string_view input);
  bool done() const { return done_; }
  DataFault fault() const { return filter_.fault(); }

 private:
  LineFilter filter_;
  bool prev_crlf_ = true;  // the DATA command line ended with CRLF
  bool skipping_ = false;  // inside an over-long line, until its LF
  bool done_ = false;
};

// BDAT chunks (RFC 3030): no dot handling and no end marker, the same line rules.
class BdatReader {
 public:
  BdatReader(size_t max_line, BareNewline mode, LineOutput output);
  void consume(std::string_view bytes);
  void finish();  // after the LAST chunk: a final line without its end is kept
  DataFault fault() const { return filter_.fault(); }

 private:
  LineFilter filter_;
  std::string partial_;
  bool skipping_ = false;
};

}  // namespace smtp_listen
