#include "session.hpp"

#include <algorithm>
#include <charconv>

#include "command.hpp"
#include "relay/address.hpp"
#include "relay/log.hpp"

namespace smtp_listen {
namespace {

constexpr size_t kMaxHelo = 255;
constexpr size_t kMaxEnvid = 100;      // RFC 3461 4.4
constexpr size_t kMaxBuffered = 256 << 10;  // pipelined input held while a reply is pending

bool has_control(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    unsigned char u = c;
    return u < 32 || u == 127;
  });
}

}  // namespace

Session::Session(Services& services, SessionHost& host, ClientInfo client)
    : services_(services), host_(host), client_(std::move(client)) {}

Session::~Session() = default;

void Session::start() {
  reply("220 " + services_.hostname + " ESMTP smtp-listen");
}

void Session::reply(std::string_view text) {
  std::string line(text);
  line += "\r\n";
  host_.send(line);
}

void Session::close_with(std::string_view text) {
  reset_transaction();  // a message cut short leaves nothing behind, before the client sees the close
  reply(text);
  closing_ = true;
  host_.close();
}

void Session::error(std::string_view text) {
  reply(text);
  if (++errors_ >= services_.config.limits.errors && !closing_) {
    relay::log::event({{"client", client_.ip}, {"status", "disconnect"}, {"reason", "too many errors"}});
    close_with("421 4.7.0 " + services_.hostname + " Error: too many errors");
  }
}

bool Session::wants_input() const {
  return !busy_ && !closing_ && input_.size() - input_pos_ < kMaxBuffered;
}

bool Session::receiving_message() const { return mode_ == Mode::kData || mode_ == Mode::kBdat; }

void Session::receive(std::string_view bytes) {
  if (closing_) return;
  input_.append(bytes);
  process();
}

void Session::resume() {
  busy_ = false;
  if (stopping_ && !receiving_message() && !closing_ && !writer_) {
    close_with("421 4.3.2 " + services_.hostname + " Service shutting down");
    return;
  }
  process();
}

void Session::stop() {
  stopping_ = true;
  if (busy_ || closing_ || receiving_message() || writer_) return;  // after the message
  close_with("421 4.3.2 " + services_.hostname + " Service shutting down");
}

void Session::timed_out() {
  if (closing_) return;
  relay::log::event({{"client", client_.ip}, {"status", "disconnect"}, {"reason", "timeout"}});
  close_with("421 4.4.2 " + services_.hostname + " Error: timeout exceeded");
}

void Session::process() {
  const size_t max_line = services_.config.limits.command_line;
  while (!busy_ && !closing_ && input_pos_ < input_.size()) {
    if (mode_ == Mode::kData) {
      if (!feed_data()) break;
      continue;
    }
    if (mode_ == Mode::kBdat) {
      if (!feed_bdat()) break;
      continue;
    }
    std::string_view rest(input_.data() + input_pos_, input_.size() - input_pos_);
    size_t lf = rest.find('\n');
    if (lf == std::string_view::npos) {
      if (rest.size() > max_line) {  // no line end in sight: drop it now, answer at its end
        discarding_line_ = true;
        input_pos_ = input_.size();
      }
      break;
    }
    std::string_view line = rest.substr(0, lf);
    input_pos_ += lf + 1;
    if (discarding_line_ || line.size() + 1 > max_line) {
      discarding_line_ = false;
      error("500 5.5.2 Error: line too long");
      continue;
    }
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_of(std::string_view("\r\0", 2)) != std::string_view::npos) {
      error("500 5.5.2 Error: bare CR or NUL in command");
      continue;
    }
    handle_line(line);
  }
  if (input_pos_ == input_.size()) {
    input_.clear();
    input_pos_ = 0;
  } else if (input_pos_ > (64 << 10)) {
    input_.erase(0, input_pos_);
    input_pos_ = 0;
  }
}

