// The intake journal's records and the recovery of a dead process's journal.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "../spool/temp_dir.hpp"
#include "journal_record.hpp"
#include "journal_recovery.hpp"
#include "relay/envelope.hpp"
#include "relay/spool.hpp"

using namespace smtp_listen;
namespace fs = std::filesystem;

namespace {

class JournalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    relay::Spool::create(dir.path() + "/spool");
    spool = std::make_unique<relay::Spool>(dir.path() + "/spool");
  }

  // A spool file as smtp-listen writes it: envelope, empty line, message.
  std::string spool_file(const std::string& id, const std::string& message) {
    relay::Envelope envelope;
    envelope.id = id;
    envelope.sender = "a@example.org";
    envelope.arrival = 1795900000;
    envelope.size = message.size();
    relay::Recipient rcpt;
    rcpt.address = "b@example.test";
    envelope.recipients.push_back(rcpt);
    return relay::serialize(envelope) + message;
  }

  std::string id(int n) { return "1795900000.00000" + std::to_string(n) + ".4242_" + std::to_string(n) + ".host"; }

  std::string read(relay::Stage stage, const std::string& name) {
    std::ifstream in(spool->path(stage, name), std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    return bytes.str();
  }

  void write(relay::Stage stage, const std::string& name, const std::string& bytes) {
    std::ofstream(spool->path(stage, name), std::ios::binary) << bytes;
  }

  std::vector<std::string> names(relay::Stage stage) {
    std::vector<std::string> found;
    for (auto& entry : fs::directory_iterator(spool->path(stage, ""))) found.push_back(entry.path().filename());
    std::sort(found.begin(), found.end());
    return found;
  }

  // Recovers a journal holding bytes, as a start after a crash does; the file keeps what
  // recovery appended.
  RecoveryCount recover(const std::string& bytes) {
    std::string path = dir.path() + "/journal";
    if (!fs::exists(path)) std::ofstream(path, std::ios::binary) << bytes;
    int fd = ::open(path.c_str(), O_RDWR);
    std::ifstream in(path, std::ios::binary);
    std::stringstream content;
    content << in.rdbuf();
    RecoveryCount count = recover_journal(*spool, fd, content.str());
    ::close(fd);
    return count;
  }

  TempDir dir;
  std::unique_ptr<relay::Spool> spool;
};

TEST_F(JournalTest, RecordsReadBackInOrder) {
  std::string bytes;
  journal::append_message(bytes, 7, relay::Stage::kHold, id(1), spool_file(id(1), "file one"));
  journal::append_message(bytes, 8, relay::Stage::kIncoming, id(2), spool_file(id(2), std::string(100000, 'x')));
  journal::append_published(bytes, 9, 8);
  std::string padded = bytes + std::string(4096, '\0');  // the zeros the journal was made of
  auto chain = journal::read_chain(padded).records;
  ASSERT_EQ(chain.size(), 3u);
  EXPECT_EQ(chain[0].seq, 7u);
  EXPECT_EQ(chain[0].stage, relay::Stage::kHold);
  EXPECT_EQ(chain[0].id, id(1));
  EXPECT_EQ(chain[0].file, spool_file(id(1), "file one"));
  EXPECT_EQ(chain[1].file, spool_file(id(2), std::string(100000, 'x')));
  EXPECT_EQ(chain[2].type, journal::RecordType::kPublished);
  EXPECT_EQ(chain[2].published_up_to, 8u);
}

TEST_F(JournalTest, ChainEndsAtATornRecord) {
  std::string bytes;
  journal::append_message(bytes, 1, relay::Stage::kIncoming, id(1), spool_file(id(1), "first"));
  size_t second = bytes.size();
  journal::append_message(bytes, 2, relay::Stage::kIncoming, id(2), spool_file(id(2), "second message"));
  bytes[bytes.size() - 3] ^= 0x20;  // a payload byte that never reached the disk
  auto chain = journal::read_chain(bytes).records;
  ASSERT_EQ(chain.size(), 1u);
  EXPECT_EQ(chain[0].id, id(1));
  EXPECT_EQ(journal::read_chain(bytes.substr(0, second + 20)).records.size(), 1u);  // cut inside the header
}

TEST_F(JournalTest, ChainEndsWhereAnEarlierPassBegins) {
  // An earlier pass wrote records 1..3; this pass wrote 10 over the start of them.
  std::string old_pass;
  journal::append_message(old_pass, 1, relay::Stage::kIncoming, id(1), spool_file(id(1), "a"));
  journal::append_message(old_pass, 2, relay::Stage::kIncoming, id(2), spool_file(id(2), "b"));
  journal::append_message(old_pass, 3, relay::Stage::kIncoming, id(3), spool_file(id(3), "c"));
  std::string this_pass;
  journal::append_message(this_pass, 10, relay::Stage::kIncoming, id(4), spool_file(id(4), "d"));
  ASSERT_LT(this_pass.size(), old_pass.size());
  std::string bytes = this_pass + old_pass.substr(this_pass.size());
  auto chain = journal::read_chain(bytes).records;
  ASSERT_EQ(chain.size(), 1u);
  EXPECT_EQ(chain[0].id, id(4));
}

