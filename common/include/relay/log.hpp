#pragma once
// Diagnostics and event logs, on stderr or syslog, never on stdout (stdout is protocol).
//   prog: fatal: unable to VERB OBJECT: reason
//   prog: warning: ...
//   prog: id=... from=<a@b> status=sent ...        (one key=value line per event)
// Peer-supplied text goes through sanitize() before it is logged.
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace relay::log {

enum class Sink { kStderr, kSyslog };

// Set once by the run harness.
void init(std::string_view program, Sink sink);
std::string_view program();

void fatal(std::string_view text);
void warning(std::string_view text);
void info(std::string_view text);

using Field = std::pair<std::string_view, std::string_view>;
// One event line: key=value pairs, values quoted only when they hold spaces or quotes.
void event(std::initializer_list<Field> fields);
std::string format_event(std::initializer_list<Field> fields);

// With hold_lines(true), the lines of info() and event() on stderr are kept in memory and
// written together by flush_lines() (or when 32 KiB are kept), not one write each: a streaming
// filter writes them with each batch of verdicts. warning() and fatal() write what is kept,
// then their own line, at once. Safe from several threads.
void hold_lines(bool hold);
void flush_lines();

// Control bytes, DEL and invalid UTF-8 become '?', so a peer cannot forge log lines.
std::string sanitize(std::string_view text);

}  // namespace relay::log
