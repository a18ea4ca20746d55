#include "relay/smtp_client_session.hpp"

#include <algorithm>

#include "relay/base64.hpp"
#include "relay/log.hpp"

namespace relay::smtp {
namespace {

bool ascii(std::string_view text) {
  return std::none_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
}

SessionError reply_error(const Peer& peer, std::string_view what, const Reply& reply) {
  SessionError e;
  e.permanent = reply.permanent();
  e.status = reply.status();
  e.text = "host " + peer.str() + " " + std::string(what) + ": " + reply.one_line();
  return e;
}

SessionError local_error(const Peer& peer, std::string_view status, std::string_view what) {
  SessionError e;
  e.status = std::string(status);
  e.text = peer.str() + ": " + std::string(what);
  return e;
}

RecipientResult from_reply(const Reply& reply) {
  RecipientResult r;
  r.outcome = reply.positive() ? Outcome::kSent : reply.temporary() ? Outcome::kDeferred : Outcome::kFailed;
  r.status = reply.status();
  r.response = reply.one_line();
  return r;
}

RecipientResult local_result(Outcome outcome, std::string_view status, std::string response) {
  return {outcome, std::string(status), std::move(response)};
}

}  // namespace

void Timeouts::cap(int max_ms) {
  for (int* t : {&connect, &greeting, &command, &data_init, &data_block, &data_done}) *t = std::min(*t, max_ms);
}

std::string Peer::str() const {
  return host + "[" + address + "]:" + std::to_string(port);
}

std::string_view to_string(Outcome outcome) {
  switch (outcome) {
    case Outcome::kSent: return "sent";
    case Outcome::kDeferred: return "deferred";
    case Outcome::kFailed: return "failed";
  }
  return "?";
}

bool has_8bit(std::string_view message) { return !ascii(message); }

bool needs_smtputf8(const MailRequest& mail) {
  if (mail.smtputf8 || !ascii(mail.sender)) return true;
  return std::any_of(mail.recipients.begin(), mail.recipients.end(),
                     [](const RecipientRequest& r) { return !ascii(r.address); });
}

Session::Session(Peer peer, const SessionOptions& options, std::unique_ptr<Connection> connection)
    : peer_(std::move(peer)), options_(options), connection_(std::move(connection)) {}

std::unique_ptr<Session> Session::open(const Peer& peer, const SessionOptions& options, bool plaintext_only,
                                       SessionError& error) {
  const Timeouts& t = options.timeouts;
  std::unique_ptr<Session> session;
  try {
    auto connection = std::make_unique<Connection>(peer.address, peer.port, t.connect);
    session.reset(new Session(peer, options, std::move(connection)));
  } catch (const IoError& e) {
    error = local_error(peer, "4.4.1", std::string("connect: ") + e.what());
    return nullptr;
  }
  try {
    if (options.implicit_tls) {
      session->connection_->start_tls(*options.tls_context, peer.host, t.connect);
      if (!session->certificate_acceptable(error)) return nullptr;
    }
    Reply greeting = session->connection_->read_reply(t.greeting);
    if (!greeting.positive()) {
      error = reply_error(peer, "refused to talk to me", greeting);
      session->quit();
      return nullptr;
    }
    if (!session->hello(error)) return nullptr;
    bool tls_wanted = options.tls != TlsPolicy::kNone && !plaintext_only && !options.implicit_tls;
    if (tls_wanted) {
      if (!session->starttls(error)) return nullptr;
    }
    if (options.credentials && !session->authenticate(error)) return nullptr;
  } catch (const TlsError& e) {
    error = local_error(peer, "4.7.5", e.what());
    error.tls_failed = options.tls == TlsPolicy::kMay && !options.implicit_tls;
    return nullptr;
  } catch (const IoError& e) {
    error = local_error(peer, "4.4.2", e.what());
    return nullptr;
  }
  return session;
}

bool Session::hello(SessionError& error) {
  connection_->send("EHLO " + options_.helo_name + "\r\n", options_.timeouts.command);
  Reply reply = connection_->read_reply(options_.timeouts.command);
  if (reply.code == 250) {
    caps_ = parse_ehlo(reply);
    return true;
  }
  if (reply.code == 421) {
    error = reply_error(peer_, "refused to talk to me", reply);
    return false;
  }
  // An SMTP-only server: HELO, and no extensions (RFC 5321 3.2).
  connection_->send("HELO " + options_.helo_name + "\r\n", options_.timeouts.command);
  reply = connection_->read_reply(options_.timeouts.command);
  if (reply.code != 250) {
    error = reply_error(peer_, "refused to talk to me", reply);
    quit();
    return false;
  }
  caps_ = Capabilities{};
  return true;
}

bool Session::starttls(SessionError& error) {
  bool required = tls_required(options_.tls);
  if (!caps_.starttls) {
    if (!required) return true;
    error = local_error(peer_, "4.7.4", "TLS is required, but was not offered by the host");
    quit();
    return false;
  }
  connection_->send("STARTTLS\r\n", options_.timeouts.command);
  Reply reply = connection_->read_reply(options_.timeouts.command);
  if (reply.code != 220) {
    if (!required && reply.code != 421) return true;  // continue in plaintext, as Postfix does
    error = reply_error(peer_, "refused STARTTLS", reply);
    error.permanent = false;
    quit();
    return false;
  }
  connection_->start_tls(*options_.tls_context, peer_.host, options_.timeouts.command);
  if (!certificate_acceptable(error)) return false;
  // RFC 3207 4.2: forget what was learned before TLS and ask again.
  return hello(error);
}

bool Session::certificate_acceptable(SessionError& error) {
  if (options_.tls != TlsPolicy::kVerify || connection_->tls().verified) return true;
  error = local_error(peer_, "4.7.5", "server certificate not verified: " + connection_->tls().verify_error);
  quit();
  return false;
}

bool Session::authenticate(SessionError& error) {
  const Credentials& c = *options_.credentials;
  if (!connection_->tls().active) {
    error = local_error(peer_, "4.7.0", "refusing to send credentials without TLS");
    quit();
    return false;
  }
  const int timeout = options_.timeouts.command;
  Reply reply;
  if (caps_.auth_offers("PLAIN")) {
    connection_->send("AUTH PLAIN " + base64_encode(std::string(1, '\0') + c.user + '\0' + c.password) + "\r\n", timeout);
    reply = connection_->read_reply(timeout);
  } else if (caps_.auth_offers("LOGIN")) {
    connection_->send("AUTH LOGIN\r\n", timeout);
    reply = connection_->read_reply(timeout);
    for (const std::string* part : {&c.user, &c.password}) {
      if (reply.code != 334) break;
      connection_->send(base64_encode(*part) + "\r\n", timeout);
      reply = connection_->read_reply(timeout);
    }
  } else {
    error = local_error(peer_, "4.7.0", "the host offers neither AUTH PLAIN nor AUTH LOGIN");
    quit();
    return false;
  }
  if (reply.code == 235) return true;
  // A refused login is the operator's to fix: defer rather than bounce the mail.
  error = reply_error(peer_, "refused authentication", reply);
  error.permanent = false;
  error.status = "4.7.8";
  quit();
  return false;
}

std::string Session::mail_command(const MailRequest& mail, bool eight_bit, bool utf8) const {
  std::string cmd = "MAIL FROM:<" + mail.sender + ">";
  if (caps_.size_offered) cmd += " SIZE=" + std::to_string(mail.message.size());
  if (eight_bit) cmd += " BODY=8BITMIME";
  if (utf8) cmd += " SMTPUTF8";
  if (caps_.dsn) {
    if (!mail.ret.empty()) cmd += " RET=" + mail.ret;
    if (!mail.envid.empty()) cmd += " ENVID=" + mail.envid;
  }
  return cmd + "\r\n";
}

std::string Session::rcpt_command(const RecipientRequest& rcpt) const {
  std::string cmd = "RCPT TO:<" + rcpt.address + ">";
  if (caps_.dsn) {
    if (!rcpt.notify.empty()) cmd += " NOTIFY=" + rcpt.notify;
    if (!rcpt.orcpt.empty()) cmd += " ORCPT=" + rcpt.orcpt;
  }
  return cmd + "\r\n";
}

MailResult Session::send(const MailRequest& mail) {
  MailResult result;
  const size_t n = mail.recipients.size();
  auto all = [&](const RecipientResult& r) { result.recipients.assign(n, r); };

  // What the server cannot take is decided here, before a byte is sent.
  bool eight_bit = has_8bit(mail.message);
  bool utf8 = needs_smtputf8(mail);
  result.reusable = true;
  if (caps_.size_limit > 0 && mail.message.size() > caps_.size_limit) {
    all(local_result(Outcome::kFailed, "5.3.4",
                     "message size " + std::to_string(mail.message.size()) + " exceeds the size limit " +
                         std::to_string(caps_.size_limit) + " of " + peer_.str()));
    return result;
  }
  if (utf8 && !caps_.smtputf8) {
    all(local_result(Outcome::kFailed, "5.6.7", "SMTPUTF8 is required, but was not offered by " + peer_.str()));
    return result;
  }
  if (eight_bit && !caps_.eightbitmime) {
    // Documented choice: 8-bit content is refused rather than converted to quoted-printable.
    all(local_result(Outcome::kFailed, "5.6.3",
                     "8-bit message content, but 8BITMIME was not offered by " + peer_.str()));
    return result;
  }

  const Timeouts& t = options_.timeouts;
  all(local_result(Outcome::kDeferred, "4.4.2", "no reply from " + peer_.str()));
  std::vector<bool> answered(n, false), accepted(n, false);
  size_t accepted_count = 0;
  bool data_sent = false;
  std::string stage = "MAIL FROM";
  try {
    Reply mail_reply, data_reply, final_reply;
    auto take_rcpt = [&](size_t i, const Reply& reply) {
      result.recipients[i] = from_reply(reply);
      answered[i] = true;
      if (reply.positive()) {
        // Accepted is not delivered: sent only after the final reply to the content.
        accepted[i] = true;
        ++accepted_count;
        result.recipients[i] = local_result(Outcome::kDeferred, "4.4.2", "no final reply from " + peer_.str());
      }
    };
    if (caps_.pipelining) {
      std::string batch = mail_command(mail, eight_bit && caps_.eightbitmime, utf8);
      for (const auto& r : mail.recipients) batch += rcpt_command(r);
      batch += "DATA\r\n";
      connection_->send(batch, t.command);
      mail_reply = connection_->read_reply(t.command);
      stage = "RCPT TO";
      for (size_t i = 0; i < n; ++i) {
        Reply reply = connection_->read_reply(t.command);
        if (mail_reply.positive()) take_rcpt(i, reply);
      }
      stage = "DATA";
      data_reply = connection_->read_reply(t.data_init);
    } else {
      connection_->send(mail_command(mail, eight_bit && caps_.eightbitmime, utf8), t.command);
      mail_reply = connection_->read_reply(t.command);
      if (mail_reply.positive()) {
        stage = "RCPT TO";
        for (size_t i = 0; i < n; ++i) {
          connection_->send(rcpt_command(mail.recipients[i]), t.command);
          take_rcpt(i, connection_->read_reply(t.command));
        }
        if (accepted_count > 0) {
          stage = "DATA";
          connection_->send("DATA\r\n", t.command);
          data_reply = connection_->read_reply(t.data_init);
        }
      }
    }
    if (!mail_reply.positive()) {
      all(from_reply(mail_reply));
      answered.assign(n, true);
      result.try_elsewhere = mail_reply.temporary();
    }
    if (data_reply.code == 354 && accepted_count == 0) {
      // A pipelined DATA the server took although no recipient was accepted: end it empty.
      connection_->send(".\r\n", t.data_block);
      connection_->read_reply(t.data_done);
    } else if (accepted_count > 0 && data_reply.code != 354) {
      for (size_t i = 0; i < n; ++i)
        if (accepted[i]) result.recipients[i] = from_reply(data_reply);
    } else if (accepted_count > 0) {
      stage = "DATA content";
      data_sent = true;
      connection_->send_data(mail.message, t.data_block);
      stage = "end of data";
      final_reply = connection_->read_reply(t.data_done);
      for (size_t i = 0; i < n; ++i)
        if (accepted[i]) result.recipients[i] = from_reply(final_reply);
      ++transactions_;
    }
    for (const Reply* reply : {&mail_reply, &data_reply, &final_reply})
      if (reply->code == 421) result.reusable = false;
  } catch (const IoError& e) {
    // Nothing unacknowledged is delivered: every recipient without a final answer defers.
    std::string why = std::string(e.what()) + " with " + peer_.str() + " after " + stage;
    for (size_t i = 0; i < n; ++i)
      if (!answered[i] || accepted[i]) result.recipients[i] = local_result(Outcome::kDeferred, "4.4.2", why);
    // Before the content went out nothing can have been delivered: the deferred
    // recipients may go to the next server at once.
    result.try_elsewhere = !data_sent;
    result.reusable = false;
    broken_ = true;
  }
  return result;
}

bool Session::reset() {
  if (broken_) return false;
  try {
    connection_->send("RSET\r\n", options_.timeouts.command);
    if (connection_->read_reply(options_.timeouts.command).code == 250) return true;
  } catch (const IoError&) {
  }
  broken_ = true;
  return false;
}

void Session::quit() {
  if (broken_) return;
  broken_ = true;
  try {
    connection_->send("QUIT\r\n", std::min(options_.timeouts.command, 5000));
    connection_->read_reply(std::min(options_.timeouts.command, 5000));
  } catch (const IoError&) {
  }
}

}  // namespace relay::smtp
