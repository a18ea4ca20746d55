#include "follow_state.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>

#include "relay/cli.hpp"
#include "relay/exit_codes.hpp"

namespace bounce_parse {
namespace {

constexpr std::string_view kMagic = "bounce-parse-state 1";
constexpr size_t kMaxLine = 1024;

std::string directory_of(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

FollowState::FollowState(std::string path) : path_(std::move(path)) {
  std::string lock = path_ + ".lock";
  lock_fd_ = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd_ < 0) relay::fail_errno("unable to open lock file " + lock, errno);
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    ::close(lock_fd_);
    lock_fd_ = -1;
    if (err == EWOULDBLOCK) throw relay::Failure(relay::kExitTemporary, "unable to lock " + lock + ": another bounce-parse --follow is running");
    relay::fail_errno("unable to lock " + lock, err);
  }
  std::ifstream in(path_);
  if (!in) {
    if (errno != ENOENT) relay::fail_errno("unable to open state file " + path_, errno);
    return;
  }
  std::string line;
  if (!std::getline(in, line) || line != kMagic)
    throw relay::Failure(relay::kExitData, "unable to read state file " + path_ + ": it does not start with \"" + std::string(kMagic) + "\"");
  while (std::getline(in, line)) {
    if (line.size() > kMaxLine) throw relay::Failure(relay::kExitData, "unable to read state file " + path_ + ": line too long");
    if (!line.empty()) seen_.insert(line);
  }
  if (in.bad()) relay::fail_errno("unable to read state file " + path_, errno);
}

FollowState::~FollowState() {
  if (lock_fd_ >= 0) ::close(lock_fd_);  // closing releases the lock
}

std::string FollowState::unique_name(const std::string& file) {
  size_t slash = file.rfind('/');
  std::string name = slash == std::string::npos ? file : file.substr(slash + 1);
  size_t colon = name.find(':');
  if (colon != std::string::npos) name.resize(colon);
  return name;
}

bool FollowState::seen(const std::string& file) const { return seen_.count(unique_name(file)) != 0; }

void FollowState::mark(const std::string& file) { seen_.insert(unique_name(file)); }

void FollowState::save(const std::set<std::string>& present) {
  std::string text = std::string(kMagic) + "\n";
  for (const std::string& name : seen_)
    if (present.count(name)) text += name + "\n";
  std::string tmp = path_ + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) relay::fail_errno("unable to create " + tmp, errno);
  try {
    relay::write_all(fd, text, tmp.c_str());
  } catch (...) {
    ::close(fd);
    throw;
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) relay::fail_errno("unable to write " + tmp, errno);
  if (::rename(tmp.c_str(), path_.c_str()) != 0) relay::fail_errno("unable to rename " + tmp + " to " + path_, errno);
  int dir = ::open(directory_of(path_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

}  // namespace bounce_parse
