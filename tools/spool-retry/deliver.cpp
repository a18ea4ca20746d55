#include "deliver.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "relay/exit_codes.hpp"
#include "relay/log.hpp"
#include "relay/spawn.hpp"

extern char** environ;

namespace spoolretry {

int run_mx_deliver(const Options& options, std::optional<int64_t> fixed_now) {
  std::vector<std::string> args = {options.mx_deliver, "--spool", options.spool_dir};
  args.insert(args.end(), options.deliver_args.begin(), options.deliver_args.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  if (fixed_now) ::setenv("RELAY_NOW", ("@" + std::to_string(*fixed_now)).c_str(), 1);

  relay::DefaultSignalsSpawnAttr attr;
  // mx-deliver's per-recipient report goes to our stderr, as a log: our stdout carries only
  // spool-retry's own results (text or JSON lines) for the scripts that read them.
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_adddup2(&files, STDERR_FILENO, STDOUT_FILENO);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, options.mx_deliver.c_str(), &files, attr.get(), argv.data(), environ);
  posix_spawn_file_actions_destroy(&files);
  if (rc != 0) {
    relay::log::warning("unable to run " + options.mx_deliver + ": " + std::strerror(rc));
    return relay::kExitTemporary;
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      relay::log::warning("unable to wait for " + options.mx_deliver + ": " + std::strerror(errno));
      return relay::kExitTemporary;
    }
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  relay::log::warning(options.mx_deliver + " died by signal " + std::to_string(WTERMSIG(status)));
  return relay::kExitTemporary;
}

}  // namespace spoolretry
