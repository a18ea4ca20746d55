#include "relay/spool_tools_listing.hpp"

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>

#include "relay/clock.hpp"
#include "relay/exit_codes.hpp"
#include "relay/headers.hpp"
#include "relay/log.hpp"

namespace relay::listing {
namespace {

bool envelope_matches(const Envelope& envelope, const Options& options) {
  if (!options.sender.empty()) {
    if (options.sender == "<>" ? !envelope.sender.empty() : !address_matches(envelope.sender, options.sender))
      return false;
  }
  if (!options.recipient.empty()) {
    return std::any_of(envelope.recipients.begin(), envelope.recipients.end(),
                       [&](const Recipient& r) { return address_matches(r.address, options.recipient); });
  }
  return true;
}

// The envelope of a listed entry; nullopt when it is gone or unreadable (counted and warned).
std::optional<Envelope> read_listed(const Spool& spool, SpoolEntry& entry, Summary& summary) {
  try {
    return spool.read_envelope(entry);
  } catch (const Failure& e) {
    ++summary.unreadable;
    log::warning(e.what());
    return std::nullopt;
  }
}

// Appends the listing of one entry to out when it is still there and matches.
void append_entry(std::string& out, const Spool& spool, SpoolEntry& entry, const Options& options, Summary& summary) {
  std::optional<Envelope> envelope = read_listed(spool, entry, summary);
  if (!envelope || !envelope_matches(*envelope, options)) return;
  ++summary.messages;
  summary.bytes += static_cast<uint64_t>(entry.size);
  if (options.json) {
    append_message_json(out, entry, *envelope);
    out += '\n';
  } else {
    append_message_text(out, entry, *envelope);
  }
}

// Output is gathered in a buffer of this size per thread and written in one piece.
constexpr size_t kFlushAt = 1 << 16;

void write_out(std::FILE* out, std::string_view text) {
  if (std::fwrite(text.data(), 1, text.size(), out) != text.size()) fail_errno("unable to write the listing", errno);
}

// Opening every file is the cost of a listing (the kernel's, mostly), so envelopes are read by
// a few threads while this one reads the directories. The queue between them is bounded: memory
// does not grow with the spool. Output order is the directory's, as without threads.
class ParallelLister {
 public:
  ParallelLister(const Spool& spool, const Options& options, std::FILE* out, unsigned workers)
      : spool_(spool), options_(options), out_(out) {
    for (unsigned i = 0; i < workers; ++i) threads_.emplace_back([this] { work(); });
  }

  void push(const SpoolEntry& entry) {
    batch_.push_back(entry);
    if (batch_.size() >= kBatch) hand_over();
  }

  Summary finish() {
    hand_over();
    {
      std::lock_guard lock(mutex_);
      done_ = true;
    }
    ready_.notify_all();
    for (auto& t : threads_) t.join();
    if (error_) std::rethrow_exception(error_);
    return total_;
  }

 private:
  static constexpr size_t kBatch = 128;      // entries handed over at once: fewer lock round trips
  static constexpr size_t kQueueLimit = 32;  // batches waiting: bounds memory

  void hand_over() {
    if (batch_.empty()) return;
    std::unique_lock lock(mutex_);
    space_.wait(lock, [&] { return queue_.size() < kQueueLimit || error_; });
    if (!error_) queue_.push_back(std::move(batch_));
    batch_.clear();
    ready_.notify_one();
  }

  void work() {
    Summary summary;
    std::string buffer;
    buffer.reserve(kFlushAt * 2);
    try {
      for (;;) {
        std::vector<SpoolEntry> batch;
        {
          std::unique_lock lock(mutex_);
          ready_.wait(lock, [&] { return !queue_.empty() || done_ || error_; });
          if (error_ || queue_.empty()) break;
          batch = std::move(queue_.front());
          queue_.pop_front();
        }
        space_.notify_one();
        for (auto& entry : batch) {
          append_entry(buffer, spool_, entry, options_, summary);
          if (buffer.size() >= kFlushAt) flush(buffer);
        }
      }
      flush(buffer);
    } catch (...) {
      std::lock_guard lock(mutex_);
      if (!error_) error_ = std::current_exception();
      space_.notify_all();
      ready_.notify_all();
    }
    std::lock_guard lock(mutex_);
    total_.messages += summary.messages;
    total_.bytes += summary.bytes;
    total_.unreadable += summary.unreadable;
  }

  void flush(std::string& buffer) {
    std::lock_guard lock(out_mutex_);
    write_out(out_, buffer);
    buffer.clear();
  }

