#include "journal_record.hpp"

#include <openssl/rand.h>
#include <zlib.h>

#include <cstring>

#include "relay/envelope.hpp"

namespace smtp_listen::journal {
namespace {

constexpr char kMagic[4] = {'R', 'L', 'J', '1'};
constexpr size_t kHeaderSize = 32;
constexpr size_t kCrcOffset = 24;
constexpr uint64_t kMaxPayload = 1ull << 32;  // far above any message smtp-listen accepts

template <typename T>
void put(std::string& out, T value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof value);
}

template <typename T>
T get(std::string_view bytes, size_t offset) {
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof value);
  return value;
}

uint32_t checksum(std::string_view header_without_crc, std::string_view payload) {
  uLong crc = crc32(0L, Z_NULL, 0);
  crc = crc32(crc, reinterpret_cast<const Bytef*>(header_without_crc.data()), static_cast<uInt>(header_without_crc.size()));
  // zlib takes lengths as uInt: feed a large payload in pieces.
  for (size_t done = 0; done < payload.size();) {
    size_t piece = std::min<size_t>(payload.size() - done, 1u << 30);
    crc = crc32(crc, reinterpret_cast<const Bytef*>(payload.data() + done), static_cast<uInt>(piece));
    done += piece;
  }
  return static_cast<uint32_t>(crc);
}

void append_record(std::string& out, RecordType type, uint64_t seq, std::string_view payload_head,
                   std::string_view payload_tail) {
  size_t start = out.size();
  out.append(kMagic, sizeof kMagic);
  put(out, static_cast<uint32_t>(type));
  put(out, seq);
  put(out, static_cast<uint64_t>(payload_head.size() + payload_tail.size()));
  put(out, uint32_t{0});  // the CRC, set below
  put(out, uint32_t{0});
  out.append(payload_head);
  out.append(payload_tail);
  std::string_view record(out.data() + start, out.size() - start);
  uint32_t crc = checksum(record.substr(0, kCrcOffset), record.substr(kHeaderSize));
  std::memcpy(out.data() + start + kCrcOffset, &crc, sizeof crc);
}

}  // namespace

void append_message(std::string& out, uint64_t seq, relay::Stage stage, std::string_view id, std::string_view file) {
  std::string head;
  put(head, static_cast<uint32_t>(stage));
  put(head, static_cast<uint32_t>(id.size()));
  head.append(id);
  append_record(out, RecordType::kMessage, seq, head, file);
}

void append_published(std::string& out, uint64_t seq, uint64_t up_to) {
  std::string head;
  put(head, up_to);
  append_record(out, RecordType::kPublished, seq, head, {});
}

namespace {

// The envelope of a journaled spool file names the record's id.
bool file_of(std::string_view file, std::string_view id) {
  size_t end = relay::envelope_end(file);
  if (end == std::string_view::npos) return false;
  try {
    return relay::parse_envelope(file.substr(0, end)).id == id;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

Chain read_chain(std::string_view journal) {
  Chain chain;
  std::vector<Record>& records = chain.records;
  size_t offset = 0;
  while (journal.size() - offset >= kHeaderSize) {
    std::string_view header = journal.substr(offset, kHeaderSize);
    if (header.substr(0, sizeof kMagic) != std::string_view(kMagic, sizeof kMagic)) break;
    auto type = static_cast<RecordType>(get<uint32_t>(header, 4));
    uint64_t seq = get<uint64_t>(header, 8);
    uint64_t length = get<uint64_t>(header, 16);
    if (length > kMaxPayload || length > journal.size() - offset - kHeaderSize) break;
    if (!records.empty() && seq != records.back().seq + 1) break;  // left from an earlier pass
    std::string_view payload = journal.substr(offset + kHeaderSize, length);
    if (get<uint32_t>(header, kCrcOffset) != checksum(header.substr(0, kCrcOffset), payload)) break;  // torn
    Record record;
    record.type = type;
    record.seq = seq;
    if (type == RecordType::kMessage) {
      if (payload.size() < 8) break;
      auto stage = static_cast<relay::Stage>(get<uint32_t>(payload, 0));
      auto id_size = get<uint32_t>(payload, 4);
      if ((stage != relay::Stage::kIncoming && stage != relay::Stage::kHold) || id_size > payload.size() - 8) break;
      record.stage = stage;
      record.id = payload.substr(8, id_size);
      record.file = payload.substr(8 + id_size);
      if (!relay::valid_id(std::string(record.id)) || !file_of(record.file, record.id)) break;
    } else if (type == RecordType::kPublished) {
      if (payload.size() != 8) break;
      record.published_up_to = get<uint64_t>(payload, 0);
    } else {
      break;
    }
    records.push_back(record);
    offset += kHeaderSize + length;
  }
  chain.end = offset;
  return chain;
}

uint64_t random_first_seq() {
  uint64_t seq = 0;
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&seq), sizeof seq) != 1)
    throw std::runtime_error("unable to draw a random journal sequence number");
  return seq >> 1;  // half the range left before it wraps
}

}  // namespace smtp_listen::journal
