// Streaming mode: one filter process, framed requests and verdicts (relay-filter(7)). A filter
// that dies or breaks the framing is replaced; the message in flight goes back, never lost.
#include <algorithm>
#include <charconv>
#include <deque>

#include "child.hpp"
#include "filter_env.hpp"
#include "filters.hpp"
#include "relay/exit_codes.hpp"
#include "relay/log.hpp"

namespace relay::spoolrun {
namespace {

constexpr size_t kMaxVerdictLine = 4096;
constexpr auto kShutdownGrace = std::chrono::seconds(10);

struct VerdictHeader {
  int code = 0;
  uint64_t length = 0;
  bool prepend = false;  // "+LENGTH": the bytes go before the message (the prepend extension)
  std::string reason;
  size_t size = 0;  // bytes of the header line with its LF
};

template <typename Number>
bool parse_number(std::string_view text, Number& value) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return !text.empty() && ec == std::errc() && end == text.data() + text.size();
}

// "CODE LENGTH[ REASON]\n", LENGTH as "+LENGTH" after code 0 when prepend was agreed;
// nullopt when incomplete or malformed (malformed sets bad).
std::optional<VerdictHeader> parse_header(const std::string& out, bool prepend_agreed, bool& bad) {
  bad = false;
  size_t lf = out.find('\n');
  if (lf == std::string::npos) {
    bad = out.size() > kMaxVerdictLine;
    return std::nullopt;
  }
  std::string_view line(out.data(), lf);
  size_t first = line.find(' ');
  size_t second = first == std::string_view::npos ? std::string_view::npos : line.find(' ', first + 1);
  VerdictHeader h;
  h.size = lf + 1;
  std::string_view length = first == std::string_view::npos ? std::string_view() : line.substr(first + 1, second - first - 1);
  h.prepend = prepend_agreed && length.starts_with('+');
  if (h.prepend) length.remove_prefix(1);
  if (!parse_number(line.substr(0, first), h.code) || h.code < 0 || h.code > 255 || !parse_number(length, h.length) ||
      h.length > filter::kMaxFrame || (h.prepend && h.code != kExitOk)) {
    bad = true;
    return std::nullopt;
  }
  if (second != std::string_view::npos) h.reason = log::sanitize(line.substr(second + 1));
  return h;
}

class StreamFilter : public Filter {
 public:
  explicit StreamFilter(FilterSettings settings)
      : settings_(std::move(settings)),
        env_(stream_environment(inherited_environment(), settings_.spool, settings_.stage)),
        greeting_("relay-filter " + std::to_string(filter::kProtocolVersion)) {}

  ~StreamFilter() override {
    if (!child_) return;
    // End of input tells the filter to finish; give it a moment before it is killed.
    child_->close_input();
    child_->wait(std::chrono::steady_clock::now() + kShutdownGrace);
  }

  size_t window() const override { return pipelining_ ? kPipelineWindow : 1; }
  // Half the pipe: the rest is room for the envelopes and framing of the requests.
  size_t window_bytes() const override { return pipe_bytes_ / 2; }

  void submit(const Envelope& envelope, const std::string& message) override {
    std::string envelope_text = serialize(envelope);
    std::string request = std::to_string(envelope_text.size()) + " " + std::to_string(message.size()) + "\n";
    request.reserve(request.size() + envelope_text.size() + message.size());
    request += envelope_text;
    request += message;
    requests_.push_back(std::move(request));
    if (!child_) start();
    send_pending();
  }

  filter::Verdict collect() override {
    for (;;) {
      if (!child_) start();  // after a loss: the requests still in flight go to the new filter
      send_pending();
      bool bad = false;
      Child::Exchange exchange{.input = {}, .close_input_after = false,
                               .max_output = settings_.max_output + kMaxVerdictLine + kReadAhead,
                               .complete = [&](const std::string& o) {
                                 auto h = parse_header(o, prepend_, bad);
                                 bad = bad || (h && h->length > settings_.max_output);
                                 return bad || (h && o.size() >= h->size + h->length);
                               }};
      Child::Pumped pumped = child_->pump(exchange, replies_, deadline());
      auto header = parse_header(replies_, prepend_, bad);
      if (header && header->length > settings_.max_output) pumped = Child::Pumped::kTooLarge;
      if (pumped != Child::Pumped::kDone || bad || !header || replies_.size() < header->size + header->length) {
        std::string what = pumped == Child::Pumped::kTimeout    ? "filter timed out"
                           : pumped == Child::Pumped::kTooLarge  ? "filter output too large"
                           : pumped == Child::Pumped::kOutputEnded ? "filter ended"
                                                                   : "filter broke the framing";
        // With several requests in flight the filter may have failed on a later one (holding
        // the verdicts before it, or on another thread): they go to a new filter one at a
        // time, and the next failure is then the oldest's own.
        if (suspects_ == 0 && sent_ > 1) {
          restart_one_at_a_time(what);
          continue;
        }
        return lost(what);
      }
      filter::Verdict v;
      v.code = header->code;
      v.reason = header->reason;
      v.prepend = header->prepend;
      if (v.code == kExitOk) v.message = replies_.substr(header->size, header->length);
      replies_.erase(0, header->size + header->length);  // what is left belongs to later verdicts
      answered_oldest();
      return v;
    }
  }