  const Spool& spool_;
  const Options& options_;
  std::FILE* out_;
  std::mutex mutex_, out_mutex_;
  std::condition_variable ready_, space_;
  std::vector<SpoolEntry> batch_;             // filled by the scanning thread only
  std::deque<std::vector<SpoolEntry>> queue_;
  bool done_ = false;
  std::exception_ptr error_;
  Summary total_;
  std::vector<std::thread> threads_;
};

// The fields of one message, written into an object that the caller opened.
void write_message_fields(JsonWriter& json, const SpoolEntry& entry, const Envelope& envelope) {
  json.field("id", entry.id)
      .field("stage", to_string(entry.stage))
      .field("origin", entry.stage == Stage::kActive ? to_string(entry.origin) : std::string_view())
      .field("size", static_cast<int64_t>(entry.size))
      .field("arrival", envelope.arrival)
      .field("sender", envelope.sender)
      .field("attempts", envelope.attempts)
      .field("next_attempt", entry.stage == Stage::kDeferred ? entry.mtime : int64_t{0})
      .field("defer_reason", envelope.defer_reason)
      .field("hold_reason", envelope.hold_reason)
      .field("auth_user", envelope.auth_user)
      .field("client_address", envelope.client_address)
      .begin_array("recipients");
  for (const auto& r : envelope.recipients) {
    json.begin_object()
        .field("address", r.address)
        .field("state", to_string(r.state))
        .field("status", r.status)
        .field("response", r.response)
        .field("remote", r.remote)
        .field("updated", r.updated)
        .end_object();
  }
  json.end_array();
}

// Pads what was appended to out since start with spaces to width.
void pad_from(std::string& out, size_t start, size_t width) {
  if (out.size() - start < width) out.append(width - (out.size() - start), ' ');
}

void append_padded(std::string& out, std::string_view text, size_t width) {
  size_t start = out.size();
  out += text;
  pad_from(out, start, width);
}

}  // namespace

bool address_matches(std::string_view address, std::string_view pattern) {
  if (!pattern.empty() && pattern.front() == '@') {
    size_t at = address.rfind('@');
    return at != std::string_view::npos && iequals(address.substr(at + 1), pattern.substr(1));
  }
  return iequals(address, pattern);
}

std::vector<Stage> parse_stages(std::string_view text) {
  std::vector<Stage> stages;
  if (text == "all") {
    for (Stage s : kAllStages)
      if (s != Stage::kTmp) stages.push_back(s);
    return stages;
  }
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view name = text.substr(0, comma);
    auto stage = parse_stage(name);
    if (!stage || *stage == Stage::kTmp)
      throw Failure(kExitUsage, "unable to list stage '" + log::sanitize(name) + "': not a stage of the queue");
    stages.push_back(*stage);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
  }
  return stages;
}

JsonObject message_json(const SpoolEntry& entry, const Envelope& envelope) {
  JsonObject object;
  JsonWriter fields = object.fields();
  write_message_fields(fields, entry, envelope);
  return object;
}

void append_message_json(std::string& out, const SpoolEntry& entry, const Envelope& envelope) {
  JsonWriter json(out);
  json.begin_object();
  write_message_fields(json, entry, envelope);
  json.end_object();
}

void append_message_text(std::string& out, const SpoolEntry& entry, const Envelope& envelope) {
  append_padded(out, entry.id, 40);
  out += ' ';
  size_t stage_start = out.size();
  out += to_string(entry.stage);
  if (entry.stage == Stage::kActive) {
    out += '<';
    out += to_string(entry.origin);
  }
  pad_from(out, stage_start, 9);
  char size[24];
  size_t digits = static_cast<size_t>(std::to_chars(size, size + sizeof size, entry.size).ptr - size);
  out += ' ';
  if (digits < 9) out.append(9 - digits, ' ');
  out.append(size, digits);
  out += ' ';
  out += iso_time(envelope.arrival);
  out += "  <";
  out += envelope.sender;
  out += ">\n";
  if (entry.stage == Stage::kDeferred) {
    out += "    next attempt ";
    out += iso_time(entry.mtime);
    out += ", ";
    out += std::to_string(envelope.attempts);
    out += " attempts";
    if (!envelope.defer_reason.empty()) {
      out += " (";
      out += envelope.defer_reason;
      out += ')';
    }
    out += '\n';
  }
  if (!envelope.hold_reason.empty() && entry.stage == Stage::kHold) {
    out += "    held: ";
    out += envelope.hold_reason;
    out += '\n';
  }
  for (const auto& r : envelope.recipients) {
    out += "    <";
    out += r.address;
    out += "> ";
    out += to_string(r.state);
    if (!r.status.empty()) {
      out += ' ';
      out += r.status;
    }
    if (!r.response.empty()) {
      out += " (";
      out += r.response;
      out += ')';
    }
    out += '\n';
  }
  out += '\n';
}

Summary list_queue(const Spool& spool, const Options& options, std::FILE* out) {
  Summary summary;
  std::vector<Stage> stages = options.stages;
  if (stages.empty()) stages.assign(std::begin(kQueueStages), std::end(kQueueStages));
  unsigned workers = std::min(4u, std::thread::hardware_concurrency());
  if (options.sort || workers < 2) {
    std::string buffer;
    auto each = [&](SpoolEntry& entry) {
      append_entry(buffer, spool, entry, options, summary);
      if (buffer.size() >= kFlushAt) {
        write_out(out, buffer);
        buffer.clear();
      }
    };
    try {
      for (Stage stage : stages) {
        if (options.sort) {
          for (auto& entry : spool.list(stage)) each(entry);
        } else {
          spool.scan(stage, [&](const SpoolEntry& listed) {
            SpoolEntry entry = listed;
            each(entry);
          }, false);
        }
      }
    } catch (...) {
      write_out(out, buffer);  // what was listed before the failure
      throw;
    }
    write_out(out, buffer);
  } else {
    ParallelLister lister(spool, options, out, workers);
    try {
      for (Stage stage : stages) spool.scan(stage, [&](const SpoolEntry& entry) { lister.push(entry); }, false);
    } catch (...) {
      lister.finish();
      throw;
    }
    summary = lister.finish();
  }
  if (!options.json) {
    std::string total = summary.messages == 0
                            ? "Mail queue is empty\n"
                            : "-- " + std::to_string((summary.bytes + 1023) / 1024) + " Kbytes in " +
                                  std::to_string(summary.messages) +
                                  (summary.messages == 1 ? " message.\n" : " messages.\n");
    std::fputs(total.c_str(), out);
  }
  return summary;
}

}  // namespace relay::listing
