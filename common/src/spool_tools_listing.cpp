#include "relay/spool_tools_listing.hpp"

#include <algorithm>
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

// The text of one entry when it is still there and matches, else empty.
std::string entry_output(const Spool& spool, SpoolEntry entry, const Options& options, Summary& summary) {
  std::optional<Envelope> envelope;
  try {
    envelope = spool.read_envelope(entry);
  } catch (const Failure& e) {
    ++summary.unreadable;
    log::warning(e.what());
    return {};
  }
  if (!envelope || !envelope_matches(*envelope, options)) return {};
  ++summary.messages;
  summary.bytes += static_cast<uint64_t>(entry.size);
  return options.json ? message_json(entry, *envelope).str() + "\n" : message_text(entry, *envelope);
}

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
  static constexpr size_t kFlushAt = 1 << 16;

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
        for (const auto& entry : batch) {
          buffer += entry_output(spool_, entry, options_, summary);
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

void append_padded(std::string& out, std::string_view text, size_t width) {
  out += text;
  if (text.size() < width) out.append(width - text.size(), ' ');
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
  JsonArray recipients;
  for (const auto& r : envelope.recipients) {
    JsonObject o;
    o.add("address", r.address).add("state", to_string(r.state)).add("status", r.status)
        .add("response", r.response).add("remote", r.remote).add("updated", r.updated);
    recipients.push(o);
  }
  JsonObject o;
  o.add("id", entry.id)
      .add("stage", to_string(entry.stage))
      .add("origin", entry.stage == Stage::kActive ? to_string(entry.origin) : std::string_view())
      .add("size", static_cast<int64_t>(entry.size))
      .add("arrival", envelope.arrival)
      .add("sender", envelope.sender)
      .add("attempts", envelope.attempts)
      .add("next_attempt", entry.stage == Stage::kDeferred ? entry.mtime : int64_t{0})
      .add("defer_reason", envelope.defer_reason)
      .add("hold_reason", envelope.hold_reason)
      .add("auth_user", envelope.auth_user)
      .add("client_address", envelope.client_address)
      .add("recipients", recipients);
  return o;
}

std::string message_text(const SpoolEntry& entry, const Envelope& envelope) {
  std::string out;
  out.reserve(160 + envelope.recipients.size() * 64);
  append_padded(out, entry.id, 40);
  out += ' ';
  std::string stage(to_string(entry.stage));
  if (entry.stage == Stage::kActive) stage += "<" + std::string(to_string(entry.origin));
  append_padded(out, stage, 9);
  char size[24];
  std::snprintf(size, sizeof size, " %9lld ", static_cast<long long>(entry.size));
  out += size;
  out += iso_time(envelope.arrival);
  out += "  <";
  out += envelope.sender;
  out += ">\n";
  if (entry.stage == Stage::kDeferred) {
    out += "    next attempt " + iso_time(entry.mtime) + ", " + std::to_string(envelope.attempts) + " attempts";
    if (!envelope.defer_reason.empty()) out += " (" + envelope.defer_reason + ")";
    out += '\n';
  }
  if (!envelope.hold_reason.empty() && entry.stage == Stage::kHold) out += "    held: " + envelope.hold_reason + "\n";
  for (const auto& r : envelope.recipients) {
    out += "    <" + r.address + "> " + std::string(to_string(r.state));
    if (!r.status.empty()) out += " " + r.status;
    if (!r.response.empty()) out += " (" + r.response + ")";
    out += '\n';
  }
  out += '\n';
  return out;
}

Summary list_queue(const Spool& spool, const Options& options, std::FILE* out) {
  Summary summary;
  std::vector<Stage> stages = options.stages;
  if (stages.empty()) stages.assign(std::begin(kQueueStages), std::end(kQueueStages));
  unsigned workers = std::min(4u, std::thread::hardware_concurrency());
  if (options.sort || workers < 2) {
    for (Stage stage : stages) {
      auto each = [&](const SpoolEntry& entry) { write_out(out, entry_output(spool, entry, options, summary)); };
      if (options.sort) {
        for (const auto& entry : spool.list(stage)) each(entry);
      } else {
        spool.scan(stage, each, false);
      }
    }
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
