#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "policy_test_util.hpp"
#include "relay/exit_codes.hpp"

using namespace relay::policy;
using policy_test::data_request;
using policy_test::TempDir;

namespace {

constexpr int64_t kT0 = 1764395000;

Policy make_policy(const std::string& file, int64_t now = kT0) {
  return Policy(Options{.policy_file = file, .clock = relay::Clock(now)});
}

Request mail(std::string user, std::string sender, uint64_t size = 0) {
  Request r;
  r.stage = Stage::kMail;
  r.user = std::move(user);
  r.sender = std::move(sender);
  r.size = size;
  return r;
}

Request rcpt(std::string user, std::string recipient, size_t count = 1) {
  Request r;
  r.stage = Stage::kRcpt;
  r.user = std::move(user);
  r.sender = "a@alice.example";
  r.recipient = std::move(recipient);
  r.recipient_count = count;
  return r;
}

const char* const kRules = R"(
[defaults]
sender-domains = none
max-size = 1K
max-recipients = 3
[user alice]
sender-domains = alice.example *.alice.example
from-domains = alice.example
align = relaxed
user-messages = 2/minute
[user strict]
sender-domains = *
align = strict
[user trial]
sender-domains = trial.example
hold = yes
[network 192.0.2.0/24]
sender-domains = net.example
)";

TEST(PolicyCheck, SenderDomains) {
  TempDir dir;
  Policy p = make_policy(dir.policy(kRules));
  EXPECT_EQ(p.check(mail("alice", "a@alice.example")).action, Action::kAccept);
  EXPECT_EQ(p.check(mail("alice", "a@bounce.alice.example")).action, Action::kAccept);
  Verdict v = p.check(mail("alice", "a@other.example"));
  EXPECT_EQ(v.reply(), "550 5.7.1 sender domain other.example is not allowed for user alice");
  EXPECT_EQ(v.exit_code(), relay::kExitPermanent);
  EXPECT_EQ(p.check(mail("alice", "")).action, Action::kAccept);  // the null sender is not checked
  EXPECT_EQ(p.check(mail("nobody", "a@alice.example")).action, Action::kReject);
  Request from_net = mail("", "x@net.example");
  from_net.client_ip = "192.0.2.9";
  EXPECT_EQ(p.check(from_net).action, Action::kAccept);
  from_net.client_ip = "198.51.100.1";
  EXPECT_EQ(p.check(from_net).action, Action::kReject);
}

TEST(PolicyCheck, SizeAndRecipients) {
  TempDir dir;
  Policy p = make_policy(dir.policy(kRules));
  EXPECT_EQ(p.check(mail("alice", "a@alice.example", 1024)).action, Action::kAccept);
  EXPECT_EQ(p.check(mail("alice", "a@alice.example", 1025)).reply(),
            "552 5.3.4 message size 1025 exceeds the limit of 1024 bytes");
  EXPECT_EQ(p.check(rcpt("alice", "r@dest.example", 3)).action, Action::kAccept);
  Verdict v = p.check(rcpt("alice", "r@dest.example", 4));
  EXPECT_EQ(v.code, 452);
  EXPECT_EQ(v.status, "4.5.3");
  Verdict whole = p.check_message(data_request("alice", "a@alice.example", "alice.example",
                                               {"1@d.example", "2@d.example", "3@d.example", "4@d.example"}));
  EXPECT_EQ(whole.reply(), "550 5.5.3 too many recipients (4), at most 3 per message");
}

