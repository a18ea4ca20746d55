#pragma once
// An SMTP client session (RFC 5321 with PIPELINING, SIZE, 8BITMIME, SMTPUTF8, DSN, STARTTLS
// and AUTH): opened once, then one or more mail transactions with RSET between them.
// Per-recipient outcomes: a recipient is sent only after the final reply to the message
// content was a 2xx; a lost connection before that leaves it deferred.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "relay/smtp_client_conn.hpp"
#include "relay/smtp_client_reply.hpp"
#include "relay/smtp_client_tls.hpp"

namespace relay::smtp {

// Waits for the server, in milliseconds; defaults from RFC 5321 4.5.3.2.
struct Timeouts {
  int connect = 30'000;
  int greeting = 300'000;    // 4.5.3.2.1 initial 220
  int command = 300'000;     // 4.5.3.2.2/3 MAIL, RCPT; also EHLO, STARTTLS, AUTH, RSET
  int data_init = 120'000;   // 4.5.3.2.4 DATA's 354
  int data_block = 180'000;  // 4.5.3.2.5 each write of the content
  int data_done = 600'000;   // 4.5.3.2.6 the reply to the final dot
  // Lowers every wait to at most max_ms (tests, impatient operators).
  void cap(int max_ms);
};

struct Credentials {
  std::string user;
  std::string password;
};

struct SessionOptions {
  std::string helo_name;
  TlsPolicy tls = TlsPolicy::kMay;
  const TlsClientContext* tls_context = nullptr;  // required unless tls is none
  bool implicit_tls = false;                      // TLS from the first byte (port 465)
  const Credentials* credentials = nullptr;       // AUTH PLAIN or LOGIN when set
  Timeouts timeouts;
};

// The server at the other end: the name the mail was routed to and the address used.
struct Peer {
  std::string host;
  std::string address;
  uint16_t port = 25;
  std::string str() const;  // "mx.example.test[127.0.0.2]:25"
};

// Why a session could not be opened.
struct SessionError {
  bool permanent = false;   // a 5xx greeting or HELO: final for this server
  std::string status;       // RFC 3463 code
  std::string text;         // one line for the log and the envelope
  bool tls_failed = false;  // an opportunistic handshake failed: a plaintext retry may work
};

struct RecipientRequest {
  std::string address;
  std::string notify;  // RFC 3461 NOTIFY value or empty
  std::string orcpt;   // RFC 3461 ORCPT value or empty
};

struct MailRequest {
  std::string sender;  // empty: the null reverse-path
  std::string ret;     // RFC 3461
  std::string envid;
  bool smtputf8 = false;  // the envelope asked for SMTPUTF8
  std::vector<RecipientRequest> recipients;
  std::string_view message;
};

enum class Outcome { kSent, kDeferred, kFailed };
std::string_view to_string(Outcome outcome);

struct RecipientResult {
  Outcome outcome = Outcome::kDeferred;
  std::string status;    // RFC 3463
  std::string response;  // the server's reply, or what went wrong locally
};

struct MailResult {
  std::vector<RecipientResult> recipients;  // one per request recipient, in order
  bool try_elsewhere = false;  // a temporary failure before any recipient could be delivered
  bool reusable = false;       // the connection can take another transaction after RSET
};

// True when message holds a byte >= 0x80.
bool has_8bit(std::string_view message);
// True when the transaction needs SMTPUTF8: asked for, or an address is not ASCII.
bool needs_smtputf8(const MailRequest& mail);

class Session {
 public:
  // Connects and says hello: greeting, EHLO (HELO when EHLO is refused), STARTTLS as the
  // policy says (skipped when plaintext_only), AUTH. nullptr with error filled on failure.
  static std::unique_ptr<Session> open(const Peer& peer, const SessionOptions& options,
                                       bool plaintext_only, SessionError& error);

  MailResult send(const MailRequest& mail);
  // RSET before the next transaction; false when the connection is no longer usable.
  bool reset();
  // QUIT, waiting briefly for the reply; errors are ignored (the mail is decided already).
  void quit();

  const Peer& peer() const { return peer_; }
  const TlsInfo& tls() const { return connection_->tls(); }
  int transactions() const { return transactions_; }

 private:
  Session(Peer peer, const SessionOptions& options, std::unique_ptr<Connection> connection);
  bool hello(SessionError& error);
  bool starttls(SessionError& error);
  bool certificate_acceptable(SessionError& error);
  bool authenticate(SessionError& error);
  std::string mail_command(const MailRequest& mail, bool eight_bit, bool utf8) const;
  std::string rcpt_command(const RecipientRequest& rcpt) const;

  Peer peer_;
  SessionOptions options_;
  std::unique_ptr<Connection> connection_;
  Capabilities caps_;
  int transactions_ = 0;
  bool broken_ = false;
};

}  // namespace relay::smtp
