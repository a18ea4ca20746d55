#include "intake_journal.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "journal_io.hpp"
#include "journal_record.hpp"
#include "journal_recovery.hpp"
#include "relay/exit_codes.hpp"
#include "relay/log.hpp"

namespace smtp_listen {
namespace {

// Files kept open between publishes; more than this publishes early.
constexpr size_t kMaxJournaled = 1024;

// A journal of this process's own, locked before anyone can mistake it for a dead one's.
int create_journal(const std::string& path, size_t capacity) {
  for (;;) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) relay::fail_errno("unable to create " + path, errno);
    struct stat st {};
    if (::flock(fd, LOCK_EX) != 0 || ::fstat(fd, &st) != 0) {
      int err = errno;
      ::close(fd);
      relay::fail_errno("unable to lock " + path, err);
    }
    if (st.st_nlink == 0) {  // another starting instance took it for a dead one's
      ::close(fd);
      continue;
    }
    try {
      // Written zeros, not fallocate: writing over unwritten extents would change metadata again.
      std::string zeros(1u << 20, '\0');
      for (size_t offset = 0; offset < capacity; offset += zeros.size()) journal::write_at(fd, zeros, offset, path);
      journal::sync_file(fd, path);
    } catch (...) {
      ::unlink(path.c_str());
      ::close(fd);
      throw;
    }
    return fd;
  }
}

// What a journal must not survive: an error the kernel reports once, after which nothing
// written to that file can be trusted. The journals stay; the next start recovers them.
[[noreturn]] void stop_for_recovery(const std::string& what) {
  relay::log::fatal(what + "; stopping, the next start recovers the journaled messages");
  std::_Exit(relay::kExitTemporary);
}

}  // namespace

IntakeJournal::IntakeJournal(relay::Spool& spool, JournalOptions options)
    : spool_(spool), options_(options) {
  std::string dir = spool.root() + "/journal";
  if (::mkdir(dir.c_str(), 0770) != 0 && errno != EEXIST) relay::fail_errno("unable to create " + dir, errno);
  recover_journals(spool, dir);
  root_fd_ = journal::open_directory(spool.root());
  tmp_fd_ = journal::open_directory(spool.path(relay::Stage::kTmp, ""));
  try {
    for (int i = 0; i < 2; ++i) {
      slots_[i].path = dir + "/smtp-listen." + std::to_string(::getpid()) + "." + std::to_string(i);
      slots_[i].fd = create_journal(slots_[i].path, options_.capacity);
      slots_[i].file_size = options_.capacity;
      slots_[i].next_seq = journal::random_first_seq();
    }
    journal::sync_directory(dir);
  } catch (...) {
    for (Slot& slot : slots_) {
      if (slot.fd < 0) continue;
      ::unlink(slot.path.c_str());
      ::close(slot.fd);
    }
    ::close(root_fd_);
    ::close(tmp_fd_);
    throw;
  }
  // Signals are the event loop's (signalfd): these threads must never be the ones they hit.
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &previous);
  committer_ = std::thread([this] { commit_loop(); });
  publisher_ = std::thread([this] { publish_loop(); });
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
}

IntakeJournal::~IntakeJournal() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  work_.notify_all();
  publish_.notify_all();
  committer_.join();
  publisher_.join();
  for (Slot& slot : slots_) {
    ::unlink(slot.path.c_str());  // everything was published (a failed publish ends the process)
    ::close(slot.fd);
  }
  ::close(root_fd_);
  ::close(tmp_fd_);
}

void IntakeJournal::commit(relay::Spool::Writer& writer, relay::Stage stage) {
  Request request;
  request.id = writer.id();
  request.stage = stage;
  request.fd = writer.detach();
  std::unique_lock lock(mutex_);
  queue_.push_back(&request);
  work_.notify_one();
  done_.wait(lock, [&] { return request.done; });
  if (request.error) std::rethrow_exception(request.error);
}

bool IntakeJournal::publish_due(const Slot& slot) const {
  return std::chrono::steady_clock::now() >= slot.first_pending + options_.publish_interval ||
         slot.position >= options_.capacity / 4 * 3 || slot.pending.size() >= kMaxJournaled;
}

void IntakeJournal::commit_loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    Slot& slot = slots_[active_];
    if (!slot.pending.empty() && !handed_over_ && ((stopping_ && queue_.empty()) || publish_due(slot))) {
      handed_over_ = &slot;  // the publisher's now; appends go to the other file
      active_ ^= 1;
      publish_.notify_one();
      continue;
    }
    if (queue_.empty()) {
      if (stopping_ && slot.pending.empty()) break;
      if (slot.pending.empty() || stopping_ || handed_over_)
        work_.wait(lock);  // for requests, or for the publisher to be free
      else
        work_.wait_until(lock, slot.first_pending + options_.publish_interval);
      continue;
    }
    if (handed_over_ && slot.pending.size() >= kMaxJournaled) {
      work_.wait(lock);  // both files busy: hold the sessions back until the publisher catches up
      continue;
    }
    std::vector<Request*> batch;
    batch.swap(queue_);
    lock.unlock();
    append(slot, batch);
    lock.lock();
    for (Request* request : batch) request->done = true;
    done_.notify_all();
  }
  committer_done_ = true;
  publish_.notify_one();
}

