#pragma once
// One SMTP session (RFC 5321 with the ESMTP extensions of smtp-listen(8)) as a state machine
// over bytes: the connection hands it what it read and carries out what it asks (send, start
// TLS, close, run slow work off the event loop, wait). It never touches a socket itself.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth.hpp"
#include "auth_throttle.hpp"
#include "config.hpp"
#include "data_reader.hpp"
#include "message_builder.hpp"
#include "relay/clock.hpp"
#include "relay/envelope.hpp"
#include "relay/policy.hpp"
#include "relay/spool.hpp"
#include "intake_journal.hpp"
#include "tls.hpp"

namespace smtp_listen {

// What the whole server shares with its sessions. SIGHUP replaces auth and tls.
struct Services {
  const Config& config;
  relay::Spool& spool;
  relay::Clock clock;
  std::string hostname;
  std::shared_ptr<const AuthFile> auth;  // null: AUTH is not offered
  std::shared_ptr<TlsContext> tls;       // null: STARTTLS is not offered
  AuthThrottle throttle;
  relay::policy::Policy* policy = nullptr;  // null: only the built-in limits
  IntakeJournal* journal = nullptr;         // null: each message fsynced into its stage on its own
};

class SessionHost {
 public:
  virtual ~SessionHost() = default;
  virtual void send(std::string_view text) = 0;
  // Flush what was sent, then run the TLS handshake; the session hears of it in tls_started().
  virtual void start_tls() = 0;
  virtual void close() = 0;  // after what was sent is flushed
  // work runs on a worker thread and must not touch the session; done runs back on the loop,
  // and only if the connection still exists. Password checks have their own few threads, so a
  // flood of logins cannot delay the fsyncs of accepted mail.
  enum class Work { kSpool, kPassword };
  virtual void run_off_loop(Work kind, std::function<void()> work, std::function<void()> done) = 0;
  virtual void after(int64_t millis, std::function<void()> done) = 0;
};

struct ClientInfo {
  std::string ip;            // empty when unknown (stdin that is not a socket)
  int port = 0;              // 0 when unknown
  bool relay_allowed = false;  // --allow-ip or RELAYCLIENT
};

class Session {
 public:
  Session(Services& services, SessionHost& host, ClientInfo client);
  ~Session();

  void start();                        // the greeting
  void receive(std::string_view bytes);
  void tls_started(const std::string& version, const std::string& cipher);
  void resume();                       // after off-loop work or a wait: go on with buffered input

  bool wants_input() const;
  bool receiving_message() const;      // DATA or BDAT under way: the data timeout applies
  bool closing() const { return closing_; }
  void stop();                         // SIGTERM: close now, or after the message under way
  void timed_out();
  void abandon() { reset_transaction(); }  // the connection is going: drop a message under way

 private:
  enum class Mode { kCommand, kData, kBdat, kAuthPlain, kAuthLoginUser, kAuthLoginPassword };

  struct Transaction {
    bool open = false;
    std::string sender;
    std::string ret, envid, body;
    bool smtputf8 = false;
    std::vector<relay::Recipient> recipients;
  };

  // Input and replies.
  void process();
  void handle_line(std::string_view line);
  void reply(std::string_view text);
  void error(std::string_view text);   // a reply that counts against the error limit
  void close_with(std::string_view text);

  // Commands (session.cpp).
  void on_ehlo(const std::string& argument, bool extended);
  void on_mail(const std::string& argument);
  void on_rcpt(const std::string& argument);
  void on_rset();
  void reset_transaction();
  // relay-policy's verdict: the refusal reply, or empty when the request may go on.
  std::string ask_policy(relay::policy::Request request, bool* hold = nullptr);

  // Message data (session_message.cpp).
  void on_data(const std::string& argument);
  void on_bdat(const std::string& argument);
  bool open_message();
  void message_line(std::string_view content);
  bool feed_data();  // false: no progress until more input arrives
  bool feed_bdat();
  void end_bdat_chunk();
  void finish_message(DataFault fault);
  void commit_message(uint64_t size, relay::Stage stage);
  void log_transaction(std::string_view status, std::string_view reply_text, uint64_t size, const std::string& id);
  std::string trace_field(const std::string& id) const;
  std::string protocol() const;

  // AUTH and STARTTLS (session_auth.cpp).
  void on_auth(const std::string& argument);
  void on_auth_response(std::string_view line);
  void check_credentials(Credentials credentials);
  void on_starttls(const std::string& argument);
  bool auth_offered() const;

  Services& services_;
  SessionHost& host_;
  ClientInfo client_;

  std::string input_;
  size_t input_pos_ = 0;
  bool discarding_line_ = false;   // a command line over the limit, until its LF
  Mode mode_ = Mode::kCommand;
  bool busy_ = false;              // off-loop work or a wait under way
  bool closing_ = false;
  bool stopping_ = false;
  int errors_ = 0;

  std::string helo_;
  bool extended_ = false;
  std::string tls_;                // "TLSv1.3 TLS_AES_256_GCM_SHA384" once TLS is up
  std::string auth_user_;
  std::string login_user_;         // AUTH LOGIN between its two steps
  Transaction transaction_;
  int messages_ = 0;

  // The message under way.
  std::unique_ptr<relay::Spool::Writer> writer_;
  std::unique_ptr<MessageBuilder> builder_;
  std::unique_ptr<DataReader> data_reader_;
  std::unique_ptr<BdatReader> bdat_reader_;
  std::string spool_error_;        // the reply when writing failed: 451/452
  uint64_t bdat_remaining_ = 0;
  bool bdat_last_ = false;
  bool bdat_discard_ = false;      // a refused BDAT: its bytes are read and dropped
  std::string bdat_refusal_;
};

}  // namespace smtp_listen
