#pragma once
// The one exit-code table of the toolkit (documented in every man page, EXIT CODES).
// Chosen so cron scripts, qmail, Postfix's pipe(8) and OpenSMTPD read every code alike:
// 69 and 111 are never used because hosts disagree on whether they are temporary.
#include <stdexcept>
#include <string>

namespace relay {

enum ExitCode : int {
  kExitOk = 0,
  kExitUsage = 64,       // bad command line
  kExitData = 65,        // bad input data (message, address, file format)
  kExitTemporary = 75,   // try again later; also crashes, bugs, resource exhaustion
  kExitProtocol = 76,    // remote peer broke the protocol
  kExitPermission = 77,  // not allowed (file modes, credentials)
  kExitConfig = 78,      // bad configuration
  kExitPermanent = 100,  // other permanent failure
};

// A fatal condition with the exit code the program ends with. Library code throws it;
// the run harness (cli.hpp) catches it once, prints "prog: fatal: <what>" and exits.
// The message reads as "unable to VERB OBJECT: reason".
class Failure : public std::runtime_error {
 public:
  Failure(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
  int code() const { return code_; }

 private:
  int code_;
};

// Failure from errno: temporary unless the error says the caller lacks permission.
[[noreturn]] void fail_errno(const std::string& what, int err);

// True when errno says "the disk or a quota is full": callers answer 452 rather than 451.
bool is_space_error(int err);

// The RFC 3463 class digit an exit code stands for: "2", "4" or "5".
char status_class_of(int exit_code);

}  // namespace relay
