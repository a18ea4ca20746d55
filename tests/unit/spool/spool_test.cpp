#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <set>

#include "relay/spool.hpp"
#include "temp_dir.hpp"

using namespace relay;
namespace fs = std::filesystem;

namespace {

Envelope envelope_for(std::string sender, std::vector<std::string> rcpts) {
  Envelope e;
  e.sender = std::move(sender);
  for (auto& r : rcpts) {
    Recipient rc;
    rc.address = r;
    e.recipients.push_back(rc);
  }
  return e;
}

size_t count_files(const std::string& dir) {
  size_t n = 0;
  for ([[maybe_unused]] auto& e : fs::directory_iterator(dir)) ++n;
  return n;
}

class SpoolTest : public ::testing::Test {
 protected:
  void SetUp() override { Spool::create(dir.path() + "/spool"); }
  std::string root() const { return dir.path() + "/spool"; }
  TempDir dir;
};

}  // namespace

TEST_F(SpoolTest, DepositStoresMessageBytesExactly) {
  Spool spool(root());
  std::string message("From: a@b\r\n\r\nline\n\rbare\0nul\r\n.\r\n", 33);
  std::string id = spool.deposit(Stage::kIncoming, envelope_for("a@b", {"c@d"}), message);
  EXPECT_TRUE(valid_id(id));
  auto loaded = spool.load(Stage::kIncoming, id);
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->message, message);
  EXPECT_EQ(loaded->envelope.id, id);
  EXPECT_EQ(count_files(root() + "/tmp"), 0u);
}

TEST_F(SpoolTest, IdsAreUniqueAndSortByTime) {
  Spool spool(root());
  std::string a = spool.new_id({1000000000, 5});
  std::string b = spool.new_id({1000000000, 6});
  std::string c = spool.new_id({1000000001, 0});
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(seen.insert(spool.new_id({1, 1})).second);
}

TEST_F(SpoolTest, InvalidIdsAreRefused) {
  Spool spool(root());
  EXPECT_FALSE(valid_id("../etc/passwd"));
  EXPECT_FALSE(valid_id(".hidden"));
  EXPECT_FALSE(valid_id(""));
  EXPECT_FALSE(valid_id("a/b"));
  EXPECT_THROW(spool.claim(Stage::kOutgoing, "../x"), Failure);
}

TEST_F(SpoolTest, MissingSpoolIsTemporaryFailure) {
  try {
    Spool spool(dir.path() + "/nope");
    FAIL() << "opened a missing spool";
  } catch (const Failure& e) {
    EXPECT_EQ(e.code(), kExitTemporary);
  }
}

TEST_F(SpoolTest, ClaimFinishAndDeferredMtime) {
  Spool spool(root());
  std::string id = spool.deposit(Stage::kOutgoing, envelope_for("a@b", {"c@d", "e@f"}), "body");
  auto claim = spool.claim(Stage::kOutgoing, id);
  ASSERT_TRUE(claim);
  EXPECT_FALSE(spool.claim(Stage::kOutgoing, id)) << "a second claimer must lose";
  EXPECT_TRUE(fs::exists(root() + "/active/" + id + ":outgoing"));
  claim->envelope().recipients[0].state = RecipientState::kSent;
  claim->envelope().recipients[1].state = RecipientState::kDeferred;
  claim->rewrite_envelope(claim->envelope());
  claim->finish(Stage::kDeferred, 2000000000);
  auto entries = spool.list(Stage::kDeferred);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].mtime, 2000000000);
  auto loaded = spool.load(Stage::kDeferred, id);
  EXPECT_EQ(loaded->message, "body");
  EXPECT_EQ(loaded->envelope.recipients[0].state, RecipientState::kSent);
  EXPECT_EQ(loaded->envelope.pending_count(), 1u);
}

TEST_F(SpoolTest, DroppedClaimGoesBack) {
  Spool spool(root());
  std::string id = spool.deposit(Stage::kIncoming, envelope_for("a@b", {"c@d"}), "x");
  { auto claim = spool.claim(Stage::kIncoming, id); }
  EXPECT_TRUE(fs::exists(root() + "/incoming/" + id));
}

TEST_F(SpoolTest, FindMoveRemove) {
  Spool spool(root());
  std::string id = spool.deposit(Stage::kOutgoing, envelope_for("a@b", {"c@d"}), "x");
  EXPECT_EQ(spool.find(id)->stage, Stage::kOutgoing);
  EXPECT_TRUE(spool.move(Stage::kOutgoing, id, Stage::kHold));
  EXPECT_EQ(spool.find(id)->stage, Stage::kHold);
  EXPECT_FALSE(spool.move(Stage::kOutgoing, id, Stage::kHold));
  EXPECT_TRUE(spool.remove(Stage::kHold, id));
  EXPECT_FALSE(spool.find(id));
}

