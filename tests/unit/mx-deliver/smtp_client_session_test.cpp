// The SMTP client session against a scripted server on loopback: each test gives the
// server's replies in order and checks the outcomes and what the client sent.
#include "relay/smtp_client_session.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace relay::smtp {
namespace {

// Serves one connection: sends the greeting, then for each line the client sends answers the
// next scripted reply ("" means: hang up). DATA content is read up to the final dot.
class ScriptedServer {
 public:
  explicit ScriptedServer(std::vector<std::string> replies) : replies_(std::move(replies)) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    ::listen(listener_, 1);
    thread_ = std::thread([this] { serve(); });
  }
  ~ScriptedServer() {
    thread_.join();
    ::close(listener_);
  }
  uint16_t port() const { return port_; }
  const std::string& received() const { return received_; }

 private:
  void serve() {
    int fd = ::accept(listener_, nullptr, nullptr);
    std::string buffer;
    bool in_data = false;
    size_t next = 0;
    auto say = [&](const std::string& text) { return ::send(fd, text.data(), text.size(), MSG_NOSIGNAL) >= 0; };
    say(replies_[next++] + "\r\n");
    char chunk[4096];
    while (next < replies_.size()) {
      size_t end = buffer.find("\r\n");
      if (end == std::string::npos) {
        ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0) break;
        buffer.append(chunk, static_cast<size_t>(n));
        continue;
      }
      std::string line = buffer.substr(0, end);
      buffer.erase(0, end + 2);
      received_ += line + "\n";
      if (in_data && line != ".") continue;
      const std::string& reply = replies_[next++];
      if (reply.empty()) break;
      in_data = reply.starts_with("354");
      say(reply + "\r\n");
    }
    ::close(fd);
  }

  std::vector<std::string> replies_;
  int listener_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
  std::string received_;
};

SessionOptions plain_options() {
  SessionOptions o;
  o.helo_name = "relay.test";
  o.tls = TlsPolicy::kNone;
  o.timeouts.cap(3000);
  return o;
}

MailRequest mail_to(std::vector<std::string> recipients) {
  MailRequest m;
  m.sender = "a@example.org";
  for (auto& r : recipients) m.recipients.push_back({r, "", ""});
  m.message = "Subject: t\r\n\r\nbody\r\n";
  return m;
}

const std::string kEhloPipelining = "250-mx.test\r\n250 PIPELINING";

TEST(Session, PipelinedPerRecipientOutcomes) {
  ScriptedServer server({"220 mx.test", kEhloPipelining, "250 ok", "250 ok", "550 5.1.1 no", "354 go",
                         "250 2.0.0 queued", "221 bye"});
  SessionError error;
  auto s = Session::open({"mx.test", "127.0.0.1", server.port()}, plain_options(), false, error);
  ASSERT_TRUE(s) << error.text;
  MailResult r = s->send(mail_to({"b@x.test", "c@x.test"}));
  ASSERT_EQ(r.recipients.size(), 2u);
  EXPECT_EQ(r.recipients[0].outcome, Outcome::kSent);
  EXPECT_EQ(r.recipients[1].outcome, Outcome::kFailed);
  EXPECT_EQ(r.recipients[1].status, "5.1.1");
  EXPECT_TRUE(r.reusable);
  s->quit();
  s.reset();
  EXPECT_NE(server.received().find("RCPT TO:<c@x.test>\nDATA\n"), std::string::npos);
}

TEST(Session, MailRejectedTemporarilyMayGoElsewhere) {
  ScriptedServer server({"220 mx.test", kEhloPipelining, "451 4.3.0 later", "503 no mail", "503 no mail",
                         "221 bye"});
  SessionError error;
  auto s = Session::open({"mx.test", "127.0.0.1", server.port()}, plain_options(), false, error);
  ASSERT_TRUE(s);
  MailResult r = s->send(mail_to({"b@x.test"}));
  EXPECT_EQ(r.recipients[0].outcome, Outcome::kDeferred);
  EXPECT_EQ(r.recipients[0].status, "4.3.0");
  EXPECT_TRUE(r.try_elsewhere);
  s->quit();
}

