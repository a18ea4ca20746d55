#include "intake_journal.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "journal_record.hpp"
#include "journal_recovery.hpp"
#include "relay/exit_codes.hpp"
#include "relay/log.hpp"

namespace smtp_listen {
namespace {

// Files kept open between publishes; more than this publishes early.
constexpr size_t kMaxJournaled = 1024;

[[noreturn]] void fail_io(const std::string& what, int err) {
  if (relay::is_space_error(err)) throw relay::SpoolFull(what + ": " + std::strerror(err));
  relay::fail_errno(what, err);
}

int open_directory(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) relay::fail_errno("unable to open " + path, errno);
  return fd;
}

void write_at(int fd, std::string_view bytes, uint64_t offset, const std::string& what) {
  while (!bytes.empty()) {
    ssize_t n = ::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail_io("unable to write " + what, errno);
    bytes.remove_prefix(static_cast<size_t>(n));
    offset += static_cast<uint64_t>(n);
  }
}

// The writer's descriptor is write-only: the file is opened again to be read.
std::string read_tmp_file(int tmp_fd, const std::string& id, const std::string& what) {
  int fd = ::openat(tmp_fd, id.c_str(), O_RDONLY | O_CLOEXEC);
  struct stat st {};
  if (fd < 0 || ::fstat(fd, &st) != 0) {
    int err = errno;
    if (fd >= 0) ::close(fd);
    relay::fail_errno("unable to read " + what, err);
  }
  std::string bytes(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::pread(fd, bytes.data() + done, bytes.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = n == 0 ? EIO : errno;
      ::close(fd);
      relay::fail_errno("unable to read " + what, err);
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  return bytes;
}

// A journal of this process's own, locked before anyone can mistake it for a dead one's.
int create_journal(const std::string& path, size_t capacity) {
  for (;;) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) relay::fail_errno("unable to create " + path, errno);
    struct stat st {};
    if (::flock(fd, LOCK_EX) != 0 || ::fstat(fd, &st) != 0) relay::fail_errno("unable to lock " + path, errno);
    if (st.st_nlink == 0) {  // another starting instance took it for a dead one's
      ::close(fd);
      continue;
    }
    try {
      // Written zeros, not fallocate: writing over unwritten extents would change metadata again.
      std::string zeros(1u << 20, '\0');
      for (size_t offset = 0; offset < capacity; offset += zeros.size()) write_at(fd, zeros, offset, path);
      if (::fsync(fd) != 0) fail_io("unable to sync " + path, errno);
    } catch (...) {
      ::unlink(path.c_str());
      ::close(fd);
      throw;
    }
    return fd;
  }
}

}  // namespace

IntakeJournal::IntakeJournal(relay::Spool& spool, JournalOptions options)
    : spool_(spool), options_(options) {
  std::string dir = spool.root() + "/journal";
  if (::mkdir(dir.c_str(), 0770) != 0 && errno != EEXIST) relay::fail_errno("unable to create " + dir, errno);
  recover_journals(spool, dir);
  for (int i = 0; i < 2; ++i) {
    slots_[i].path = dir + "/smtp-listen." + std::to_string(::getpid()) + "." + std::to_string(i);
    slots_[i].fd = create_journal(slots_[i].path, options_.capacity);
  }
  root_fd_ = open_directory(spool.root());
  tmp_fd_ = open_directory(spool.path(relay::Stage::kTmp, ""));
  int dir_fd = open_directory(dir);
  int synced = ::fsync(dir_fd);
  ::close(dir_fd);
  if (synced != 0) fail_io("unable to sync " + dir, errno);
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
    if (slot.settled()) {
      ::unlink(slot.path.c_str());
    } else {
      relay::log::warning("unable to publish " + std::to_string(slot.journaled.size()) + " journaled messages; " +
                          slot.path + " is kept and the next start recovers them");
      for (const Journaled& entry : slot.journaled) ::close(entry.fd);
    }
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
  return std::chrono::steady_clock::now() >= slot.first_journaled + options_.publish_interval ||
         slot.position >= options_.capacity / 4 * 3 || slot.journaled.size() >= kMaxJournaled;
}

void IntakeJournal::commit_loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    Slot& slot = slots_[active_];
    if (gave_up_) break;
    if (!slot.journaled.empty() && !handed_over_ && ((stopping_ && queue_.empty()) || publish_due(slot))) {
      handed_over_ = &slot;  // the publisher's now; appends go to the other file
      active_ ^= 1;
      publish_.notify_one();
      continue;
    }
    if (queue_.empty()) {
      if (stopping_ && slot.journaled.empty()) break;
      if (slot.journaled.empty() || stopping_ || handed_over_)
        work_.wait(lock);  // for requests, or for the publisher to be free
      else
        work_.wait_until(lock, slot.first_journaled + options_.publish_interval);
      continue;
    }
    if (healthy_ && handed_over_ && slot.journaled.size() >= kMaxJournaled) {
      work_.wait(lock);  // both files busy: hold the sessions back until the publisher catches up
      continue;
    }
    std::vector<Request*> batch;
    batch.swap(queue_);
    bool healthy = healthy_;
    lock.unlock();
    append(slot, batch, healthy);
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
    bool published = publish(slot);
    lock.lock();
    if (published && !healthy_) relay::log::info("publishing into the spool works again");
    healthy_ = published;
    if (published || stopping_) {
      gave_up_ = !published;
      handed_over_ = nullptr;
      work_.notify_one();
      if (gave_up_) return;
      continue;
    }
    publish_.wait_for(lock, options_.publish_interval, [this] { return stopping_; });
  }
}

