#include "relay/spawn.hpp"

#include <signal.h>

#include <initializer_list>

namespace relay {

DefaultSignalsSpawnAttr::DefaultSignalsSpawnAttr() {
  posix_spawnattr_init(&attr_);
  sigset_t defaults, none;
  sigemptyset(&none);
  sigemptyset(&defaults);
  for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP}) sigaddset(&defaults, sig);
  posix_spawnattr_setsigdefault(&attr_, &defaults);
  posix_spawnattr_setsigmask(&attr_, &none);
  posix_spawnattr_setflags(&attr_, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
}

DefaultSignalsSpawnAttr::~DefaultSignalsSpawnAttr() { posix_spawnattr_destroy(&attr_); }

}  // namespace relay
