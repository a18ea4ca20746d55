#pragma once
// posix_spawn attributes that start a child with default signal handling and nothing blocked,
// whatever this process ignores (the harness ignores SIGPIPE) or blocks (--loop modes block
// SIGTERM for signalfd), so a filter or mx-deliver can be stopped like any process.
#include <spawn.h>

namespace relay {

class DefaultSignalsSpawnAttr {
 public:
  DefaultSignalsSpawnAttr();
  ~DefaultSignalsSpawnAttr();
  DefaultSignalsSpawnAttr(const DefaultSignalsSpawnAttr&) = delete;
  DefaultSignalsSpawnAttr& operator=(const DefaultSignalsSpawnAttr&) = delete;
  const posix_spawnattr_t* get() const { return &attr_; }

 private:
  posix_spawnattr_t attr_;
};

}  // namespace relay
