// Streaming mode: one filter process, framed requests and verdicts (relay-filter(7)). A filter
// that dies or breaks the framing is replaced; the message in flight goes back, never lost.
#include <charconv>

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
  std::string reason;
  size_t size = 0;  // bytes of the header line with its LF
};

template <typename Number>
bool parse_number(std::string_view text, Number& value) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return !text.empty() && ec == std::errc() && end == text.data() + text.size();
}

// "CODE LENGTH[ REASON]\n"; nullopt when incomplete or malformed (malformed sets bad).
std::optional<VerdictHeader> parse_header(const std::string& out, bool& bad) {
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
  if (!parse_number(line.substr(0, first), h.code) || h.code < 0 || h.code > 255 || !parse_number(length, h.length) ||
      h.length > filter::kMaxFrame) {
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
        greeting_("relay-filter " + std::to_string(filter::kProtocolVersion) + "\n") {}

  ~StreamFilter() override {
    if (!child_) return;
    // End of input tells the filter to finish; give it a moment before it is killed.
    child_->close_input();
    child_->wait(std::chrono::steady_clock::now() + kShutdownGrace);
  }

  filter::Verdict judge(const Envelope& envelope, const std::string& message) override {
    if (!child_) start();
    std::string envelope_text = serialize(envelope);
    std::string request = std::to_string(envelope_text.size()) + " " + std::to_string(message.size()) + "\n";
    request += envelope_text;
    request += message;
    std::string out;
    bool bad = false;
    Child::Exchange exchange{.input = request, .close_input_after = false,
                             .max_output = settings_.max_output + kMaxVerdictLine,
                             .complete = [&](const std::string& o) {
                               auto h = parse_header(o, bad);
                               return bad || (h && o.size() >= h->size + h->length);
                             }};
    Child::Pumped pumped = child_->pump(exchange, out, deadline());
    auto header = parse_header(out, bad);
    if (pumped != Child::Pumped::kDone || bad || !header || out.size() != header->size + header->length)
      return lost(pumped == Child::Pumped::kTimeout ? "filter timed out" :
                  pumped == Child::Pumped::kTooLarge ? "filter output too large" :
                  pumped == Child::Pumped::kOutputEnded ? "filter ended" : "filter broke the framing");
    filter::Verdict v;
    v.code = header->code;
    v.reason = header->reason;
    if (v.code == kExitOk) v.message = out.substr(header->size);
    return v;
  }

 private:
  Deadline deadline() const { return std::chrono::steady_clock::now() + settings_.timeout; }

  void start() {
    child_ = std::make_unique<Child>(settings_.argv, env_, false);
    std::string out;
    Child::Exchange hello{.input = greeting_, .close_input_after = false, .max_output = kMaxVerdictLine,
                          .complete = [](const std::string& o) { return o.find('\n') != std::string::npos; }};
    if (child_->pump(hello, out, deadline()) != Child::Pumped::kDone || out != greeting_) {
      child_.reset();
      throw Failure(kExitTemporary, "unable to start streaming filter " + settings_.argv[0] +
                                        ": it did not answer the relay-filter handshake");
    }
  }

  // The filter is gone or useless: replace it at the next message; this one goes back.
  filter::Verdict lost(const std::string& what) {
    log::warning(what + " (pid " + std::to_string(child_->pid()) + "); restarting it");
    child_.reset();
    filter::Verdict v;
    v.code = kExitTemporary;
    v.reason = what;
    return v;
  }

  FilterSettings settings_;
  std::vector<std::string> env_;
  std::string greeting_;
  std::unique_ptr<Child> child_;
};

}  // namespace

std::unique_ptr<Filter> make_stream_filter(FilterSettings settings) {
  return std::make_unique<StreamFilter>(std::move(settings));
}

}  // namespace relay::spoolrun