TEST_F(JournalTest, UnpublishedMessagesAreWrittenAgainFromTheJournal) {
  std::string first = spool_file(id(1), "Subject: one\r\n\r\nbody\r\n");
  std::string second = spool_file(id(2), "Subject: two\r\n\r\n");
  std::string bytes;
  journal::append_message(bytes, 1, relay::Stage::kIncoming, id(1), first);
  journal::append_message(bytes, 2, relay::Stage::kHold, id(2), second);
  write(relay::Stage::kTmp, id(1), first.substr(0, 20));  // the crash cut it short in tmp/

  RecoveryCount count = recover(bytes);
  EXPECT_EQ(count.rewritten, 2);
  EXPECT_EQ(count.published, 0);
  EXPECT_TRUE(names(relay::Stage::kTmp).empty());
  EXPECT_EQ(read(relay::Stage::kIncoming, id(1)), first);
  EXPECT_EQ(read(relay::Stage::kHold, id(2)), second);
}

TEST_F(JournalTest, PublishedMessagesAreMovedFromTmpAndNeverWrittenTwice) {
  std::string first = spool_file(id(1), "one\r\n");
  std::string second = spool_file(id(2), "two\r\n");
  std::string bytes;
  journal::append_message(bytes, 1, relay::Stage::kIncoming, id(1), first);
  journal::append_message(bytes, 2, relay::Stage::kIncoming, id(2), second);
  journal::append_published(bytes, 3, 2);
  write(relay::Stage::kTmp, id(1), first);  // not renamed before the crash
  // id(2) was renamed, handled downstream and is gone: it must not come back.

  RecoveryCount count = recover(bytes);
  EXPECT_EQ(count.published, 1);
  EXPECT_EQ(count.rewritten, 0);
  EXPECT_EQ(names(relay::Stage::kIncoming), std::vector<std::string>{id(1)});
  EXPECT_EQ(read(relay::Stage::kIncoming, id(1)), first);
}

TEST_F(JournalTest, AMessageAlreadyInAStageIsLeftAlone) {
  std::string first = spool_file(id(1), "one\r\n");
  std::string bytes;
  journal::append_message(bytes, 1, relay::Stage::kIncoming, id(1), first);
  write(relay::Stage::kOutgoing, id(1), first);

  RecoveryCount count = recover(bytes);
  EXPECT_EQ(count.rewritten + count.published, 0);
  EXPECT_TRUE(names(relay::Stage::kIncoming).empty());
}

TEST_F(JournalTest, RecordsForAnotherStageOrIdEndTheChain) {
  // Message bytes a client wrote into the journal must never pass for a record that puts
  // mail straight into outgoing/, or under another id.
  std::string bytes;
  journal::append_message(bytes, 1, relay::Stage::kIncoming, id(1), spool_file(id(1), "one"));
  std::string outgoing = bytes;
  journal::append_message(outgoing, 2, relay::Stage::kOutgoing, id(2), spool_file(id(2), "two"));
  EXPECT_EQ(journal::read_chain(outgoing).records.size(), 1u);
  std::string other_id = bytes;
  journal::append_message(other_id, 2, relay::Stage::kIncoming, id(2), spool_file(id(3), "three"));
  EXPECT_EQ(journal::read_chain(other_id).records.size(), 1u);
}

TEST_F(JournalTest, AnInterruptedRecoveryNeverWritesAMessageTwice) {
  std::string first = spool_file(id(1), "one\r\n");
  std::string bytes;
  journal::append_message(bytes, 1, relay::Stage::kIncoming, id(1), first);
  EXPECT_EQ(recover(bytes).rewritten, 1);
  // The first recovery was killed before it removed the journal; the message was delivered
  // and removed meanwhile. A second recovery must not bring it back.
  fs::remove(spool->path(relay::Stage::kIncoming, id(1)));
  RecoveryCount again = recover(bytes);
  EXPECT_EQ(again.rewritten + again.published, 0);
  EXPECT_TRUE(names(relay::Stage::kIncoming).empty());
}

TEST_F(JournalTest, AMessageLinkedBeforeTheCrashIsNotLinkedTwice) {
  std::string first = spool_file(id(1), "one\r\n");
  std::string bytes;
  journal::append_message(bytes, 1, relay::Stage::kIncoming, id(1), first);
  journal::append_published(bytes, 2, 1);
  write(relay::Stage::kTmp, id(1), first);
  fs::create_hard_link(spool->path(relay::Stage::kTmp, id(1)), spool->path(relay::Stage::kDeferred, id(1)));
  recover(bytes);
  EXPECT_TRUE(names(relay::Stage::kTmp).empty());
  EXPECT_TRUE(names(relay::Stage::kIncoming).empty());
  EXPECT_EQ(names(relay::Stage::kDeferred), std::vector<std::string>{id(1)});
}

}  // namespace