 private:
  // Two requests in flight keep the filter busy while spool-run moves the previous message.
  // More let each process run through its time slice when the scheduler gives the CPUs to
  // other work for a few milliseconds (measured: about 12 % more signatures/s than 4 on a
  // shared 2-CPU machine). The claims wait in active/ meanwhile; 1 MiB pipes (the default
  // limit for unprivileged processes) hold the requests and verdicts in flight.
  static constexpr size_t kPipelineWindow = 32;
  static constexpr int kPipeBytes = 1 << 20;
  static constexpr size_t kReadAhead = 65536;  // a later verdict may arrive with this one

  Deadline deadline() const { return std::chrono::steady_clock::now() + settings_.timeout; }

  // Writes the requests not yet sent to this filter process: all of them with pipelining,
  // else (or while suspects are tried one at a time) only the oldest: the next goes once its
  // verdict is in. The verdicts that come
  // meanwhile are read, so neither side blocks.
  void send_pending() {
    while (!stalled_ && sent_ < requests_.size() && ((pipelining_ && suspects_ == 0) || sent_ == 0)) {
      Child::Exchange exchange{.input = requests_[sent_], .close_input_after = false,
                               .max_output = (settings_.max_output + kMaxVerdictLine) * kPipelineWindow + kReadAhead,
                               .complete = nullptr, .until_written = true};
      // A filter that stops reading (it died, or hangs) gets nothing more; the verdicts it
      // wrote before are still collected, and the first one missing marks its end.
      if (child_->pump(exchange, replies_, deadline()) != Child::Pumped::kDone) stalled_ = true;
      ++sent_;
    }
  }

  void start() {
    child_ = std::make_unique<Child>(settings_.argv, env_, false);
    pipe_bytes_ = child_->widen_pipes(kPipeBytes);
    replies_.clear();
    stalled_ = false;
    sent_ = 0;
    std::string hello = greeting_ + "\n", answer;
    Child::Exchange exchange{.input = hello, .close_input_after = false, .max_output = kMaxVerdictLine,
                             .complete = [](const std::string& o) { return o.find('\n') != std::string::npos; }};
    if (child_->pump(exchange, answer, deadline()) != Child::Pumped::kDone || !accept_greeting(answer)) {
      child_.reset();
      throw Failure(kExitTemporary, "unable to start streaming filter " + settings_.argv[0] +
                                        ": it did not answer the relay-filter handshake");
    }
  }

  // "relay-filter 1", then the extensions the filter accepts, if it accepts any.
  bool accept_greeting(const std::string& answer) {
    if (answer.size() < greeting_.size() + 1 || answer.back() != '\n' || answer.compare(0, greeting_.size(), greeting_) != 0)
      return false;
    std::string_view extensions(answer.data() + greeting_.size(), answer.size() - greeting_.size() - 1);
    if (!extensions.empty() && extensions.front() != ' ') return false;
    pipelining_ = filter::lists_extension(extensions, filter::kPipelining);
    prepend_ = filter::lists_extension(extensions, filter::kPrepend);
    return true;
  }

  // The oldest request has its verdict, or has been given one.
  void answered_oldest() {
    requests_.pop_front();
    if (sent_ > 0) --sent_;
    if (suspects_ > 0) --suspects_;
  }

  // The filter failed with several requests in flight: it is replaced at once, and the new
  // one gets them one at a time; none of them is put back yet.
  void restart_one_at_a_time(const std::string& what) {
    log::warning(what + " (pid " + std::to_string(child_->pid()) + ") with " + std::to_string(sent_) +
                 " messages in flight; restarting it, sending them one at a time");
    suspects_ = sent_;
    child_.reset();
  }

  // The filter is gone or useless with only the oldest message in flight (it was the one
  // being worked on): that message goes back, the filter is replaced at the next message.
  filter::Verdict lost(const std::string& what) {
    log::warning(what + " (pid " + std::to_string(child_->pid()) + "); restarting it");
    child_.reset();
    answered_oldest();
    sent_ = 0;
    filter::Verdict v;
    v.code = kExitTemporary;
    v.reason = what;
    return v;
  }

  FilterSettings settings_;
  std::vector<std::string> env_;
  std::string greeting_;
  std::unique_ptr<Child> child_;
  bool pipelining_ = false;
  bool prepend_ = false;              // verdicts may carry only the bytes to put before the message
  size_t pipe_bytes_ = 65536;         // the smaller of the two pipes to the filter
  bool stalled_ = false;              // a request could not be written: send no more to this process
  std::deque<std::string> requests_;  // not yet answered, oldest first
  size_t sent_ = 0;                   // how many of them this filter process has been sent
  size_t suspects_ = 0;               // the oldest ones, in flight when a filter failed: sent one at a time
  std::string replies_;               // read from the filter and not yet taken as a verdict
};

}  // namespace

std::unique_ptr<Filter> make_stream_filter(FilterSettings settings) {
  return std::make_unique<StreamFilter>(std::move(settings));
}

}  // namespace relay::spoolrun
