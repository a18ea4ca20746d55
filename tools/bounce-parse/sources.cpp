#include "sources.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "relay/exit_codes.hpp"

namespace bounce_parse {
namespace {

constexpr size_t kMaxStream = size_t{1} << 30;  // a pipe is held in memory; a file is mapped
constexpr size_t kReadBelow = size_t{1} << 18;   // smaller files are read, not mapped

bool is_mbox(std::string_view bytes) { return bytes.starts_with("From "); }

std::string_view limited(std::string_view message, const ReadLimits& limits) {
  return message.substr(0, std::min(message.size(), limits.max_message));
}

bool is_directory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// All of fd (a pipe or device) into text, at most kMaxStream bytes.
void read_stream(int fd, const std::string& name, std::string& text) {
  char buffer[65536];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) relay::fail_errno("unable to read " + name, errno);
    if (n == 0) return;
    text.append(buffer, static_cast<size_t>(n));
    if (text.size() > kMaxStream)
      throw relay::Failure(relay::kExitData, "unable to read " + name + ": more than 1 GiB (give a large mbox as a file)");
  }
}

// A file's bytes: a regular file mapped read-only (nothing copied) and unmapped when it goes,
// or read when it is small; a pipe or device (/dev/stdin, <(command)) read into memory, at most 1 GiB.
class MappedFile {
 public:
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  std::string_view bytes() const {
    return data_ ? std::string_view(static_cast<const char*>(data_), size_) : std::string_view(read_);
  }

 private:
  void* data_ = nullptr;
  size_t size_ = 0;
  std::string read_;
};

MappedFile::MappedFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) relay::fail_errno("unable to open " + path, errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    relay::fail_errno("unable to stat " + path, err);
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    throw relay::Failure(relay::kExitData, "unable to read " + path + ": a directory");
  }
  // A bounce is mostly a few KiB: one read costs less than mapping, faulting in and unmapping.
  if (!S_ISREG(st.st_mode) || static_cast<size_t>(st.st_size) <= kReadBelow) {
    try {
      read_stream(fd, path, read_);
    } catch (...) {
      ::close(fd);
      throw;
    }
    ::close(fd);
    return;
  }
  size_ = static_cast<size_t>(st.st_size);
  data_ = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
  if (data_ == MAP_FAILED) {
    int err = errno;
    data_ = nullptr;
    ::close(fd);
    relay::fail_errno("unable to map " + path, err);
  }
  ::close(fd);
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(data_, size_);
}

}  // namespace

void split_mbox(std::string_view mbox, const std::string& name, const ReadLimits& limits, const MessageSink& sink) {
  size_t number = 0;
  size_t pos = 0;
  while (pos < mbox.size()) {
    size_t body = mbox.find('\n', pos);  // the "From " line itself is no part of the message
    body = body == std::string_view::npos ? mbox.size() : body + 1;
    size_t next = mbox.find("\nFrom ", body);
    next = next == std::string_view::npos ? mbox.size() : next + 1;  // the separator follows the line end
    sink(name + "#" + std::to_string(++number), limited(mbox.substr(body, next - body), limits));
    pos = next;
  }
}

void read_stdin(const ReadLimits& limits, const MessageSink& sink) {
  std::string message;
  read_stream(STDIN_FILENO, "standard input", message);
  if (is_mbox(message))
    split_mbox(message, "-", limits, sink);
  else
    sink("-", limited(message, limits));
}

bool is_maildir(const std::string& dir) { return is_directory(dir + "/cur") || is_directory(dir + "/new"); }

std::vector<std::string> maildir_files(const std::string& dir) {
  std::vector<std::string> files;
  for (const char* sub : {"new", "cur"}) {
    std::string path = dir + "/" + sub;
    DIR* d = ::opendir(path.c_str());
    if (!d) {
      if (errno == ENOENT) continue;
      relay::fail_errno("unable to open directory " + path, errno);
    }
    std::vector<std::string> names;
    while (dirent* entry = ::readdir(d))
      if (entry->d_name[0] != '.' && entry->d_type != DT_DIR) names.emplace_back(entry->d_name);
    ::closedir(d);
    std::sort(names.begin(), names.end());
    for (const auto& n : names) files.push_back(path + "/" + n);
  }
  return files;
}

bool read_maildir_file(const std::string& file, const ReadLimits& limits, const MessageSink& sink) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0 && errno == ENOENT) return false;
  MappedFile mapped(file);
  sink(file, limited(mapped.bytes(), limits));
  return true;
}

void read_path(const std::string& path, const ReadLimits& limits, const MessageSink& sink) {
  if (path == "-") return read_stdin(limits, sink);
  if (is_directory(path)) {
    if (!is_maildir(path))
      throw relay::Failure(relay::kExitData, "unable to read " + path + ": a directory that is no Maildir (no cur/ or new/)");
    for (const std::string& file : maildir_files(path)) read_maildir_file(file, limits, sink);
    return;
  }
  MappedFile mapped(path);
  if (is_mbox(mapped.bytes()))
    split_mbox(mapped.bytes(), path, limits, sink);
  else
    sink(path, limited(mapped.bytes(), limits));
}

}  // namespace bounce_parse