TEST_F(SpoolTest, CorruptEnvelopeIsParkedInHold) {
  Spool spool(root());
  std::ofstream(root() + "/outgoing/1.000000.1_0.x") << "garbage without envelope";
  EXPECT_THROW(spool.claim(Stage::kOutgoing, "1.000000.1_0.x"), Failure);
  EXPECT_TRUE(fs::exists(root() + "/hold/1.000000.1_0.x"));
}

// After a crash a file renamed before its data reached the disk can be short: the recorded
// size catches it, and such a file is parked in hold/, never delivered cut off.
TEST_F(SpoolTest, ShortFileIsRefusedAndParked) {
  Spool spool(root());
  std::string id = spool.deposit(Stage::kOutgoing, envelope_for("a@b", {"c@d"}), "0123456789");
  std::string path = root() + "/outgoing/" + id;
  fs::resize_file(path, fs::file_size(path) - 4);
  EXPECT_THROW(spool.load(Stage::kOutgoing, id), Failure);
  EXPECT_THROW(spool.claim(Stage::kOutgoing, id), Failure);
  EXPECT_TRUE(fs::exists(root() + "/hold/" + id));
}

TEST_F(SpoolTest, PortableSyncOrderWritesTheSameFiles) {
  setenv("RELAY_SPOOL_SYNC", "directory", 1);
  Spool spool(root());
  unsetenv("RELAY_SPOOL_SYNC");
  std::string id = spool.deposit(Stage::kIncoming, envelope_for("a@b", {"c@d"}), "body");
  auto claim = spool.claim(Stage::kIncoming, id);
  ASSERT_TRUE(claim);
  claim->rewrite(claim->envelope(), "new body");
  claim->finish(Stage::kOutgoing);
  EXPECT_EQ(spool.load(Stage::kOutgoing, id)->message, "new body");
}

TEST_F(SpoolTest, StreamedWriterCommitsOrLeavesNothing) {
  Spool spool(root());
  {
    Spool::Writer w(spool, envelope_for("a@b", {"c@d"}));
    w.write(std::string(100000, 'x'));
    EXPECT_EQ(count_files(root() + "/tmp"), 1u);
  }  // destroyed without commit
  EXPECT_EQ(count_files(root() + "/tmp"), 0u);
  EXPECT_EQ(count_files(root() + "/incoming"), 0u);
  Spool::Writer w(spool, envelope_for("a@b", {"c@d"}));
  for (int i = 0; i < 30; ++i) w.write(std::string(10000, static_cast<char>('a' + i % 26)));
  w.commit(Stage::kIncoming);
  auto loaded = spool.load(Stage::kIncoming, w.id());
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->envelope.size, 300000u);
  EXPECT_EQ(loaded->message.size(), 300000u);
  EXPECT_EQ(loaded->message[10000], 'b');
}

TEST_F(SpoolTest, LeaseRecoveryPutsBackOnlyAbandonedClaims) {
  Spool spool(root());
  std::string abandoned = spool.deposit(Stage::kOutgoing, envelope_for("a@b", {"c@d"}), "x");
  std::string held = spool.deposit(Stage::kDeferred, envelope_for("a@b", {"c@d"}), "y");
  pid_t child = fork();
  if (child == 0) {
    Spool s(root());
    auto c = s.claim(Stage::kOutgoing, abandoned);
    _exit(c ? 0 : 1);  // dies holding the claim, as a crashed deliverer would
  }
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_EQ(WEXITSTATUS(status), 0);
  auto live = spool.claim(Stage::kDeferred, held);
  ASSERT_TRUE(live);
  int64_t later = Clock().seconds() + 3600;
  EXPECT_EQ(spool.recover_leases(Clock().seconds() - 3600, 600), 0) << "lease not yet expired";
  EXPECT_EQ(spool.recover_leases(later, 600), 1);
  EXPECT_TRUE(fs::exists(root() + "/outgoing/" + abandoned));
  EXPECT_TRUE(fs::exists(root() + "/active/" + held + ":deferred")) << "a live claim must stay";
}

TEST_F(SpoolTest, PurgeTmpSkipsFilesBeingWritten) {
  Spool spool(root());
  std::ofstream(root() + "/tmp/stale") << "half";
  Spool::Writer w(spool, envelope_for("a@b", {"c@d"}));
  w.write(std::string(128 << 10, 'x'));  // more than the writer buffers: the file exists, locked
  EXPECT_EQ(spool.purge_tmp(Clock().seconds() + 86400 * 3, 36 * 3600), 1);
  EXPECT_FALSE(fs::exists(root() + "/tmp/stale"));
  EXPECT_TRUE(fs::exists(root() + "/tmp/" + w.id()));
}

