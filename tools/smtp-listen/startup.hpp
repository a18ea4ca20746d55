#pragma once
// From a parsed command line to a running server: listeners (own, inherited from systemd, or
// one session on stdin/stdout), privileges, spool, TLS, AUTH, and SIGHUP reloads.
#include "config.hpp"
#include "relay/clock.hpp"

namespace smtp_listen {

// Returns the exit code once the server has stopped; throws relay::Failure on setup errors.
int serve(const Config& config, relay::Clock clock);

}  // namespace smtp_listen