TEST(PolicyCheck, FromDomainsAndAlignment) {
  TempDir dir;
  Policy p = make_policy(dir.policy(kRules));
  EXPECT_EQ(p.check(data_request("alice", "b@bounce.alice.example", "alice.example", {"r@d.example"})).action,
            Action::kAccept);  // relaxed: same organizational domain
  EXPECT_EQ(p.check(data_request("alice", "b@alice.example", "sub.alice.example", {"r@d.example"})).rule,
            "from-domains");
  EXPECT_EQ(p.check(data_request("alice", "b@alice.example", "", {"r@d.example"})).text, "message has no From address");
  EXPECT_EQ(p.check(data_request("strict", "b@bounce.s.example", "s.example", {"r@d.example"})).reply(),
            "550 5.7.1 sender domain bounce.s.example does not align with From domain s.example (strict)");
  EXPECT_EQ(p.check(data_request("strict", "b@s.example", "S.example", {"r@d.example"})).action, Action::kAccept);
  Request unseen = data_request("alice", "b@alice.example", "", {"r@d.example"});
  unseen.headers_seen = false;
  EXPECT_EQ(p.check(unseen).action, Action::kAccept);
}

TEST(PolicyCheck, Hold) {
  TempDir dir;
  Policy p = make_policy(dir.policy(kRules));
  Verdict v = p.check_message(data_request("trial", "t@trial.example", "trial.example", {"r@d.example"}));
  EXPECT_EQ(v.action, Action::kHold);
  EXPECT_TRUE(v.accepted());
  EXPECT_EQ(v.exit_code(), relay::kExitPermanent);
}

TEST(PolicyCheck, RateLimitDefersAndRollsOverWithTheClock) {
  TempDir dir;
  std::string file = dir.policy(kRules);
  auto message = data_request("alice", "a@alice.example", "alice.example", {"r@d.example"});
  {
    Policy p = make_policy(file);
    EXPECT_EQ(p.check(message).action, Action::kAccept);
    EXPECT_EQ(p.check(message).action, Action::kAccept);
    Verdict v = p.check(message);
    EXPECT_EQ(v.reply(), "451 4.7.1 rate limit user-messages 2/minute reached for user alice, try again in 30 seconds");
    EXPECT_EQ(v.retry_after, 30);
    EXPECT_EQ(v.exit_code(), relay::kExitTemporary);
    EXPECT_EQ(p.check(mail("alice", "a@alice.example")).code, 451);  // MAIL sees the full window
  }
  // Another Policy (another process) shares the store; 30 s later one message has room again.
  Policy later = make_policy(file, kT0 + 30);
  EXPECT_EQ(later.check(message).action, Action::kAccept);
  EXPECT_EQ(later.check(message).action, Action::kDefer);
  Policy next_minute = make_policy(file, kT0 + 91);
  EXPECT_EQ(next_minute.check(message).action, Action::kAccept);
  EXPECT_EQ(next_minute.check(message).action, Action::kAccept);
  EXPECT_EQ(next_minute.check(message).action, Action::kDefer);
}

TEST(PolicyCheck, EveryScopeAndUnitCounts) {
  TempDir dir;
  std::string file = dir.policy(R"(
[defaults]
sender-domains = *
client-messages = 1/hour
[user u1]
sender-domain-recipients = 3/hour
[user u2]
recipient-domain-messages = 1/hour
[user u3]
recipient-domain-recipients = 2/hour
[user u4]
user-recipients = 2/hour
)");
  Policy p = make_policy(file);
  auto msg = [](std::string user, std::vector<std::string> rcpts, std::string ip = "") {
    auto r = data_request(std::move(user), "s@" + (ip.empty() ? std::string("one.example") : "ip.example"),
                          ip.empty() ? "one.example" : "ip.example", std::move(rcpts));
    r.client_ip = ip;
    return r;
  };
  EXPECT_EQ(p.check(msg("", {"a@x.example"}, "203.0.113.5")).action, Action::kAccept);
  EXPECT_EQ(p.check(msg("", {"a@x.example"}, "203.0.113.5")).rule, "client-messages 1/hour");
  EXPECT_EQ(p.check(msg("", {"a@x.example"}, "203.0.113.6")).action, Action::kAccept);
  EXPECT_EQ(p.check(msg("u1", {"a@x.example", "b@y.example"})).action, Action::kAccept);
  EXPECT_EQ(p.check(msg("u1", {"a@x.example", "b@y.example"})).rule, "sender-domain-recipients 3/hour");
  EXPECT_EQ(p.check(msg("u1", {"a@x.example"})).action, Action::kAccept);
  EXPECT_EQ(p.check(msg("u2", {"a@x.example", "b@x.example"})).action, Action::kAccept);
  EXPECT_EQ(p.check(msg("u2", {"a@z.example"})).action, Action::kAccept);
  EXPECT_EQ(p.check(msg("u2", {"c@x.example"})).rule, "recipient-domain-messages 1/hour");
  EXPECT_EQ(p.check(msg("u3", {"a@w.example", "b@w.example", "c@w.example"})).reply(),
            "550 5.7.1 message has 3 recipients, more than recipient-domain-recipients 2/hour allows for recipient domain w.example");
  EXPECT_EQ(p.check(msg("u4", {"a@v.example", "b@v.example"})).action, Action::kAccept);
  Verdict v = p.check(rcpt("u4", "c@v.example"));
  EXPECT_EQ(v.rule, "user-recipients 2/hour");  // RCPT already sees the full window
}

