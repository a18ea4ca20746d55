#pragma once
// Everything smtp-listen is told on its command line, in one place the other parts read.
#include <cstdint>
#include <string>
#include <vector>

namespace smtp_listen {

enum class BareNewline { kNormalize, kReject };

struct Limits {
  uint64_t message_size = 50ull << 20;   // SIZE announced; bytes of message data
  size_t recipients = 100;               // per message
  size_t command_line = 2048;            // octets with CRLF (RFC 5321 4.5.3.1.4 asks at least 512)
  size_t data_line = 1000;               // octets with CRLF (RFC 5321 4.5.3.1.6)
  int errors = 20;                       // error replies per session, then 421 and close
  size_t sessions = 1000;                // in all
  size_t sessions_per_ip = 50;
  int64_t command_timeout = 300;         // RFC 5321 4.5.3.2.7: waiting for the next command
  int64_t data_timeout = 180;            // RFC 5321 4.5.3.2.6: between data blocks
  int64_t session_timeout = 3600;        // whole session, whatever it does
  int auth_failures = 5;                 // failed logins per client address ...
  int64_t auth_failure_window = 900;     // ... in this many seconds, then AUTH is refused
  int64_t auth_failure_delay_ms = 2000;  // before answering a failed login
};

struct TlsSettings {
  std::string cert_file;
  std::string key_file;
  std::string min_version = "TLSv1.2";
  std::string ciphers;        // TLS 1.2 cipher list; empty: OpenSSL's default
  std::string ciphersuites;   // TLS 1.3 suites; empty: OpenSSL's default
};

struct Config {
  std::string spool_dir;
  std::string hostname;
  std::vector<std::string> listen;      // ADDR:PORT, plain (STARTTLS offered when TLS is set up)
  std::vector<std::string> listen_tls;  // ADDR:PORT, implicit TLS (port 465)
  std::vector<std::string> allow_ip;    // CIDR blocks allowed to relay without AUTH
  std::string auth_file;
  bool allow_plaintext_auth = false;
  bool add_missing_headers = true;      // Date and Message-ID for authenticated submission
  BareNewline bare_newline = BareNewline::kNormalize;
  std::string policy_file;
  std::string user;                     // drop to this user after binding
  bool stdio = false;                   // one session on stdin/stdout (inetd, tcpserver)
  bool stdio_tls = false;               // that session starts with TLS
  int notify_fd = -1;
  int sync_threads = 32;                // commits in flight at once (they share flushes)
  bool journal = true;                  // the intake journal, in listener mode
  int64_t publish_interval_ms = 100;    // how long a journaled message may wait for incoming/
  TlsSettings tls;
  Limits limits;
};

}  // namespace smtp_listen