// 100 messages, 4 processes claiming all of them at once: each message is won exactly once.
TEST_F(SpoolTest, ConcurrentClaimersInSeparateProcessesWinEachMessageOnce) {
  constexpr int kMessages = 100, kProcesses = 4;
  {
    Spool spool(root());
    for (int i = 0; i < kMessages; ++i)
      spool.deposit(Stage::kOutgoing, envelope_for("a@b", {"rcpt" + std::to_string(i) + "@d"}), "m");
  }
  std::string log_dir = dir.path() + "/wins";
  fs::create_directory(log_dir);
  std::vector<pid_t> children;
  for (int p = 0; p < kProcesses; ++p) {
    pid_t child = fork();
    if (child == 0) {
      Spool spool(root());
      std::ofstream wins(log_dir + "/" + std::to_string(p));
      for (int round = 0; round < 3; ++round) {
        for (const auto& e : spool.list(Stage::kOutgoing)) {
          auto claim = spool.claim(Stage::kOutgoing, e.id);
          if (!claim) continue;
          wins << e.id << "\n";
          claim->finish(Stage::kSent);
        }
      }
      wins.close();  // _exit skips destructors
      _exit(0);
    }
    children.push_back(child);
  }
  for (pid_t c : children) waitpid(c, nullptr, 0);
  std::multiset<std::string> won;
  for (int p = 0; p < kProcesses; ++p) {
    std::ifstream in(log_dir + "/" + std::to_string(p));
    for (std::string id; std::getline(in, id);) won.insert(id);
  }
  EXPECT_EQ(won.size(), static_cast<size_t>(kMessages));
  EXPECT_EQ(std::set<std::string>(won.begin(), won.end()).size(), static_cast<size_t>(kMessages));
  EXPECT_EQ(count_files(root() + "/sent"), static_cast<size_t>(kMessages));
  EXPECT_EQ(count_files(root() + "/active"), 0u);
}

// A writer killed with SIGKILL at random points never leaves a partial message in a stage:
// every file in incoming/ is complete, the rest is in tmp/ (for purge_tmp).
TEST_F(SpoolTest, WriterKilledAtRandomPointsLeavesNoPartialMessage) {
  std::mt19937 rng(12345);
  std::string message(200000, 'm');
  for (int round = 0; round < 20; ++round) {
    pid_t child = fork();
    if (child == 0) {
      Spool spool(root());
      for (;;) spool.deposit(Stage::kIncoming, envelope_for("a@b", {"c@d"}), message);
    }
    usleep(std::uniform_int_distribution<int>(1000, 20000)(rng));
    kill(child, SIGKILL);
    waitpid(child, nullptr, 0);
  }
  Spool spool(root());
  size_t complete = 0;
  for (const auto& e : spool.list(Stage::kIncoming)) {
    auto loaded = spool.load(Stage::kIncoming, e.id);
    ASSERT_TRUE(loaded);
    ASSERT_EQ(loaded->message, message) << e.id << " is partial";
    ++complete;
  }
  EXPECT_GT(complete, 0u);
  spool.purge_tmp(Clock().seconds() + 86400 * 2, 36 * 3600);
  EXPECT_EQ(count_files(root() + "/tmp"), 0u);
}

// The new message given whole, or as a prefix before the claimed one (a large one is not
// read before the prefix needs it).
TEST_F(SpoolTest, FinishWithNewMessageReplacesAndMovesInBothSyncOrders) {
  const std::string large(300000, 'x');
  for (bool portable : {false, true}) {
    for (const std::string& body : {std::string("body"), large}) {
      for (bool prepended : {false, true}) {
        if (portable) setenv("RELAY_SPOOL_SYNC", "directory", 1);
        Spool spool(root());
        unsetenv("RELAY_SPOOL_SYNC");
        std::string id = spool.deposit(Stage::kIncoming, envelope_for("a@b", {"c@d"}), body);
        auto claim = spool.claim(Stage::kIncoming, id);
        ASSERT_TRUE(claim);
        if (prepended)
          claim->finish_prepended(Stage::kOutgoing, "DKIM-Signature: x\r\n");
        else
          claim->finish(Stage::kOutgoing, claim->envelope(), "DKIM-Signature: x\r\n" + body);
        auto loaded = spool.load(Stage::kOutgoing, id);
        ASSERT_TRUE(loaded) << "portable=" << portable << " prepended=" << prepended;
        EXPECT_EQ(loaded->message, "DKIM-Signature: x\r\n" + body);
        EXPECT_EQ(loaded->envelope.size, loaded->message.size());
        EXPECT_EQ(loaded->envelope.recipients.at(0).address, "c@d");
        EXPECT_EQ(count_files(root() + "/active"), 0u);
        EXPECT_EQ(count_files(root() + "/tmp"), 0u);
        EXPECT_EQ(count_files(root() + "/incoming"), 0u);
        spool.remove(Stage::kOutgoing, id);
      }
    }
  }
}

