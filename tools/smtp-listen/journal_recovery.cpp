#include "journal_recovery.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <set>

#include "journal_io.hpp"
#include "journal_record.hpp"
#include "relay/exit_codes.hpp"
#include "relay/log.hpp"

namespace smtp_listen {
std::vector<std::string> publish_from_tmp(const relay::Spool& spool, int tmp_fd, const std::vector<Journaled>& batch,
                                          bool after_crash) {
  // Links rather than renames: without a file-system journal a rename may reach the disk
  // half done, and the tmp/ name is the proof that a message was not yet published.
  std::vector<std::string> missing;
  std::vector<const Journaled*> linked;
  std::set<relay::Stage> stages;
  for (const Journaled& entry : batch) {
    if (::faccessat(tmp_fd, entry.id.c_str(), F_OK, 0) != 0) {
      if (errno != ENOENT) relay::fail_errno("unable to find " + spool.path(relay::Stage::kTmp, entry.id), errno);
      missing.push_back(entry.id);
      continue;
    }
    linked.push_back(&entry);
    if (after_crash && spool.find(entry.id)) continue;
    std::string target = spool.path(entry.stage, entry.id);
    if (::linkat(tmp_fd, entry.id.c_str(), AT_FDCWD, target.c_str(), 0) != 0 && errno != EEXIST)
      relay::fail_errno("unable to move " + entry.id + " into " + std::string(relay::to_string(entry.stage)), errno);
    stages.insert(entry.stage);
  }
  for (relay::Stage stage : stages) journal::sync_directory(spool.path(stage, ""));
  for (const Journaled* entry : linked)
    if (::unlinkat(tmp_fd, entry->id.c_str(), 0) != 0 && errno != ENOENT)
      relay::fail_errno("unable to remove " + spool.path(relay::Stage::kTmp, entry->id), errno);
  if (!linked.empty()) journal::sync_directory(spool.path(relay::Stage::kTmp, ""));
  return missing;
}

void write_tmp_copy(int tmp_fd, const std::string& id, std::string_view file) {
  int fd = ::openat(tmp_fd, id.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0640);
  if (fd < 0) relay::fail_errno("unable to create tmp/" + id, errno);
  try {
    journal::write_at(fd, file, 0, "tmp/" + id);
    journal::sync_file(fd, "tmp/" + id);
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
}

RecoveryCount recover_journal(relay::Spool& spool, int journal_fd, std::string_view journal) {
  journal::Chain chain = journal::read_chain(journal);
  uint64_t published_up_to = 0;
  uint64_t last_message = 0;
  bool any_message = false;
  for (const journal::Record& record : chain.records) {
    if (record.type == journal::RecordType::kPublished) published_up_to = record.published_up_to;
    if (record.type == journal::RecordType::kMessage) {
      last_message = record.seq;
      any_message = true;
    }
  }
  if (!any_message) return {};
  int tmp_fd = ::open(spool.path(relay::Stage::kTmp, "").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (tmp_fd < 0) relay::fail_errno("unable to open " + spool.path(relay::Stage::kTmp, ""), errno);
  RecoveryCount count;
  try {
    std::vector<Journaled> batch;
    bool unpublished = false;
    for (const journal::Record& record : chain.records) {
      if (record.type != journal::RecordType::kMessage) continue;
      std::string id(record.id);
      batch.push_back({id, record.stage});
      if (record.seq <= published_up_to) continue;
      unpublished = true;
      // Never published (that waits for the published record): tmp/ holds a part of it or nothing.
      if (spool.find(id)) continue;
      write_tmp_copy(tmp_fd, id, record.file);
      ++count.rewritten;
    }
    if (unpublished) {
      journal::sync_directory(spool.path(relay::Stage::kTmp, ""));
      std::string record;
      journal::append_published(record, chain.records.back().seq + 1, last_message);
      journal::write_at(journal_fd, record, chain.end, "the journal");
      if (::fdatasync(journal_fd) != 0) relay::fail_errno("unable to sync the journal", errno);
    }
    std::vector<std::string> missing = publish_from_tmp(spool, tmp_fd, batch, true);
    count.published = static_cast<int>(batch.size() - missing.size()) - count.rewritten;
  } catch (...) {
    ::close(tmp_fd);
    throw;
  }
  ::close(tmp_fd);
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
    int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) continue;
    struct stat st {};
    // A live smtp-listen holds its journal locked; one removed meanwhile was recovered by another.
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0 || ::fstat(fd, &st) != 0 || st.st_nlink == 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      continue;
    }
    try {
      RecoveryCount count = recover_journal(spool, fd, journal::read_whole(fd, path));
      if (count.published + count.rewritten > 0)
        relay::log::info("recovered " + std::to_string(count.published + count.rewritten) + " messages from " + path +
                         " (" + std::to_string(count.published) + " moved from tmp/, " +
                         std::to_string(count.rewritten) + " written again)");
      if (::unlink(path.c_str()) != 0) relay::fail_errno("unable to remove " + path, errno);
      removed = true;
    } catch (...) {
      ::close(fd);
      throw;
    }
    ::close(fd);
  }
  if (removed) journal::sync_directory(dir);
}

}  // namespace smtp_listen
