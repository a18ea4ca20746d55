#include "child.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "relay/exit_codes.hpp"
#include "relay/log.hpp"
#include "relay/spawn.hpp"

namespace relay::spoolrun {
namespace {

constexpr size_t kChunk = 65536;
constexpr size_t kMaxErrorLine = 300;

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

void make_pipe(int fds[2]) {
  if (::pipe2(fds, O_CLOEXEC) != 0) fail_errno("unable to create a pipe for the filter", errno);
}

int timeout_ms(Deadline deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  return left.count() <= 0 ? 0 : static_cast<int>(std::min<int64_t>(left.count(), 1 << 30));
}

}  // namespace

Child::Child(const std::vector<std::string>& argv, const std::vector<std::string>& env, bool capture_stderr) {
  int in_pipe[2], out_pipe[2], err_pipe[2] = {-1, -1};
  make_pipe(in_pipe);
  make_pipe(out_pipe);
  if (capture_stderr) make_pipe(err_pipe);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in_pipe[0], STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], STDOUT_FILENO);
  if (capture_stderr) posix_spawn_file_actions_adddup2(&actions, err_pipe[1], STDERR_FILENO);
  relay::DefaultSignalsSpawnAttr attr;

  std::vector<char*> args, envp;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  int rc = posix_spawnp(&pid_, args[0], &actions, attr.get(), args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  if (capture_stderr) ::close(err_pipe[1]);
  in_ = in_pipe[1];
  out_ = out_pipe[0];
  err_ = err_pipe[0];
  if (rc != 0) {
    close_fd(in_), close_fd(out_), close_fd(err_);
    reaped_ = true;
    int code = rc == ENOENT || rc == EACCES || rc == ENOEXEC ? kExitConfig : kExitTemporary;
    throw Failure(code, "unable to start filter " + argv[0] + ": " + std::strerror(rc));
  }
  for (int fd : {in_, out_, err_})
    if (fd >= 0) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  pidfd_ = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
}

Child::~Child() {
  kill();
  close_fd(in_), close_fd(out_), close_fd(err_), close_fd(pidfd_);
}

void Child::close_input() { close_fd(in_); }

size_t Child::widen_pipes(int bytes) {
  // Best effort: a refused size leaves the default pipe, which only holds fewer bytes in flight.
  size_t smallest = static_cast<size_t>(bytes);
  for (int fd : {in_, out_}) {
    if (fd < 0) continue;
    ::fcntl(fd, F_SETPIPE_SZ, bytes);
    int got = ::fcntl(fd, F_GETPIPE_SZ);
    smallest = std::min(smallest, got > 0 ? static_cast<size_t>(got) : size_t{4096});
  }
  return smallest;
}

void Child::kill() {
  if (reaped_) return;
  ::kill(pid_, SIGKILL);
  int status;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  reaped_ = true;
}

std::optional<int> Child::wait(Deadline deadline) {
  if (reaped_) return std::nullopt;
  if (pidfd_ >= 0) {
    pollfd p{pidfd_, POLLIN, 0};
    int n;
    while ((n = ::poll(&p, 1, timeout_ms(deadline))) < 0 && errno == EINTR) {
    }
    if (n == 0) return std::nullopt;
  }
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0) {
    if (errno != EINTR) fail_errno("unable to wait for the filter", errno);
  }
  reaped_ = true;
  return status;
}

void Child::read_error() {
  char buf[kChunk];
  ssize_t n = ::read(err_, buf, sizeof buf);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  if (n <= 0) {
    close_fd(err_);
    if (!error_tail_.empty()) last_error_line_ = log::sanitize(error_tail_.substr(0, kMaxErrorLine));
    return;
  }
  // The filter's diagnostics are the operator's to read: pass them on as they come.
  ssize_t ignored = ::write(STDERR_FILENO, buf, static_cast<size_t>(n));
  (void)ignored;
  error_tail_.append(buf, static_cast<size_t>(n));
  size_t lf;
  while ((lf = error_tail_.find('\n')) != std::string::npos) {
    std::string line = error_tail_.substr(0, lf);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) last_error_line_ = log::sanitize(line.substr(0, kMaxErrorLine));
    error_tail_.erase(0, lf + 1);
  }
  if (error_tail_.size() > 4096) error_tail_.erase(0, error_tail_.size() - 4096);
}

void Child::write_input(const Exchange& exchange, size_t& written) {
  size_t size = std::min(kChunk, exchange.input.size() - written);
  ssize_t n = ::write(in_, exchange.input.data() + written, size);
  if (n > 0) written += static_cast<size_t>(n);
  // A filter may stop reading early (head(1)): its output still counts.
  if (n < 0 && errno != EAGAIN && errno != EINTR) close_input();
  if (written == exchange.input.size() && exchange.close_input_after) close_input();
}

Child::Pumped Child::pump(const Exchange& exchange, std::string& output, Deadline deadline) {
  size_t written = 0;
  if (exchange.input.empty() && exchange.close_input_after) close_input();
  // Most requests fit the room left in the pipe: written at once, without a poll first.
  if (in_ >= 0 && !exchange.input.empty()) write_input(exchange, written);
  for (;;) {
    if (exchange.until_written) {
      if (written == exchange.input.size()) return Pumped::kDone;
      if (in_ < 0) return Pumped::kError;
    }
    if (exchange.complete && exchange.complete(output))
      // An answer before the whole request was taken would desynchronise the framing.
      return written == exchange.input.size() ? Pumped::kDone : Pumped::kError;
    if (out_ < 0 && !exchange.until_written) {
      if (exchange.complete) return Pumped::kOutputEnded;
      if (err_ < 0) return Pumped::kDone;
    }
    pollfd fds[3];
    nfds_t count = 0;
    int in_slot = -1, out_slot = -1, err_slot = -1;
    if (in_ >= 0 && written < exchange.input.size()) in_slot = static_cast<int>(count), fds[count++] = {in_, POLLOUT, 0};
    if (out_ >= 0) out_slot = static_cast<int>(count), fds[count++] = {out_, POLLIN, 0};
    if (err_ >= 0) err_slot = static_cast<int>(count), fds[count++] = {err_, POLLIN, 0};
    int ready = ::poll(fds, count, timeout_ms(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return Pumped::kError;
    if (ready == 0) return Pumped::kTimeout;
    if (in_slot >= 0 && fds[in_slot].revents != 0) write_input(exchange, written);
    if (out_slot >= 0 && fds[out_slot].revents != 0) {
      // Through a buffer on the stack: growing output by a whole chunk first would zero it.
      char buf[kChunk];
      ssize_t n = ::read(out_, buf, sizeof buf);
      if (n > 0) output.append(buf, static_cast<size_t>(n));
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) close_fd(out_);
      if (output.size() > exchange.max_output) return Pumped::kTooLarge;
    }
    if (err_slot >= 0 && fds[err_slot].revents != 0) read_error();
  }
}

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exited with " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "ended with status " + std::to_string(status);
}

}  // namespace relay::spoolrun
