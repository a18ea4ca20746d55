#pragma once
// The spool contract of relay-spool(5), implemented once. A message is one file: its text
// envelope, an empty line, then the message bytes exactly as received. Files are written
// under tmp/, renamed into a stage, and fsynced (which commits the rename too on ext4, XFS
// and btrfs; RELAY_SPOOL_SYNC=directory adds the portable Maildir order): rename is the only
// state change. A processor claims a file by locking it and renaming it into active/
// (as "ID:ORIGIN"); a loser of that race moves on. While a file sits in deferred/ its mtime is
// its next-attempt time, so a scan never opens envelopes.
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "relay/clock.hpp"
#include "relay/envelope.hpp"
#include "relay/exit_codes.hpp"

namespace relay {

// The spool's disk or inode quota is full (ENOSPC, EDQUOT): temporary; SMTP answers 452.
class SpoolFull : public Failure {
 public:
  explicit SpoolFull(const std::string& what) : Failure(kExitTemporary, what) {}
};

enum class Stage { kTmp, kIncoming, kOutgoing, kActive, kDeferred, kHold, kFailed, kSent };
inline constexpr Stage kAllStages[] = {Stage::kTmp,      Stage::kIncoming, Stage::kOutgoing,
                                       Stage::kActive,   Stage::kDeferred, Stage::kHold,
                                       Stage::kFailed,   Stage::kSent};
std::string_view to_string(Stage stage);
std::optional<Stage> parse_stage(std::string_view name);

// A queue id: "<seconds>.<micros>.<pid>_<counter>.<host>", sorting by arrival time.
bool valid_id(std::string_view id);

// One directory entry of a stage, from readdir and one fstatat: no file is opened.
struct SpoolEntry {
  std::string id;
  Stage stage;
  Stage origin = Stage::kActive;  // for active/ entries: the stage the claimer took it from
  int64_t mtime = 0;              // in deferred/: the next-attempt time
  int64_t ctime = 0;              // last rename: when it entered its stage
  off_t size = 0;                 // file size (envelope and message)

  std::string file_name() const;  // the name in its stage directory: "ID", or "ID:ORIGIN" in active/
};

class Spool;

// A claimed message: locked and in active/. Destroying a claim that was neither finished
// nor removed puts the message back where it came from.
class Claim {
 public:
  Claim(Claim&& other) noexcept;
  Claim& operator=(Claim&&) = delete;
  ~Claim();

  const std::string& id() const { return id_; }
  Stage origin() const { return origin_; }
  Envelope& envelope() { return envelope_; }
  const std::string& message();   // read on first use

  // Replaces the file durably (the lock is kept): after a filter or a delivery attempt.
  void rewrite(const Envelope& envelope, std::string_view message);
  void rewrite_envelope(const Envelope& envelope);  // same message bytes
  // Moves the message on; next_attempt sets the mtime (for deferred/).
  void finish(Stage to, int64_t next_attempt = 0);
  // rewrite() and finish() with one fsync instead of two: the new file replaces the old one
  // in active/ and moves on, and one fsync commits its data and both renames.
  void finish(Stage to, const Envelope& envelope, std::string_view message, int64_t next_attempt = 0);
  // As finish(to, envelope(), message()) with prefix put before the message (header fields
  // a filter adds), without a copy of the message.
  void finish_prepended(Stage to, std::string_view prefix);
  // Puts the message back in the stage it came from, unchanged.
  void release();
  void remove();

 private:
  friend class Spool;
  Claim(Spool& spool, std::string id, Stage origin, int fd, Envelope envelope, size_t body_offset,
        std::optional<std::string> message);
  std::string active_name() const;
  // Writes envelope, prefix and message under tmp/ and renames the file over ours in active/,
  // locked; the new message is prefix followed by message.
  void replace(const Envelope& envelope, std::string_view prefix, std::string_view message);
  void move_to(Stage to, int64_t next_attempt);  // rename out of active/, not yet synced
  // replace() and finish(to, next_attempt) with one fsync: the two finish() that rewrite.
  void finish_replaced(Stage to, const Envelope& envelope, std::string_view prefix, std::string_view message,
                       int64_t next_attempt);

  Spool* spool_;
  std::string id_;
  Stage origin_;
  int fd_;
  Envelope envelope_;
  size_t body_offset_;
  std::optional<std::string> message_;
  bool open_ = true;
};

// A message locked where it lies, without the detour through active/: for moves that need no
// rewrite (spool-retry sending due mail back to outgoing/, rescheduling in deferred/). Claimers
// skip it while it is locked. Its moves are not synced one by one: the caller syncs the
// target stage once per batch with Spool::sync; a move lost in a crash leaves the message
// where it was, to be found again.
class LockedEntry {
 public:
  LockedEntry(LockedEntry&& other) noexcept;
  LockedEntry& operator=(LockedEntry&&) = delete;
  ~LockedEntry();

  const std::string& id() const { return id_; }
  int64_t mtime() const;                 // now, not as listed
  Envelope read_envelope() const;        // Failure(kExitData) when it is not one
  bool move_to(Stage to);                // false when it was moved away meanwhile; unlocks
  void set_mtime(int64_t next_attempt);  // the next-attempt time, where it lies
  void unlock();

