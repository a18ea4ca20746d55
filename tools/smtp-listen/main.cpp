// smtp-listen: the SMTP submission server of the relay toolkit (smtp-listen(8)).
#include "config.hpp"
#include "relay/cli.hpp"
#include "startup.hpp"

int main(int argc, char** argv) {
  relay::Tool tool("smtp-listen", "SMTP submission server: accepts mail into the spool's incoming/ stage.");
  tool.add_now();
  smtp_listen::Config config;
  smtp_listen::Limits& limits = config.limits;
  CLI::App& app = tool.app();
  app.add_option("--spool", config.spool_dir, "spool directory")->required();
  app.add_option("--listen", config.listen, "listen on ADDR:PORT (repeatable; [::1]:25, *:25 for all)");
  app.add_option("--listen-tls", config.listen_tls, "listen on ADDR:PORT with implicit TLS, as for port 465 (repeatable)");
  app.add_flag("--stdio", config.stdio, "serve one session on stdin/stdout (inetd, tcpserver)");
  app.add_flag("--implicit-tls", config.stdio_tls, "with --stdio: the session starts with a TLS handshake");
  app.add_option("--notify-fd", config.notify_fd, "write a newline to FD and close it once listening");
  app.add_option("--hostname", config.hostname, "name in the greeting and Received fields (default: this host's)");
  app.add_option("--allow-ip", config.allow_ip, "CIDR block that may relay without AUTH (repeatable)");
  app.add_option("--auth-file", config.auth_file, "user:crypt-hash file for AUTH PLAIN and LOGIN (mode 600)");
  app.add_flag("--allow-plaintext-auth", config.allow_plaintext_auth, "offer AUTH without TLS too");
  app.add_option("--tls-cert", config.tls.cert_file, "TLS certificate chain (PEM)");
  app.add_option("--tls-key", config.tls.key_file, "TLS private key (PEM, mode 600)");
  app.add_option("--tls-min-version", config.tls.min_version, "oldest TLS version accepted")
      ->check(CLI::IsMember({"TLSv1.2", "TLSv1.3"}))
      ->capture_default_str();
  app.add_option("--tls-ciphers", config.tls.ciphers, "OpenSSL cipher list for TLS 1.2");
  app.add_option("--tls-ciphersuites", config.tls.ciphersuites, "OpenSSL ciphersuites for TLS 1.3");
  std::string bare_newline = "normalize";
  app.add_option("--bare-newline", bare_newline, "bare LF in message data: normalize (to CRLF) or reject")
      ->check(CLI::IsMember({"normalize", "reject"}))
      ->capture_default_str();
  bool no_add_headers = false;
  app.add_flag("--no-add-headers", no_add_headers,
               "do not add Date and Message-ID to authenticated submissions that lack them");
  app.add_option("--policy", config.policy_file, "relay-policy.conf(5) checked at MAIL, RCPT and end of data");
  app.add_option("--user", config.user, "drop to this user after binding the listeners");
  app.add_option("--sync-threads", config.sync_threads, "threads that fsync the spool (password checks have two of their own)")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  bool no_journal = false;
  app.add_flag("--no-journal", no_journal,
               "fsync each message into incoming/ on its own instead of through the intake journal");
  app.add_option("--publish-interval", config.publish_interval_ms,
                 "milliseconds a journaled message may wait before it is moved into incoming/")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  app.add_option("--max-message-size", limits.message_size, "largest message in bytes (SIZE)")->capture_default_str();
  app.add_option("--max-recipients", limits.recipients, "recipients per message")->capture_default_str();
  app.add_option("--max-line-length", limits.data_line, "longest message line in octets with CRLF")
      ->check(CLI::Range(80, 1 << 20))
      ->capture_default_str();
  app.add_option("--max-command-length", limits.command_line, "longest command line in octets with CRLF")
      ->check(CLI::Range(512, 1 << 16))
      ->capture_default_str();
  app.add_option("--max-errors", limits.errors, "error replies in a session before it is closed")->capture_default_str();
  app.add_option("--max-sessions", limits.sessions, "concurrent sessions in all")->capture_default_str();
  app.add_option("--max-sessions-per-ip", limits.sessions_per_ip, "concurrent sessions per client address")
      ->capture_default_str();
  app.add_option("--command-timeout", limits.command_timeout, "seconds to wait for a command")->capture_default_str();
  app.add_option("--data-timeout", limits.data_timeout, "seconds to wait for more message data")->capture_default_str();
  app.add_option("--session-timeout", limits.session_timeout, "seconds a session may last in all")->capture_default_str();
  app.add_option("--auth-failures", limits.auth_failures, "failed logins per client address before AUTH is refused")
      ->capture_default_str();
  app.add_option("--auth-failure-window", limits.auth_failure_window, "seconds the failed logins are counted over")
      ->capture_default_str();
  app.add_option("--auth-failure-delay", limits.auth_failure_delay_ms, "milliseconds before answering a failed login")
      ->capture_default_str();
  return tool.run(argc, argv, [&] {
    config.bare_newline = bare_newline == "reject" ? smtp_listen::BareNewline::kReject : smtp_listen::BareNewline::kNormalize;
    config.add_missing_headers = !no_add_headers;
    config.journal = !no_journal;
    return smtp_listen::serve(config, tool.clock());
  });
}
