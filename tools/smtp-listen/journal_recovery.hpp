#pragma once
// Finishing a dead smtp-listen's intake journal (smtp-listen(8), INTAKE JOURNAL). Messages
// the journal says are durable in tmp/ are renamed into their stage when still there; the
// others are written again from the journal's copy, unless a stage holds them already.
// Either way every message acknowledged with 250 ends in its stage once.
#include <string>
#include <string_view>

#include "relay/spool.hpp"

namespace smtp_listen {

struct RecoveryCount {
  int renamed = 0;    // were durable in tmp/
  int rewritten = 0;  // written again from the journal
};

// Applies one journal's records to the spool and syncs the stages they went to.
RecoveryCount recover_journal(relay::Spool& spool, std::string_view journal);

// Recovers and removes every journal in dir that no live process holds (an flock).
void recover_journals(relay::Spool& spool, const std::string& dir);

}  // namespace smtp_listen