 private:
  friend class Spool;
  LockedEntry(const Spool& spool, Stage stage, std::string id, int fd)
      : spool_(&spool), stage_(stage), id_(std::move(id)), fd_(fd) {}
  const Spool* spool_;
  Stage stage_;
  std::string id_;
  int fd_;
};

struct LoadedMessage {
  Envelope envelope;
  std::string message;
};

class Spool {
 public:
  // Opens an existing spool; Failure(kExitTemporary or kExitConfig) when it is missing or broken.
  explicit Spool(std::string root);
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  // Creates the root and every stage directory (mode 0770 less the umask, unless they exist):
  // the programs of one relay share a group, and each may run as its own user.
  static void create(const std::string& root);

  const std::string& root() const { return root_; }
  std::string path(Stage stage, std::string_view name) const;

  std::string new_id(Timestamp now);

  // Writes envelope and message durably into the stage and returns the id (envelope.id is set
  // when empty). On failure nothing is left behind; the Failure says whether the disk was full.
  std::string deposit(Stage stage, Envelope envelope, std::string_view message, int64_t mtime = 0);

  // A message written as it arrives (smtp-listen DATA): the envelope first, then chunks.
  class Writer {
   public:
    Writer(Spool& spool, Envelope envelope);
    Writer(Writer&&) noexcept;
    ~Writer();  // aborts when not committed
    void write(std::string_view chunk);
    uint64_t message_size() const { return size_; }
    const std::string& id() const { return id_; }
    // fsync, rename into the stage, fsync the stage: after this the message is safe.
    void commit(Stage stage);
    // For a caller that makes the message durable by other means (smtp-listen's intake
    // journal): completes tmp/ID, neither synced nor renamed, and hands over its descriptor
    // (open for reading and writing, locked). The caller owns the file from here on.
    int detach();
    void abort();

   private:
    void flush_buffer();
    void complete();  // the buffered bytes and the size written
    Spool* spool_;
    std::string id_;
    int fd_ = -1;          // tmp/ID, made at the first flush
    bool closed_ = false;  // committed, detached or aborted
    std::string buffer_;
    uint64_t size_ = 0;
    size_t size_offset_ = 0;  // where the size placeholder sits in the file
  };

  // Claims a message of a stage; nullopt when another process got it first.
  std::optional<Claim> claim(Stage from, const std::string& id);
  // Locks a message where it lies; nullopt when it is gone or another process holds it.
  std::optional<LockedEntry> lock(Stage stage, const std::string& id) const;
  // fsync of a stage directory: makes the renames into it durable.
  void sync(Stage stage) const;

  // Entries of a stage in id (arrival) order, without opening any file.
  // with_stat as for scan().
  std::vector<SpoolEntry> list(Stage stage, bool with_stat = true) const;
  // The same, unsorted, one callback per entry: memory does not grow with the stage.
  // Without with_stat only id, stage and origin are filled (no stat per file): for callers
  // that open every file anyway and take its times from read_envelope(SpoolEntry&).
  void scan(Stage stage, const std::function<void(const SpoolEntry&)>& visit, bool with_stat = true) const;

  // Reads only the envelope (the first few KB of the file). nullopt if the file is gone.
  std::optional<Envelope> read_envelope(Stage stage, const std::string& id) const;
  // The envelope of a scanned entry; fills its mtime, ctime and size from the open file.
  std::optional<Envelope> read_envelope(SpoolEntry& entry) const;
  std::optional<LoadedMessage> load(Stage stage, const std::string& id) const;
  // Finds which stage holds id (not tmp/); active/ entries are found by their id too.
  std::optional<SpoolEntry> find(const std::string& id) const;

  // Moves a message that nobody holds from one stage to another (spool-ctl hold/release).
  // false when it was not there (someone else moved it).
  bool move(Stage from, const std::string& id, Stage to, int64_t mtime = 0);
  bool remove(Stage stage, const std::string& id);

  // Puts back entries of active/ whose claimer is gone (unlocked) and that entered active/
  // at least lease seconds before now. Returns how many were recovered.
  int recover_leases(int64_t now, int64_t lease);
  // Removes files in tmp/ older than max_age (left by writers killed mid-write).
  int purge_tmp(int64_t now, int64_t max_age);

 private:
  friend class Claim;
  friend class LockedEntry;
  friend class Writer;
  int dir_fd(Stage stage) const { return dir_fds_[static_cast<int>(stage)]; }
  // Opens a stage's file read-only; -1 when it does not exist (or the id is not valid).
  int open_entry(Stage stage, const std::string& name) const;
  // Writes a file in tmp/ holding envelope+prefix+message (not yet synced); returns its open
  // fd (locked when lock). remove_stale: a file of that name already there is removed first.
  int write_tmp(const std::string& id, std::string_view envelope_text, std::string_view prefix,
                std::string_view message, bool lock, bool remove_stale = false);
  // Renames a file of tmp/ into a stage and makes it durable (the file's data and the rename).
  // fresh: a new message, removed again when it cannot be made durable.
  void publish(const std::string& tmp_name, Stage stage, const std::string& name, int64_t mtime, int fd, bool fresh);

  std::string root_;
  bool sync_directories_ = false;  // RELAY_SPOOL_SYNC=directory: the portable (Maildir) order
  int dir_fds_[8];
  std::string host_;
};

}  // namespace relay
