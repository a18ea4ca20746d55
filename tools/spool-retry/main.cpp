// spool-retry: due deferred mail back to outgoing/, expiry after the queue lifetime, DSNs.
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <string>

#include "deliver.hpp"
#include "options.hpp"
#include "relay/cli.hpp"
#include "relay/exit_codes.hpp"
#include "relay/headers.hpp"
#include "relay/spool.hpp"
#include "retry_pass.hpp"

namespace {

int64_t duration(const std::string& text, const char* option) {
  auto d = relay::parse_duration(text);
  if (!d) throw relay::Failure(relay::kExitUsage, std::string("unable to parse ") + option + " '" + text +
                                                      "': expected a duration such as 300, 300s, 5m, 4h, 5d");
  return *d;
}

// mx-deliver installed beside this program, else the one on PATH.
std::string default_mx_deliver() {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    auto beside = self.parent_path() / "mx-deliver";
    if (::access(beside.c_str(), X_OK) == 0) return beside.string();
  }
  return "mx-deliver";
}

// Sleeps up to seconds; true when SIGTERM, SIGINT or SIGHUP asked the loop to stop.
bool stop_requested_within(int64_t seconds) {
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&set, s);
  timespec timeout{static_cast<time_t>(seconds), 0};
  for (;;) {
    int sig = sigtimedwait(&set, nullptr, &timeout);
    if (sig > 0) return true;
    if (errno == EAGAIN) return false;
    if (errno != EINTR) relay::fail_errno("unable to wait for the next pass", errno);
  }
}

}  // namespace

int main(int argc, char** argv) {
  relay::Tool tool("spool-retry", "Move due deferred mail back to outgoing/, expire what is too old, send DSNs.");
  tool.add_json();
  tool.add_now();
  spoolretry::Options options;
  std::string min_backoff = "300s", max_backoff = "4000s", max_age = "5d", dsn_max_age = "2d";
  std::string delay_warning = "4h", lease = "10m", interval = "60s";
  bool loop = false, deliver = false;
  int notify_fd = -1;
  CLI::App& app = tool.app();
  app.add_option("--spool", options.spool_dir, "spool directory")->required();
  app.add_option("--min-backoff", min_backoff, "shortest wait before a retry")->capture_default_str();
  app.add_option("--max-backoff", max_backoff, "longest wait before a retry (a reply naming a longer one is honoured)")
      ->capture_default_str();
  app.add_option("--max-age", max_age, "queue lifetime: older mail fails with 4.4.7 and a DSN")->capture_default_str();
  app.add_option("--dsn-max-age", dsn_max_age, "queue lifetime of mail from the null sender (DSNs)")
      ->capture_default_str();
  app.add_option("--delay-warning", delay_warning, "send one delay DSN after this long (0: never)")
      ->capture_default_str();
  app.add_option("--dsn-return-limit", options.dsn_return_limit,
                 "bytes of the original message a DSN returns in full; larger ones only their headers")
      ->capture_default_str();
  app.add_option("--hostname", options.hostname, "Reporting-MTA name of DSNs (default: this host's name)");
  app.add_option("--lease", lease, "put back active/ entries left unlocked this long")->capture_default_str();
  app.add_flag("--dry-run", options.dry_run, "print what would be done and when each message is due; change nothing");
  app.add_flag("--full-scan", options.full_scan, "read every deferred file's time with stat, ignoring the index");
  app.add_flag("--loop", loop, "run a pass every --interval until SIGTERM (for systemd)");
  app.add_option("--interval", interval, "time between passes with --loop")->capture_default_str();
  app.add_option("--notify-fd", notify_fd, "write a newline to this descriptor after the first pass, then close it");
  app.add_flag("--deliver", deliver, "run mx-deliver over the spool after a pass that moved mail");
  app.add_option("--mx-deliver", options.mx_deliver, "the mx-deliver program (default: beside spool-retry, else PATH)");
  app.add_option("deliver-args", options.deliver_args, "after --: more arguments for mx-deliver");

  return tool.run(argc, argv, [&] {
    options.policy.min_backoff = duration(min_backoff, "--min-backoff");
    options.policy.max_backoff = duration(max_backoff, "--max-backoff");
    options.max_age = duration(max_age, "--max-age");
    options.dsn_max_age = duration(dsn_max_age, "--dsn-max-age");
    options.delay_warning = duration(delay_warning, "--delay-warning");
    options.lease = duration(lease, "--lease");
    int64_t every = duration(interval, "--interval");
    options.json = tool.json();
    if (options.policy.min_backoff <= 0 || options.policy.max_backoff < options.policy.min_backoff)
      throw relay::Failure(relay::kExitUsage, "unable to use the backoff: need 0 < --min-backoff <= --max-backoff");
    if (options.max_age <= 0 || options.dsn_max_age <= 0 || every <= 0)
      throw relay::Failure(relay::kExitUsage, "unable to use the times: --max-age, --dsn-max-age and --interval must be > 0");
    if (!deliver && (!options.mx_deliver.empty() || !options.deliver_args.empty()))
      throw relay::Failure(relay::kExitUsage, "unable to use --mx-deliver or mx-deliver arguments without --deliver");
    if (deliver && options.mx_deliver.empty()) options.mx_deliver = default_mx_deliver();
    if (options.hostname.empty()) options.hostname = relay::local_hostname();
    if (loop) {
      sigset_t set;
      sigemptyset(&set);
      for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&set, s);
      sigprocmask(SIG_BLOCK, &set, nullptr);
    }

    relay::Spool spool(options.spool_dir);
    for (bool first = true;; first = false) {
      relay::Clock clock = tool.clock();
      int64_t now = clock.seconds();
      spoolretry::Reporter reporter(options.json, options.dry_run, now);
      spoolretry::RetryPass pass(spool, options, reporter);
      spoolretry::Summary summary = pass.run(now);
      int code = summary.errors > 0 ? relay::kExitTemporary : relay::kExitOk;
      if (deliver && !options.dry_run && summary.moved > 0) {
        std::fflush(stdout);
        int delivered = spoolretry::run_mx_deliver(options, clock.fixed() ? std::optional<int64_t>(now) : std::nullopt);
        // mx-deliver's 75 means some mail was deferred again: the normal course of things.
        if (delivered != relay::kExitOk && delivered != relay::kExitTemporary) code = relay::kExitTemporary;
      }
      if (std::fflush(stdout) != 0) relay::fail_errno("unable to write standard output", errno);
      if (first && notify_fd >= 0) {
        relay::write_all(notify_fd, "\n", "the readiness descriptor");
        ::close(notify_fd);
      }
      if (!loop) return code;
      if (stop_requested_within(every)) return static_cast<int>(relay::kExitOk);
    }
  });
}