void IntakeJournal::append(Slot& slot, std::vector<Request*>& batch, bool healthy) {
  if (!healthy) {
    // Acknowledged mail must reach its stage: while it cannot, no more is taken on.
    for (Request* request : batch) {
      request->error = std::make_exception_ptr(
          relay::Failure(relay::kExitTemporary, "unable to queue " + request->id + ": publishing into the spool fails"));
      discard(request->id, request->fd);
    }
    return;
  }
  std::string records;
  std::vector<Request*> appended;
  for (Request* request : batch) {
    try {
      journal::append_message(records, slot.next_seq, request->stage, request->id,
                              read_tmp_file(tmp_fd_, request->id, spool_.path(relay::Stage::kTmp, request->id)));
      ++slot.next_seq;
      appended.push_back(request);
    } catch (...) {
      request->error = std::current_exception();
      discard(request->id, request->fd);
    }
  }
  if (appended.empty()) return;
  try {
    write_at(slot.fd, records, slot.position, slot.path);
    if (::fdatasync(slot.fd) != 0) fail_io("unable to sync " + slot.path, errno);
  } catch (...) {
    // Clients hear 451/452 and send again: spoil the batch's first header, or a recovery
    // could bring back what they were told had failed.
    const char zeros[32] = {};
    if (::pwrite(slot.fd, zeros, sizeof zeros, static_cast<off_t>(slot.position)) == sizeof zeros) ::fdatasync(slot.fd);
    slot.next_seq -= appended.size();
    for (Request* request : appended) {
      request->error = std::current_exception();
      discard(request->id, request->fd);
    }
    return;
  }
  if (slot.journaled.empty()) slot.first_journaled = std::chrono::steady_clock::now();
  slot.position += records.size();
  for (Request* request : appended) slot.journaled.push_back({request->id, request->stage, request->fd});
}

bool IntakeJournal::publish(Slot& slot) {
  auto failed = [this](const std::string& what, int err) {
    if (healthy_) relay::log::warning(what + ": " + std::strerror(err) + "; no mail is taken on until it works");
    return false;
  };
  // syncfs: one commit makes every journaled file durable in tmp/, whatever their number.
  if (::syncfs(root_fd_) != 0) return failed("unable to sync the spool's file system", errno);
  std::string record;
  journal::append_published(record, slot.next_seq, slot.next_seq - 1);
  try {
    write_at(slot.fd, record, slot.position, slot.path);
  } catch (const std::exception& e) {
    return failed(e.what(), EIO);
  }
  if (::fdatasync(slot.fd) != 0) return failed("unable to sync " + slot.path, errno);
  ++slot.next_seq;
  slot.position += record.size();

  std::vector<Journaled> left;
  for (Journaled& entry : slot.journaled) {
    // The target by path, not by a descriptor kept open: a stage directory made again is found.
    std::string target = spool_.path(entry.stage, entry.id);
    if (::renameat(tmp_fd_, entry.id.c_str(), AT_FDCWD, target.c_str()) != 0) {
      int err = errno;
      if (::faccessat(tmp_fd_, entry.id.c_str(), F_OK, 0) == 0) {  // still there: the stage is the trouble
        if (left.empty()) failed("unable to move " + entry.id + " into " + std::string(relay::to_string(entry.stage)), err);
        left.push_back(entry);
        continue;
      }
      relay::log::warning("message " + entry.id + " was removed from tmp/ before it was published");
    }
    slot.unsynced.insert(entry.stage);
    ::close(entry.fd);
  }
  slot.journaled = std::move(left);
  // Until the renames are durable the journal keeps what a recovery needs: no start over.
  for (auto stage = slot.unsynced.begin(); stage != slot.unsynced.end(); stage = slot.unsynced.erase(stage)) {
    std::string dir = spool_.path(*stage, "");
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int err = fd < 0 || ::fsync(fd) != 0 ? errno : 0;
    if (fd >= 0) ::close(fd);
    if (err != 0) return failed("unable to sync " + dir, err);
  }
  if (!slot.journaled.empty()) return false;
  slot.position = 0;  // every record is done with: start the file over
  return true;
}

void IntakeJournal::discard(const std::string& id, int fd) {
  ::unlinkat(tmp_fd_, id.c_str(), 0);
  ::close(fd);
}

}  // namespace smtp_listen