void Session::handle_line(std::string_view line) {
  switch (mode_) {
    case Mode::kAuthPlain:
    case Mode::kAuthLoginUser:
    case Mode::kAuthLoginPassword:
      on_auth_response(line);
      return;
    default:
      break;
  }
  Command command = parse_command(line);
  const std::string& verb = command.verb;
  if (verb == "EHLO") return on_ehlo(command.argument, true);
  if (verb == "HELO") return on_ehlo(command.argument, false);
  if (verb == "MAIL") return on_mail(command.argument);
  if (verb == "RCPT") return on_rcpt(command.argument);
  if (verb == "DATA") return on_data(command.argument);
  if (verb == "BDAT") return on_bdat(command.argument);
  if (verb == "RSET") return on_rset();
  if (verb == "NOOP") return reply("250 2.0.0 Ok");
  if (verb == "QUIT") return close_with("221 2.0.0 Bye");
  if (verb == "AUTH") return on_auth(command.argument);
  if (verb == "STARTTLS") return on_starttls(command.argument);
  if (verb == "VRFY") return reply("252 2.5.0 Cannot VRFY user, but will accept the message and attempt delivery");
  if (verb == "EXPN") return error("502 5.5.1 Error: EXPN is not available");
  if (verb == "HELP") return reply("214 2.0.0 Commands: EHLO HELO MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP AUTH STARTTLS");
  error("500 5.5.2 Error: command not recognized");
}

void Session::on_ehlo(const std::string& argument, bool extended) {
  if (argument.empty() || argument.size() > kMaxHelo || argument.find(' ') != std::string::npos ||
      has_control(argument))
    return error("501 5.5.4 Syntax: " + std::string(extended ? "EHLO" : "HELO") + " hostname");
  if (writer_) return error("503 5.5.1 Error: BDAT transfer under way");
  reset_transaction();
  helo_ = argument;
  extended_ = extended;
  if (!extended) return reply("250 " + services_.hostname);
  const Limits& limits = services_.config.limits;
  std::string text = "250-" + services_.hostname + "\r\n";
  text += "250-PIPELINING\r\n";
  text += "250-SIZE " + std::to_string(limits.message_size) + "\r\n";
  text += "250-8BITMIME\r\n250-SMTPUTF8\r\n250-ENHANCEDSTATUSCODES\r\n250-DSN\r\n250-CHUNKING\r\n";
  if (services_.tls && tls_.empty()) text += "250-STARTTLS\r\n";
  if (auth_offered()) text += "250-AUTH PLAIN LOGIN\r\n";
  text += "250 HELP";
  reply(text);
}

void Session::on_mail(const std::string& argument) {
  if (helo_.empty()) return error("503 5.5.1 Error: send HELO/EHLO first");
  if (transaction_.open) return error("503 5.5.1 Error: nested MAIL command");
  auto parsed = parse_path_argument(argument, "FROM:");
  if (!parsed) return error("501 5.5.4 Syntax: MAIL FROM:<address>");
  Transaction next;
  next.open = true;
  bool seen_size = false;
  uint64_t declared_size = 0;
  for (const auto& [name, value] : parsed->params) {
    if (!extended_) return error("555 5.5.4 Error: parameters need EHLO");
    bool ok = true;
    if (name == "SIZE" && !seen_size) {
      seen_size = true;
      auto [end, err] = std::from_chars(value.data(), value.data() + value.size(), declared_size);
      ok = err == std::errc() && end == value.data() + value.size() && !value.empty();
      if (ok && declared_size > services_.config.limits.message_size)
        return error("552 5.3.4 Error: message size exceeds fixed limit");
    } else if (name == "BODY" && next.body.empty()) {
      std::string body = value;
      std::transform(body.begin(), body.end(), body.begin(), ::toupper);
      ok = body == "7BIT" || body == "8BITMIME";
      next.body = body;
    } else if (name == "SMTPUTF8" && !next.smtputf8) {
      ok = value.empty();
      next.smtputf8 = true;
    } else if (name == "RET" && next.ret.empty()) {
      std::string ret = value;
      std::transform(ret.begin(), ret.end(), ret.begin(), ::toupper);
      ok = ret == "FULL" || ret == "HDRS";
      next.ret = ret;
    } else if (name == "ENVID" && next.envid.empty()) {
      ok = !value.empty() && value.size() <= kMaxEnvid && valid_xtext(value);
      next.envid = value;
    } else if (name == "AUTH") {
      // RFC 4954 5: the submitter's own claim of an identity; not trusted, not kept.
    } else {
      return error("555 5.5.4 Error: unsupported or repeated parameter " + relay::log::sanitize(name));
    }
    if (!ok) return error("501 5.5.4 Error: bad value of " + name);
  }
  auto path = relay::parse_path(parsed->path, next.smtputf8, true);
  if (!path.ok()) {
    if (!next.smtputf8 && relay::parse_path(parsed->path, true, true).ok())
      return error("553 5.6.7 Error: non-ASCII address needs SMTPUTF8");
    return error("553 5.1.7 Error: bad sender address syntax");
  }
  next.sender = path.mailbox ? path.mailbox->str() : "";
  relay::policy::Request request;
  request.stage = relay::policy::Stage::kMail;
  request.sender = next.sender;
  request.size = declared_size;
  std::string refusal = ask_policy(std::move(request));
  if (!refusal.empty()) return reply(refusal);
  transaction_ = std::move(next);
  reply("250 2.1.0 Ok");
}

