#pragma once
// Moving journaled messages from tmp/ into their stages, for the live publisher and for the
// recovery of a dead smtp-listen's journal (smtp-listen(8), INTAKE JOURNAL).
#include <string>
#include <string_view>
#include <vector>

#include "relay/spool.hpp"

namespace smtp_listen {

struct Journaled {
  std::string id;
  relay::Stage stage;
};

// Links each tmp/ID into its stage, syncs those stages, then removes the tmp/ names and
// syncs tmp/. A crash at any point leaves each message in tmp/, in its stage, or in both as
// one file, never in neither; ext4 without a journal included. after_crash: a stage may
// hold some of them already (linked before the crash, maybe moved on since), and those are
// not linked again. Returns the ids whose tmp/ file was missing. Throws relay::Failure.
std::vector<std::string> publish_from_tmp(const relay::Spool& spool, int tmp_fd, const std::vector<Journaled>& batch,
                                          bool after_crash);

// Writes a journaled spool file into tmp/ID and syncs it (replacing what is there).
void write_tmp_copy(int tmp_fd, const std::string& id, std::string_view file);

struct RecoveryCount {
  int published = 0;  // were durable in tmp/ and are now in their stage
  int rewritten = 0;  // written again from the journal's copy
};

// Finishes one dead process's journal (open read-write, its bytes read): unpublished
// messages that no stage holds are copied from the journal into tmp/, a published record
// is appended so an interrupted recovery never copies them twice, then every journaled
// message still in tmp/ is published. Every message acknowledged with 250 ends in its stage
// once.
RecoveryCount recover_journal(relay::Spool& spool, int journal_fd, std::string_view journal);

// Recovers and removes every journal in dir that no live process holds (an flock).
void recover_journals(relay::Spool& spool, const std::string& dir);

}  // namespace smtp_listen