TEST(Session, DataAcceptedWithoutRecipientsIsEndedEmpty) {
  ScriptedServer server({"220 mx.test", kEhloPipelining, "250 ok", "550 no", "354 go", "554 no valid recipients",
                         "221 bye"});
  SessionError error;
  auto s = Session::open({"mx.test", "127.0.0.1", server.port()}, plain_options(), false, error);
  ASSERT_TRUE(s);
  MailResult r = s->send(mail_to({"b@x.test"}));
  EXPECT_EQ(r.recipients[0].outcome, Outcome::kFailed);
  EXPECT_TRUE(r.reusable);
  s->quit();
  s.reset();
  EXPECT_EQ(server.received().find("body"), std::string::npos);  // the content was never sent
}

TEST(Session, HeloWhenEhloIsRefused) {
  ScriptedServer server({"220 mx.test", "502 5.5.1 no EHLO", "250 mx.test", "250 ok", "250 ok", "354 go",
                         "250 ok", "221 bye"});
  SessionError error;
  auto s = Session::open({"mx.test", "127.0.0.1", server.port()}, plain_options(), false, error);
  ASSERT_TRUE(s) << error.text;
  MailResult r = s->send(mail_to({"b@x.test"}));
  EXPECT_EQ(r.recipients[0].outcome, Outcome::kSent);
  s->quit();
  s.reset();
  EXPECT_NE(server.received().find("HELO relay.test\nMAIL FROM:<a@example.org>\n"), std::string::npos);
}

TEST(Session, RefusedGreetingIsPermanentForThatServer) {
  ScriptedServer server({"554 5.7.1 go away", "221 bye"});
  SessionError error;
  auto s = Session::open({"mx.test", "127.0.0.1", server.port()}, plain_options(), false, error);
  EXPECT_FALSE(s);
  EXPECT_TRUE(error.permanent);
  EXPECT_EQ(error.status, "5.7.1");
}

TEST(Session, HangupAfterRecipientsDefersThemAndAllowsTheNextServer) {
  ScriptedServer server({"220 mx.test", kEhloPipelining, "250 ok", "250 ok", ""});
  SessionError error;
  auto s = Session::open({"mx.test", "127.0.0.1", server.port()}, plain_options(), false, error);
  ASSERT_TRUE(s);
  MailResult r = s->send(mail_to({"b@x.test"}));
  EXPECT_EQ(r.recipients[0].outcome, Outcome::kDeferred);
  EXPECT_TRUE(r.try_elsewhere);
  EXPECT_FALSE(r.reusable);
  EXPECT_FALSE(s->reset());
}

TEST(Session, HangupAfterContentDefersWithoutTryingElsewhere) {
  ScriptedServer server({"220 mx.test", kEhloPipelining, "250 ok", "250 ok", "354 go", ""});
  SessionError error;
  auto s = Session::open({"mx.test", "127.0.0.1", server.port()}, plain_options(), false, error);
  ASSERT_TRUE(s);
  MailResult r = s->send(mail_to({"b@x.test"}));
  EXPECT_EQ(r.recipients[0].outcome, Outcome::kDeferred);
  EXPECT_FALSE(r.try_elsewhere);  // the server may have the message: no second copy now
}

TEST(Session, SizeLimitFailsBeforeSending) {
  ScriptedServer server({"220 mx.test", "250-mx.test\r\n250 SIZE 10", "221 bye"});
  SessionError error;
  auto s = Session::open({"mx.test", "127.0.0.1", server.port()}, plain_options(), false, error);
  ASSERT_TRUE(s);
  MailResult r = s->send(mail_to({"b@x.test"}));
  EXPECT_EQ(r.recipients[0].status, "5.3.4");
  s->quit();
  s.reset();
  EXPECT_EQ(server.received().find("MAIL"), std::string::npos);
}

}  // namespace
}  // namespace relay::smtp
