#pragma once
// The records of smtp-listen's intake journal (smtp-listen(8), INTAKE JOURNAL). A record is a
// 32-byte header (magic, type, sequence number, payload length, CRC-32 of header and payload)
// and its payload. A message record holds the target stage, the queue id and the whole spool
// file; a published record says that every message record up to a sequence number is durable
// in tmp/ and may be renamed into its stage. Records follow each other from the start of the
// file with sequence numbers one apart, from a random start; the first record that is torn,
// from an earlier pass over the file, or not a record at all ends the chain.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "relay/spool.hpp"

namespace smtp_listen::journal {

enum class RecordType : uint32_t { kMessage = 1, kPublished = 2 };

struct Record {
  RecordType type = RecordType::kMessage;
  uint64_t seq = 0;
  relay::Stage stage = relay::Stage::kIncoming;  // message
  std::string_view id;                            // message
  std::string_view file;                          // message: the spool file's bytes
  uint64_t published_up_to = 0;                   // published
};

void append_message(std::string& out, uint64_t seq, relay::Stage stage, std::string_view id, std::string_view file);
void append_published(std::string& out, uint64_t seq, uint64_t up_to);

struct Chain {
  std::vector<Record> records;  // views into the journal's bytes
  size_t end = 0;               // where the next record would go
};

// The chain of records at the start of a journal's bytes. Only incoming/ and hold/ are
// accepted as stages, and a message record's bytes must be a spool file of its id.
Chain read_chain(std::string_view journal);

// A first sequence number nobody can guess: message bytes written into the journal by a
// client can never continue a chain.
uint64_t random_first_seq();

}  // namespace smtp_listen::journal