TEST(PolicyCheck, SuppressedRecipientIsRefusedAtRcpt) {
  TempDir dir;
  Policy p = make_policy(dir.policy(kRules));
  auto store = LmdbStore::open(dir.store());
  store->add({{"gone@d.example", "hard bounce 5.1.1", kT0 - 86400, 0},
              {"blocked.example", "complaint", kT0 - 10, 0},
              {"old@d.example", "soft", kT0 - 100, kT0 - 1}});
  Verdict v = p.check(rcpt("alice", "Gone@d.example"));
  EXPECT_EQ(v.reply(),
            "550 5.7.1 recipient <Gone@d.example> is on the suppression list (hard bounce 5.1.1, since "
            "2025-11-28T05:43:20Z); not sending");
  EXPECT_EQ(p.check(rcpt("alice", "anyone@blocked.example")).code, 550);
  EXPECT_EQ(p.check(rcpt("alice", "old@d.example")).action, Action::kAccept);  // expired
  EXPECT_EQ(p.check(rcpt("alice", "other@d.example")).action, Action::kAccept);
  EXPECT_EQ(store->remove({"gone@d.example", "never@d.example"}), 1u);
  EXPECT_EQ(p.check(rcpt("alice", "gone@d.example")).action, Action::kAccept);
}

TEST(PolicyCheck, MissingOrCorruptStoreFailsClosed) {
  TempDir dir;
  std::string file = dir.policy(kRules, false);
  auto message = data_request("alice", "a@alice.example", "alice.example", {"r@d.example"});
  Policy closed = make_policy(file);
  EXPECT_EQ(closed.check(message).reply(), "451 4.3.0 policy store unavailable, try again later");
  EXPECT_EQ(closed.check(rcpt("alice", "r@d.example")).code, 451);
  Policy open(Options{.policy_file = file, .fail_open = true, .clock = relay::Clock(kT0)});
  EXPECT_EQ(open.check(message).action, Action::kAccept);

  LmdbStore::create(dir.store(), false, policy_test::kStoreSize);
  std::ofstream(dir.store() + "/data.mdb", std::ios::trunc) << std::string(8192, 'x');
  Policy corrupt = make_policy(file);
  EXPECT_EQ(corrupt.check(message).code, 451);
  LmdbStore::create(dir.store(), true, policy_test::kStoreSize);
  Policy repaired = make_policy(file);
  EXPECT_EQ(repaired.check(message).action, Action::kAccept);
}

TEST(PolicyCheck, ReloadKeepsOldRulesOnError) {
  TempDir dir;
  std::string file = dir.policy(kRules);
  Policy p = make_policy(file);
  std::ofstream(file, std::ios::trunc) << "store = " << dir.store() << "\n[defaults]\nbad-setting = 1\n";
  EXPECT_THROW(p.reload(), relay::Failure);
  EXPECT_EQ(p.check(mail("alice", "a@alice.example")).action, Action::kAccept);
  std::ofstream(file, std::ios::trunc) << "store = " << dir.store() << "\n[defaults]\nsender-domains = *\n";
  p.reload();
  EXPECT_EQ(p.check(mail("alice", "a@elsewhere.example")).action, Action::kAccept);
}

