#pragma once
// smtp-listen's intake journal: one disk flush for many accepted messages. A message complete
// in tmp/ is appended whole to a journal file, and one fdatasync covers every message appended
// meanwhile; the file was filled with zeros when it was made, so that flush commits no
// file-system metadata. The 250 follows that flush. A publisher thread then makes the batch
// durable where it lies (syncfs), says so in the journal, and moves the files into their
// stages (journal_recovery.hpp); that journal file is then written from its start again.
// There are two journal files: the committer appends to one while the publisher works through
// the other, so a slow publish never holds up a 250. A publish that fails stops smtp-listen
// (exit 75): an I/O error is reported only once, so nothing after it could be trusted, and
// the next start recovers everything from the journals. smtp-listen(8), INTAKE JOURNAL.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "journal_recovery.hpp"
#include "relay/spool.hpp"

namespace smtp_listen {

struct JournalOptions {
  std::chrono::milliseconds publish_interval{100};  // longest wait of a journaled message for its stage
  size_t capacity = 4u << 20;  // bytes of each file written as zeros up front; more grows the file
};

class IntakeJournal {
 public:
  // Recovers the journals that dead processes left in the spool's journal/ directory
  // (made when missing), then starts journals of its own.
  IntakeJournal(relay::Spool& spool, JournalOptions options);
  // Publishes what is left and removes the journals.
  ~IntakeJournal();
  IntakeJournal(const IntakeJournal&) = delete;
  IntakeJournal& operator=(const IntakeJournal&) = delete;

  // Returns once the completed message is durable; it reaches stage (incoming/ or hold/) at
  // the next publish. Throws relay::SpoolFull or relay::Failure, and the message is then gone
  // from tmp/.
  void commit(relay::Spool::Writer& writer, relay::Stage stage);

 private:
  struct Request {
    std::string id;
    relay::Stage stage = relay::Stage::kIncoming;
    int fd = -1;
    bool done = false;
    std::exception_ptr error;
  };
  struct Pending {
    Journaled entry;
    int fd;                  // kept open and locked until published, so that purge_tmp leaves it alone
    uint64_t record_offset;  // its record in the journal, for when tmp/ lost the file
    uint64_t record_size;
  };
  // One journal file and the messages it holds that are not yet in their stage.
  struct Slot {
    std::string path;
    int fd = -1;
    uint64_t file_size = 0;
    uint64_t next_seq = 0;  // random at first, never reset: a new pass outnumbers the last one's leftovers
    uint64_t position = 0;
    std::vector<Pending> pending;
    std::chrono::steady_clock::time_point first_pending;
  };

  void commit_loop();
  void publish_loop();
  bool publish_due(const Slot& slot) const;
  void append(Slot& slot, std::vector<Request*>& batch);
  void publish(Slot& slot);  // or stops the process
  void restore_missing(Slot& slot);
  void discard(const std::string& id, int fd);

  relay::Spool& spool_;
  JournalOptions options_;
  int root_fd_ = -1;
  int tmp_fd_ = -1;
  Slot slots_[2];

  std::mutex mutex_;
  std::condition_variable work_;     // the committer: requests, a slot free again, stop
  std::condition_variable done_;     // commit(): its request is done
  std::condition_variable publish_;  // the publisher: a slot handed over, stop
  std::vector<Request*> queue_;
  int active_ = 0;                   // the slot the committer appends to
  Slot* handed_over_ = nullptr;      // the slot the publisher works on
  bool stopping_ = false;
  bool committer_done_ = false;
  std::thread committer_;
  std::thread publisher_;
};

}  // namespace smtp_listen