void Session::on_rcpt(const std::string& argument) {
  if (!transaction_.open) return error("503 5.5.1 Error: need MAIL command");
  auto parsed = parse_path_argument(argument, "TO:");
  if (!parsed) return error("501 5.5.4 Syntax: RCPT TO:<address>");
  relay::Recipient recipient;
  for (const auto& [name, value] : parsed->params) {
    bool ok = true;
    if (name == "NOTIFY" && recipient.notify.empty()) {
      auto notify = normalize_notify(value);
      ok = notify.has_value();
      if (ok) recipient.notify = *notify;
    } else if (name == "ORCPT" && recipient.orcpt.empty()) {
      ok = value.size() <= 500 && valid_orcpt(value, transaction_.smtputf8);
      recipient.orcpt = value;
    } else {
      return error("555 5.5.4 Error: unsupported or repeated parameter " + relay::log::sanitize(name));
    }
    if (!ok) return error("501 5.5.4 Error: bad value of " + name);
  }
  auto path = relay::parse_path(parsed->path, transaction_.smtputf8, false);
  if (!path.ok() || !path.mailbox) {
    if (!transaction_.smtputf8 && relay::parse_path(parsed->path, true, false).ok())
      return error("553 5.6.7 Error: non-ASCII address needs SMTPUTF8");
    return error("553 5.1.3 Error: bad recipient address syntax");
  }
  recipient.address = path.mailbox->str();
  if (auth_user_.empty() && !client_.relay_allowed) {
    relay::log::event({{"client", client_.ip}, {"from", transaction_.sender}, {"to", recipient.address},
                       {"status", "refused"}, {"reason", "relay access denied"}});
    return error("554 5.7.1 <" + relay::log::sanitize(recipient.address) + ">: Relay access denied");
  }
  if (transaction_.recipients.size() >= services_.config.limits.recipients)
    return reply("452 4.5.3 Error: too many recipients");
  relay::policy::Request request;
  request.stage = relay::policy::Stage::kRcpt;
  request.sender = transaction_.sender;
  request.recipient = recipient.address;
  request.recipient_count = transaction_.recipients.size() + 1;
  std::string refusal = ask_policy(std::move(request));
  if (!refusal.empty()) return reply(refusal);
  transaction_.recipients.push_back(std::move(recipient));
  reply("250 2.1.5 Ok");
}

void Session::on_rset() {
  reset_transaction();
  reply("250 2.0.0 Ok");
}

std::string Session::ask_policy(relay::policy::Request request, bool* hold) {
  if (!services_.policy) return "";
  request.user = auth_user_;
  request.client_ip = client_.ip;
  relay::policy::Verdict verdict = services_.policy->check(request);
  if (hold) *hold = verdict.action == relay::policy::Action::kHold;
  if (verdict.accepted()) return "";
  std::string text = verdict.reply();
  relay::log::event({{"client", client_.ip}, {"user", auth_user_}, {"from", "<" + request.sender + ">"},
                     {"to", request.recipient}, {"status", "policy"}, {"rule", verdict.rule}, {"reply", text}});
  return text;
}

void Session::reset_transaction() {
  transaction_ = Transaction();
  if (writer_) writer_->abort();
  writer_.reset();
  builder_.reset();
  bdat_reader_.reset();
  data_reader_.reset();
  spool_error_.clear();
}

}  // namespace smtp_listen
