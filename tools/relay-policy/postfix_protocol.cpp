#include "postfix_protocol.hpp"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "relay/cli.hpp"
#include "relay/exit_codes.hpp"
#include "relay/log.hpp"

namespace relay_policy {
namespace {

constexpr size_t kMaxLine = 8192;         // Postfix's longest attributes (certificate names) fit
constexpr size_t kMaxAttributes = 128;
constexpr size_t kMaxRecipients = 100000;  // per transaction, remembered for END-OF-MESSAGE

std::string get(const Attributes& a, const char* name) {
  auto it = a.find(name);
  return it == a.end() ? std::string() : it->second;
}

uint64_t number(const std::string& text) {
  uint64_t n = 0;
  std::from_chars(text.data(), text.data() + text.size(), n);
  return n;
}

std::string action_of(const relay::policy::Verdict& v) {
  switch (v.action) {
    case relay::policy::Action::kAccept: return "DUNNO";
    case relay::policy::Action::kHold: return "HOLD " + v.text;
    case relay::policy::Action::kReject:
    case relay::policy::Action::kDefer: return v.reply();
  }
  return "DUNNO";
}

// Reads name=value lines from a descriptor with a bound on line length and idle time.
class RequestReader {
 public:
  RequestReader(int fd, std::chrono::seconds idle) : fd_(fd), idle_(idle) {}

  enum class Result { kRequest, kEnd, kError };

  Result next(Attributes& out, std::string& error) {
    out.clear();
    for (;;) {
      size_t lf = buffer_.find('\n', start_);
      if (lf == std::string::npos) {
        if (buffer_.size() - start_ > kMaxLine) return fail(error, "line longer than 8192 bytes");
        if (start_ > 0) {
          buffer_.erase(0, start_);
          start_ = 0;
        }
        auto filled = fill(error);
        if (filled == Result::kEnd && (!buffer_.empty() || !out.empty())) return fail(error, "connection closed inside a request");
        if (filled != Result::kRequest) return filled;
        continue;
      }
      if (lf - start_ > kMaxLine) return fail(error, "line longer than 8192 bytes");
      std::string_view line(buffer_.data() + start_, lf - start_);
      start_ = lf + 1;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.empty()) {
        if (out.empty()) continue;  // stray empty line between requests
        return Result::kRequest;
      }
      size_t eq = line.find('=');
      if (eq == std::string_view::npos) return fail(error, "attribute without \"=\"");
      if (out.size() >= kMaxAttributes) return fail(error, "more than 128 attributes");
      out[std::string(line.substr(0, eq))] = std::string(line.substr(eq + 1));
    }
  }

 private:
  static Result fail(std::string& error, const char* what) {
    error = what;
    return Result::kError;
  }

  Result fill(std::string& error) {
    pollfd p{fd_, POLLIN, 0};
    int ready;
    do ready = ::poll(&p, 1, static_cast<int>(idle_.count() * 1000));
    while (ready < 0 && errno == EINTR);
    if (ready == 0) return fail(error, "idle timeout");
    if (ready < 0) {
      error = std::string("poll: ") + std::strerror(errno);
      return Result::kError;
    }
    char buf[16384];
    ssize_t n;
    do n = ::read(fd_, buf, sizeof buf);
    while (n < 0 && errno == EINTR);
    if (n == 0) return Result::kEnd;
    if (n < 0) {
      error = std::string("read: ") + std::strerror(errno);
      return Result::kError;
    }
    buffer_.append(buf, static_cast<size_t>(n));
    return Result::kRequest;
  }

  int fd_;
  std::chrono::seconds idle_;
  std::string buffer_;
  size_t start_ = 0;
};

}  // namespace

std::string PostfixSession::answer(const Attributes& a) {
  using relay::policy::Stage;
  std::string state = get(a, "protocol_state");
  std::string instance = get(a, "instance");
  if (instance != instance_) {
    instance_ = instance;
    recipients_.clear();
  }
  relay::policy::Request r;
  r.user = get(a, "sasl_username");
  r.client_ip = get(a, "client_address");
  r.sender = get(a, "sender");
  r.size = number(get(a, "size"));
  if (state == "MAIL") {
    r.stage = Stage::kMail;
  } else if (state == "RCPT") {
    r.stage = Stage::kRcpt;
    r.recipient = get(a, "recipient");
    r.recipient_count = recipients_.size() + 1;
  } else if (state == "END-OF-MESSAGE") {
    r.stage = Stage::kData;
    r.headers_seen = false;
    r.recipients = recipients_;
    // Without the RCPT requests of this transaction, Postfix's count still counts the
    // recipients; their domains stay unknown.
    size_t count = number(get(a, "recipient_count"));
    if (r.recipients.size() < count && count <= kMaxRecipients) r.recipients.resize(count);
  } else {
    return "DUNNO";
  }
  relay::policy::Verdict v;
  if (r.stage == Stage::kRcpt) {
    // Postfix asks at RCPT what relay-policy answers at MAIL (smtpd_delay_reject): ask both.
    relay::policy::Request mail = r;
    mail.stage = Stage::kMail;
    v = policy_.check(mail);
  }
  if (v.action == relay::policy::Action::kAccept) v = policy_.check(r);
  if (r.stage == Stage::kRcpt && v.accepted() && recipients_.size() < kMaxRecipients) recipients_.push_back(r.recipient);
  if (!v.accepted() || v.action == relay::policy::Action::kHold)
    relay::log::event({{"client", r.client_ip},
                       {"user", r.user},
                       {"from", r.sender},
                       {"to", r.recipient},
                       {"state", state},
                       {"verdict", relay::policy::to_string(v.action)},
                       {"reply", v.reply()}});
  return action_of(v);
}

void serve_postfix_client(relay::policy::Policy& policy, int in_fd, int out_fd, std::chrono::seconds idle) {
  PostfixSession session(policy);
  RequestReader reader(in_fd, idle);
  Attributes request;
  std::string error;
  for (;;) {
    auto result = reader.next(request, error);
    if (result == RequestReader::Result::kEnd) return;
    if (result == RequestReader::Result::kError) {
      relay::log::warning("closing a policy client: " + relay::log::sanitize(error));
      return;
    }
    std::string reply = "action=" + session.answer(request) + "\n\n";
    try {
      relay::write_all(out_fd, reply, "a policy reply");
    } catch (const relay::Failure& e) {
      relay::log::warning(e.what());
      return;
    }
  }
}

}  // namespace relay_policy