void IntakeJournal::publish_loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    publish_.wait(lock, [this] { return handed_over_ || committer_done_; });
    if (!handed_over_) return;
    Slot& slot = *handed_over_;
    lock.unlock();
    publish(slot);
    lock.lock();
    handed_over_ = nullptr;
    work_.notify_one();
  }
}

void IntakeJournal::append(Slot& slot, std::vector<Request*>& batch) {
  std::string records;
  std::vector<std::pair<Request*, size_t>> appended;  // with each record's offset in records
  for (Request* request : batch) {
    try {
      size_t offset = records.size();
      journal::append_message(records, slot.next_seq, request->stage, request->id,
                              journal::read_whole(request->fd, spool_.path(relay::Stage::kTmp, request->id)));
      ++slot.next_seq;
      appended.emplace_back(request, offset);
    } catch (...) {
      request->error = std::current_exception();
      discard(request->id, request->fd);
    }
  }
  if (appended.empty()) return;
  try {
    journal::write_at(slot.fd, records, slot.position, slot.path);
  } catch (...) {
    // Clients hear 451/452 and send again: none of the batch may come back in a recovery.
    try {
      journal::write_at(slot.fd, std::string(records.size(), '\0'), slot.position, slot.path);
    } catch (const std::exception& e) {
      stop_for_recovery(std::string("unable to take back a failed journal write: ") + e.what());
    }
    if (::fdatasync(slot.fd) != 0) stop_for_recovery("unable to sync " + slot.path + ": " + std::strerror(errno));
    slot.next_seq -= appended.size();
    for (auto& [request, offset] : appended) {
      request->error = std::current_exception();
      discard(request->id, request->fd);
    }
    return;
  }
  // A write past the zeros grows the file: then its size must reach the disk too.
  bool grew = slot.position + records.size() > slot.file_size;
  if ((grew ? ::fsync(slot.fd) : ::fdatasync(slot.fd)) != 0)
    stop_for_recovery("unable to sync " + slot.path + ": " + std::strerror(errno));
  if (grew) slot.file_size = slot.position + records.size();
  if (slot.pending.empty()) slot.first_pending = std::chrono::steady_clock::now();
  for (size_t i = 0; i < appended.size(); ++i) {
    auto [request, offset] = appended[i];
    size_t end = i + 1 < appended.size() ? appended[i + 1].second : records.size();
    slot.pending.push_back({{request->id, request->stage}, request->fd, slot.position + offset, end - offset});
  }
  slot.position += records.size();
}

void IntakeJournal::publish(Slot& slot) {
  // syncfs: one commit makes every journaled file durable in tmp/, whatever their number.
  if (::syncfs(root_fd_) != 0) stop_for_recovery(std::string("unable to sync the spool's file system: ") + std::strerror(errno));
  restore_missing(slot);
  std::string record;
  journal::append_published(record, slot.next_seq, slot.next_seq - 1);
  try {
    journal::write_at(slot.fd, record, slot.position, slot.path);
  } catch (const std::exception& e) {
    stop_for_recovery(e.what());
  }
  if (::fdatasync(slot.fd) != 0) stop_for_recovery("unable to sync " + slot.path + ": " + std::strerror(errno));
  ++slot.next_seq;
  slot.position += record.size();

  std::vector<Journaled> batch;
  for (const Pending& pending : slot.pending) {
    batch.push_back(pending.entry);
    ::close(pending.fd);  // unlocked before it shows in its stage: claimers skip a locked file
  }
  try {
    if (!publish_from_tmp(spool_, tmp_fd_, batch, false).empty())
      stop_for_recovery("a journaled message vanished from tmp/ while it was published");
  } catch (const std::exception& e) {
    stop_for_recovery(e.what());
  }
  slot.pending.clear();
  slot.position = 0;  // every record is done with: start the file over
}

void IntakeJournal::restore_missing(Slot& slot) {
  // Something removed a file it should not have: the journal has the message.
  bool restored = false;
  for (const Pending& pending : slot.pending) {
    if (::faccessat(tmp_fd_, pending.entry.id.c_str(), F_OK, 0) == 0) continue;
    relay::log::warning("message " + pending.entry.id + " was removed from tmp/ before it was published; writing it again from the journal");
    std::string bytes(pending.record_size, '\0');
    if (::pread(slot.fd, bytes.data(), bytes.size(), static_cast<off_t>(pending.record_offset)) !=
        static_cast<ssize_t>(bytes.size()))
      stop_for_recovery("unable to read " + slot.path);
    journal::Chain chain = journal::read_chain(bytes);
    if (chain.records.size() != 1) stop_for_recovery("unable to read back the record of " + pending.entry.id);
    try {
      write_tmp_copy(tmp_fd_, pending.entry.id, chain.records.front().file);
    } catch (const std::exception& e) {
      stop_for_recovery(e.what());
    }
    restored = true;
  }
  if (restored && ::fsync(tmp_fd_) != 0) stop_for_recovery(std::string("unable to sync tmp/: ") + std::strerror(errno));
}

void IntakeJournal::discard(const std::string& id, int fd) {
  ::unlinkat(tmp_fd_, id.c_str(), 0);
  ::close(fd);
}

}  // namespace smtp_listen
