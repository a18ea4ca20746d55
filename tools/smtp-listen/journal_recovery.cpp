#include "journal_recovery.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <set>

#include "journal_record.hpp"
#include "relay/envelope.hpp"
#include "relay/exit_codes.hpp"
#include "relay/log.hpp"

namespace smtp_listen {
namespace {

bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

void sync_directory(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || ::fsync(fd) != 0) {
    int err = errno;
    if (fd >= 0) ::close(fd);
    relay::fail_errno("unable to sync " + path, err);
  }
  ::close(fd);
}

std::string read_all(int fd, const std::string& path) {
  std::string bytes;
  char buffer[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) relay::fail_errno("unable to read " + path, errno);
    if (n == 0) return bytes;
    bytes.append(buffer, static_cast<size_t>(n));
  }
}

}  // namespace

RecoveryCount recover_journal(relay::Spool& spool, std::string_view journal) {
  std::vector<journal::Record> chain = journal::read_chain(journal);
  uint64_t published_up_to = 0;
  for (const journal::Record& record : chain)
    if (record.type == journal::RecordType::kPublished) published_up_to = record.published_up_to;

  RecoveryCount count;
  std::set<relay::Stage> touched;
  for (const journal::Record& record : chain) {
    if (record.type != journal::RecordType::kMessage) continue;
    std::string id(record.id);
    if (!relay::valid_id(id)) continue;
    std::string tmp_path = spool.path(relay::Stage::kTmp, id);
    if (record.seq <= published_up_to) {
      // Durable in tmp/ when the publish record was written; gone from there means renamed.
      if (!exists(tmp_path)) continue;
      if (::rename(tmp_path.c_str(), spool.path(record.stage, id).c_str()) != 0)
        relay::fail_errno("unable to move " + id + " into " + std::string(relay::to_string(record.stage)), errno);
      touched.insert(record.stage);
      ++count.renamed;
      continue;
    }
    // Never renamed (that waits for the publish record): tmp/ may hold a part of it, or nothing.
    if (spool.find(id)) continue;
    ::unlink(tmp_path.c_str());
    size_t body = relay::envelope_end(record.file);
    if (body == std::string_view::npos) {
      relay::log::warning("unable to recover message " + id + " from the intake journal: its envelope is cut short");
      continue;
    }
    relay::Envelope envelope = relay::parse_envelope(record.file.substr(0, body));
    spool.deposit(record.stage, std::move(envelope), record.file.substr(body));  // durable on return
    ++count.rewritten;
  }
  for (relay::Stage stage : touched) sync_directory(spool.path(stage, ""));
  return count;
}

void recover_journals(relay::Spool& spool, const std::string& dir) {
  DIR* listing = ::opendir(dir.c_str());
  if (!listing) relay::fail_errno("unable to read " + dir, errno);
  std::vector<std::string> names;
  while (dirent* entry = ::readdir(listing))
    if (entry->d_name[0] != '.') names.emplace_back(entry->d_name);
  ::closedir(listing);

  bool removed = false;
  for (const std::string& name : names) {
    std::string path = dir + "/" + name;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) continue;
    struct stat st {};
    // A live smtp-listen holds its journal locked; one removed meanwhile was recovered by another.
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0 || ::fstat(fd, &st) != 0 || st.st_nlink == 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      continue;
    }
    try {
      RecoveryCount count = recover_journal(spool, read_all(fd, path));
      if (count.renamed + count.rewritten > 0)
        relay::log::info("recovered " + std::to_string(count.renamed + count.rewritten) + " messages from " + path +
                         " (" + std::to_string(count.renamed) + " moved from tmp/, " + std::to_string(count.rewritten) +
                         " written again)");
      if (::unlink(path.c_str()) != 0) relay::fail_errno("unable to remove " + path, errno);
      removed = true;
    } catch (...) {
      ::close(fd);
      throw;
    }
    ::close(fd);
  }
  if (removed) sync_directory(dir);
}

}  // namespace smtp_listen