// A claimer killed while writing its replacement leaves tmp/ID.rewrite behind; the next
// claimer of the message replaces that file instead of failing on it.
TEST_F(SpoolTest, RewriteLeftByDeadClaimerDoesNotBlockTheMessage) {
  Spool spool(root());
  std::string id = spool.deposit(Stage::kIncoming, envelope_for("a@b", {"c@d"}), "body");
  std::ofstream(root() + "/tmp/" + id + ".rewrite") << "half a message";
  auto claim = spool.claim(Stage::kIncoming, id);
  ASSERT_TRUE(claim);
  claim->finish(Stage::kOutgoing, claim->envelope(), "new body");
  EXPECT_EQ(spool.load(Stage::kOutgoing, id)->message, "new body");
  EXPECT_EQ(count_files(root() + "/tmp"), 0u);
}

// A claim reads a small file whole; a large one's message is read when asked for.
TEST_F(SpoolTest, ClaimReadsSmallAndLargeMessagesExactly) {
  Spool spool(root());
  for (size_t size : {size_t{0}, size_t{10}, size_t{10240}, size_t{300000}}) {
    std::string message(size, 'x');
    for (size_t i = 0; i < size; i += 77) message[i] = '\n';
    std::string id = spool.deposit(Stage::kIncoming, envelope_for("a@b", {"c@d"}), message);
    auto claim = spool.claim(Stage::kIncoming, id);
    ASSERT_TRUE(claim);
    EXPECT_EQ(claim->message(), message) << size;
    EXPECT_EQ(claim->envelope().recipients.at(0).address, "c@d");
    claim->remove();
  }
}

// A filter stage killed with SIGKILL at random points (claim, replace, move) never loses or
// duplicates a message: after lease recovery each one is in exactly one stage, whole, either
// as it was or as the filter rewrote it.
TEST_F(SpoolTest, StageKilledWhileReplacingNeitherLosesNorDuplicates) {
  constexpr int kMessages = 300;
  const std::string original(5000, 'o'), filtered = "X-Filtered: yes\r\n" + std::string(5000, 'o');
  std::set<std::string> ids;
  {
    Spool spool(root());
    for (int i = 0; i < kMessages; ++i) ids.insert(spool.deposit(Stage::kIncoming, envelope_for("a@b", {"c@d"}), original));
  }
  std::mt19937 rng(54321);
  for (int round = 0; round < 15; ++round) {
    pid_t child = fork();
    if (child == 0) {
      try {
        Spool spool(root());
        for (const auto& e : spool.list(Stage::kIncoming)) {
          auto claim = spool.claim(Stage::kIncoming, e.id);
          if (claim) claim->finish(Stage::kOutgoing, claim->envelope(), filtered);
        }
      } catch (...) {
        _exit(2);  // e.g. a rewrite file left by the previous round's victim refused
      }
      _exit(0);
    }
    usleep(std::uniform_int_distribution<int>(200, 3000)(rng));
    kill(child, SIGKILL);
    int status = 0;
    waitpid(child, &status, 0);
    ASSERT_FALSE(WIFEXITED(status) && WEXITSTATUS(status) == 2) << "the stage failed in round " << round;
    Spool spool(root());
    spool.recover_leases(Clock().seconds() + 3600, 600);
  }
  Spool spool(root());
  std::set<std::string> seen;
  for (Stage stage : {Stage::kIncoming, Stage::kOutgoing, Stage::kActive, Stage::kHold}) {
    for (const auto& e : spool.list(stage)) {
      ASSERT_NE(stage, Stage::kActive) << e.id << " left in active/";
      ASSERT_NE(stage, Stage::kHold) << e.id << " parked in hold/";
      auto loaded = spool.load(stage, e.id);
      ASSERT_TRUE(loaded);
      EXPECT_TRUE(loaded->message == filtered || (stage == Stage::kIncoming && loaded->message == original)) << e.id;
      EXPECT_TRUE(seen.insert(e.id).second) << e.id << " is in two stages";
    }
  }
  EXPECT_EQ(seen, ids);
}
