#pragma once
// Listing deferred/ cheaply at 100,000+ messages. A file's mtime is its next-attempt time
// (relay-spool(5)); reading it costs a stat per file, which dominates a scan. SPOOL/.retry-index
// remembers, for every file a pass saw, its inode number and mtime: the next pass reads the
// directory (which gives each name's inode for free) and stats only the files whose inode is
// new. Every writer of a deferred file renames a new file into place (a new inode), so an
// unchanged inode is an unchanged file. A due file is checked again (fstat) once locked.
//
// The index also records deferred/'s own modification time when a pass found nothing due:
// while the directory is unchanged and the earliest next attempt is still ahead, the next
// pass knows nothing is due without reading the directory at all.
// spool-retry's own reschedules (in place) are recorded; changing a deferred file's time in
// place by other means (touch) is not seen: use spool-ctl, or --full-scan.
#include <cstdint>
#include <string>
#include <vector>

#include "relay/spool.hpp"

namespace spoolretry {

struct DeferredFile {
  std::string id;
  int64_t mtime = 0;
  size_t position = 0;  // in the listing, for DeferredIndex::record
};

struct DeferredListing {
  std::vector<DeferredFile> due;      // next attempt <= now
  std::vector<DeferredFile> waiting;  // the others, when asked for (dry run)
  uint64_t count = 0;
  uint64_t stats = 0;                 // files whose time had to be read with stat
  int64_t next_due = 0;               // earliest next attempt after now (0: none)
  bool unchanged_idle = false;        // skipped: deferred/ unchanged and nothing due
};

class DeferredIndex {
 public:
  explicit DeferredIndex(const relay::Spool& spool) : spool_(spool) {}

  // use_index false: stat every file (--full-scan). keep_waiting: fill listing.waiting.
  DeferredListing list(int64_t now, bool use_index, bool keep_waiting);

  // Writes what list() saw. The idle stamp is kept only when the pass changed nothing in
  // deferred/ and the directory had been quiet for two seconds (a coarse file system clock
  // could give a later change the same time).
  void save(bool pass_changed_deferred) const;

  // A new time this pass gave a listed file in place (its inode unchanged).
  void record(const DeferredFile& file, int64_t mtime) { seen_.at(file.position).mtime = mtime; }

 private:
  // One file: a 64-bit hash of its name (the index never needs the name itself), its inode
  // and its mtime. A file matches only when both hash and inode do.
  struct Slot {
    uint64_t name_hash;
    uint64_t ino;
    int64_t mtime;
  };
  struct Header;
  bool load(int64_t now);  // true: idle (nothing due, deferred/ unchanged)
  const Slot* find(uint64_t name_hash);
  void build_table();

  const relay::Spool& spool_;
  std::vector<Slot> previous_;   // the previous pass's files, in its directory order
  size_t cursor_ = 0;            // in previous_: where the next file of this pass is looked for
  std::vector<uint32_t> table_;  // open addressing: 1 + position in previous_; 0 = empty
  bool table_built_ = false;
  std::vector<Slot> seen_;       // this pass's files, in directory order
  int64_t stamp_seconds_ = 0, stamp_nanos_ = 0;  // deferred/'s mtime before listing
  int64_t next_due_ = 0;
  bool listed_ = false;
};

}  // namespace spoolretry