TEST(PolicyCheck, ForkedChildUsesItsOwnStoreHandle) {
  TempDir dir;
  Policy p = make_policy(dir.policy(kRules));
  auto message = data_request("alice", "a@alice.example", "alice.example", {"r@d.example"});
  ASSERT_EQ(p.check(message).action, Action::kAccept);
  pid_t pid = ::fork();
  if (pid == 0) _exit(p.check(message).action == Action::kAccept ? 0 : 1);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(p.check(message).action, Action::kDefer);  // the child's message counted
}

}  // namespace

namespace {

TEST(PolicyStore, PurgeDropsIdleCountersAndExpiredEntries) {
  TempDir dir;
  LmdbStore::create(dir.store(), false, policy_test::kStoreSize);
  auto store = LmdbStore::open(dir.store());
  std::vector<Counter> counters = {{"u/m/60/a", 10, 60, 1}, {"u/m/86400/a", 10, 86400, 1}};
  ASSERT_TRUE(store->take(counters, kT0 * kNanos, true).allowed);
  store->add({{"x@d.example", "r", kT0, kT0 + 100}, {"y@d.example", "r", kT0, 0}});
  auto [idle, expired] = store->purge(kT0 + 3600);
  EXPECT_EQ(idle, 1u);     // the minute window is empty again; the day window is not
  EXPECT_EQ(expired, 1u);
  EXPECT_EQ(store->read({"u/m/60/a", "u/m/86400/a"})[0], 0);
  EXPECT_GT(store->read({"u/m/60/a", "u/m/86400/a"})[1], 0);
  ASSERT_EQ(store->list().size(), 1u);
  EXPECT_EQ(store->list()[0].entry, "y@d.example");
}

TEST(PolicyStore, TakeIsAllOrNothing) {
  TempDir dir;
  LmdbStore::create(dir.store(), false, policy_test::kStoreSize);
  auto store = LmdbStore::open(dir.store());
  std::vector<Counter> wide = {{"a", 10, 60, 1}, {"b", 1, 60, 1}};
  ASSERT_TRUE(store->take(wide, kT0 * kNanos, true).allowed);
  TakeResult second = store->take(wide, kT0 * kNanos, true);
  EXPECT_FALSE(second.allowed);
  EXPECT_EQ(second.refused, 1u);
  // "a" was not charged for the refused take: 9 more fit.
  for (int i = 0; i < 9; ++i) EXPECT_TRUE(store->take({{"a", 10, 60, 1}}, kT0 * kNanos, true).allowed);
  EXPECT_FALSE(store->take({{"a", 10, 60, 1}}, kT0 * kNanos, true).allowed);
  EXPECT_FALSE(store->take({{"b", 1, 60, 1}}, kT0 * kNanos, false).allowed);  // looking sees it full too
}

TEST(PolicyCheck, ClientAddressSpellingsShareACounter) {
  TempDir dir;
  Policy p = make_policy(dir.policy("[defaults]\nsender-domains = *\nclient-messages = 1/hour\n"));
  auto message = data_request("", "a@x.example", "x.example", {"r@d.example"});
  message.client_ip = "::ffff:192.0.2.1";
  EXPECT_EQ(p.check(message).action, Action::kAccept);
  message.client_ip = "192.0.2.1";
  EXPECT_EQ(p.check(message).action, Action::kDefer);
  message.client_ip = "2001:db8:0::1";
  EXPECT_EQ(p.check(message).action, Action::kAccept);
  message.client_ip = "2001:DB8::1";
  EXPECT_EQ(p.check(message).action, Action::kDefer);
}

}  // namespace
