#include "relay/cli.hpp"

#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <new>

#include "relay/exit_codes.hpp"
#include "relay/log.hpp"

namespace relay {

Tool::Tool(std::string name, std::string description)
    : name_(std::move(name)), app_(std::move(description), name_) {
  app_.set_version_flag("--version", name_ + " (relay toolkit) " RELAY_VERSION);
  app_.add_option("--log", log_sink_, "where diagnostics go: stderr or syslog (facility mail)")
      ->check(CLI::IsMember({"stderr", "syslog"}))
      ->envname("RELAY_LOG");
  log::init(name_, log::Sink::kStderr);
}

void Tool::add_json() { app_.add_flag("--json", json_, "print JSON lines (one object a line)"); }

void Tool::add_now() {
  app_.add_option("--now", now_, "pretend the time is TIME (epoch seconds or YYYY-MM-DDTHH:MM:SSZ)")
      ->envname("RELAY_NOW");
}

Clock Tool::clock() const { return Clock::from_option(now_); }

int Tool::run(int argc, char** argv, const std::function<int()>& body) {
  // Every write is checked, so a closed pipe is an error return, not a silent death.
  std::signal(SIGPIPE, SIG_IGN);
  int code = kExitOk;
  try {
    try {
      app_.parse(argc, argv);
    } catch (const CLI::CallForHelp&) {
      std::fputs(app_.help().c_str(), stdout);
      return std::fflush(stdout) == 0 ? kExitOk : kExitTemporary;
    } catch (const CLI::CallForAllHelp&) {
      std::fputs(app_.help("", CLI::AppFormatMode::All).c_str(), stdout);
      return std::fflush(stdout) == 0 ? kExitOk : kExitTemporary;
    } catch (const CLI::CallForVersion& e) {
      std::puts(e.what());
      return std::fflush(stdout) == 0 ? kExitOk : kExitTemporary;
    } catch (const CLI::ParseError& e) {
      log::fatal(std::string("unable to parse the command line: ") + e.what() + " (see --help)");
      return kExitUsage;
    }
    if (log_sink_ == "syslog") log::init(name_, log::Sink::kSyslog);
    code = body();
  } catch (const Failure& e) {
    log::fatal(e.what());
    code = e.code();
  } catch (const std::bad_alloc&) {
    log::fatal("unable to allocate memory");
    code = kExitTemporary;
  } catch (const std::exception& e) {
    // A bug or an unexpected condition: temporary, so no mail is bounced for it.
    log::fatal(std::string("internal error: ") + e.what());
    code = kExitTemporary;
  }
  if (std::fflush(stdout) != 0 && code == kExitOk) {
    log::fatal(std::string("unable to write standard output: ") + std::strerror(errno));
    code = kExitTemporary;
  }
  return code;
}

void write_all(int fd, std::string_view data, const char* what) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_errno(std::string("unable to write ") + what, errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
}

}  // namespace relay
