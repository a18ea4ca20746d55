// The filter side of relay-filter(7) streaming mode: one process, many messages, framed on
// stdin/stdout. Framing errors end the process with 76; spool-run then restarts it and puts
// the message in flight back, so a broken filter never loses mail.
#include "relay/filter_protocol.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <vector>

#include "relay/cli.hpp"
#include "relay/exit_codes.hpp"
#include "relay/log.hpp"

namespace relay::filter {
namespace {

constexpr size_t kMaxLine = 4096;  // a frame header or handshake line; longer is a framing error

// Buffered reads from a file descriptor, line by line or by exact length. The buffer is
// allocated once and read into directly: bytes [start_, end_) are read and not yet taken.
class Input {
 public:
  explicit Input(int fd) : fd_(fd), buffer_(kChunk + kMaxLine + 1, '\0') {}

  // Called before each read, which may wait for spool-run: the moment to send what the
  // filter has ready (verdicts are written in batches, not one write each).
  void before_read(std::function<void()> hook) { before_read_ = std::move(hook); }

  enum class Result { kOk, kEnd, kError };

  // Reads one line without its LF. kEnd only when input ends before its first byte.
  Result line(std::string& out) {
    out.clear();
    for (;;) {
      const char* begin = buffer_.data() + start_;
      if (const void* lf = std::memchr(begin, '\n', end_ - start_)) {
        size_t length = static_cast<size_t>(static_cast<const char*>(lf) - begin);
        out.assign(begin, length);
        start_ += length + 1;
        return Result::kOk;
      }
      if (end_ - start_ > kMaxLine) return Result::kError;
      bool had_bytes = end_ > start_;
      Result fill_result = fill();
      if (fill_result == Result::kEnd) return had_bytes ? Result::kError : Result::kEnd;
      if (fill_result == Result::kError) return Result::kError;
    }
  }

  // Reads exactly length bytes; anything short is an error.
  // True when more input is already here: read and not taken yet, or waiting in the pipe.
  bool pending() const {
    if (end_ > start_) return true;
    int waiting = 0;
    return ::ioctl(fd_, FIONREAD, &waiting) == 0 && waiting > 0;
  }

  Result exact(uint64_t length, std::string& out) {
    out.clear();
    out.reserve(length);
    while (out.size() < length) {
      if (start_ == end_) {
        start_ = end_ = 0;
        // Large bodies go straight from the pipe into out, skipping the buffer.
        size_t want = length - out.size();
        if (want >= kChunk) {
          size_t old = out.size();
          out.resize(old + want);
          ssize_t n = read_some(out.data() + old, want);
          out.resize(old + (n > 0 ? static_cast<size_t>(n) : 0));
          if (n <= 0) return Result::kError;
          continue;
        }
        if (fill() != Result::kOk) return Result::kError;
      }
      size_t take = std::min<uint64_t>(length - out.size(), end_ - start_);
      out.append(buffer_.data() + start_, take);
      start_ += take;
    }
    return Result::kOk;
  }

 private:
  static constexpr size_t kChunk = 65536;

  ssize_t read_some(char* to, size_t size) {
    if (before_read_) before_read_();
    for (;;) {
      ssize_t n = ::read(fd_, to, size);
      if (n < 0 && errno == EINTR) continue;
      return n;
    }
  }

  // Moves what is not taken yet (at most a line's worth: exact() refills only when all is
  // taken) to the front, then reads a chunk behind it.
  Result fill() {
    if (start_ > 0) {
      std::memmove(buffer_.data(), buffer_.data() + start_, end_ - start_);
      end_ -= start_;
      start_ = 0;
    }
    ssize_t n = read_some(buffer_.data() + end_, buffer_.size() - end_);
    if (n < 0) return Result::kError;
    if (n == 0) return Result::kEnd;
    end_ += static_cast<size_t>(n);
    return Result::kOk;
  }

  int fd_;
  std::string buffer_;
  size_t start_ = 0, end_ = 0;
  std::function<void()> before_read_;
};

bool parse_length(std::string_view text, uint64_t& value) {
  if (text.empty()) return false;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size() && value <= kMaxFrame;
}

// "<envelope-length> <message-length>"
bool parse_frame_header(std::string_view line, uint64_t& envelope_length, uint64_t& message_length) {
  size_t space = line.find(' ');
  if (space == std::string_view::npos) return false;
  return parse_length(line.substr(0, space), envelope_length) &&
         parse_length(line.substr(space + 1), message_length);
}

// A reason travels on the verdict line, so it must stay one line.
std::string one_line(std::string_view text) {
  std::string out(text.substr(0, 1000));
  for (char& c : out)
    if (c == '\r' || c == '\n' || c == '\0') c = ' ';
  return out;
}

Verdict temporary(std::string reason) {
  Verdict verdict;
  verdict.code = kExitTemporary;
  verdict.reason = std::move(reason);
  return verdict;
}

Verdict judge(const Handler& handle,
              const std::string& envelope_text, const std::string& message) {
  Envelope envelope;
  try {
    envelope = parse_envelope(envelope_text);
  } catch (const std::exception& e) {
    // An envelope this filter cannot read may be readable by a newer one: try later.
    return temporary(std::string("unable to parse the envelope: ") + e.what());
  }
  try {
    Verdict verdict = handle(envelope, message);
    if (verdict.code < 0 || verdict.code > 255) return temporary("filter returned an invalid code");
    return verdict;
  } catch (const std::bad_alloc&) {
    return temporary("unable to allocate memory");
  } catch (const std::exception& e) {
    return temporary(e.what());
  }
}

// The verdict line and its bytes. A prepend verdict goes as it is when spool-run agreed to
// prepend, else with the message behind it.
std::string verdict_frame(const Verdict& verdict, const std::string& message, bool prepend_agreed) {
  const bool has_message = verdict.code == kExitOk;
  const bool as_prefix = has_message && verdict.prepend && prepend_agreed;
  const bool add_message = has_message && verdict.prepend && !prepend_agreed;
  size_t length = has_message ? verdict.message.size() + (add_message ? message.size() : 0) : 0;
  std::string frame = std::to_string(verdict.code) + (as_prefix ? " +" : " ") + std::to_string(length) + " " +
                      one_line(verdict.reason) + "\n";
  if (!has_message) return frame;
  frame.reserve(frame.size() + length);
  frame += verdict.message;
  if (add_message) frame += message;
  return frame;
}

// The extensions both sides use: those spool-run offers that serve() speaks.
struct Agreed {
  bool pipelining = false;
  bool prepend = false;
};

Agreed agreed_extensions() {
  const char* offered = std::getenv(kExtensionsEnv);
  if (offered == nullptr) return {};
  return {lists_extension(offered, kPipelining), lists_extension(offered, kPrepend)};
}

enum class Request { kRead, kEnd, kBroken };

// Reads the next request by its lengths. kEnd at a clean end of input; kBroken (logged) when
// the framing is wrong or input ends inside a frame.
Request read_request(Input& input, std::string& envelope_text, std::string& message) {
  std::string line;
  Input::Result result = input.line(line);
  if (result == Input::Result::kEnd) return Request::kEnd;
  uint64_t envelope_length = 0, message_length = 0;
  if (result != Input::Result::kOk || !parse_frame_header(line, envelope_length, message_length)) {
    log::fatal("unable to read a frame header: \"" + log::sanitize(line.substr(0, 80)) + "\"");
    return Request::kBroken;
  }
  if (input.exact(envelope_length, envelope_text) != Input::Result::kOk ||
      input.exact(message_length, message) != Input::Result::kOk) {
    log::fatal("unable to read a frame: input ended inside it");
    return Request::kBroken;
  }
  return Request::kRead;
}

// Reads spool-run's greeting and answers it with the extensions agreed, or returns nullopt
// (logged) when the greeting is wrong. Throws Failure when the answer cannot be written.
std::optional<Agreed> handshake(Input& input) {
  const std::string greeting = "relay-filter " + std::to_string(kProtocolVersion);
  std::string line;
  if (input.line(line) != Input::Result::kOk || line != greeting) {
    log::fatal("unable to start the filter protocol: expected \"" + greeting + "\" from spool-run");
    return std::nullopt;
  }
  Agreed agreed = agreed_extensions();
  std::string answer = greeting;
  if (agreed.pipelining) answer += std::string(" ") + kPipelining;
  if (agreed.prepend) answer += std::string(" ") + kPrepend;
  write_all(STDOUT_FILENO, answer + "\n", "the protocol greeting");
  return agreed;
}

// Verdicts on their way to spool-run, written several at a time: a batch of quick requests
// costs one write and wakes spool-run once. The handler's log lines (log::hold_lines) go out
// just before them, so no verdict arrives without its message's log line. Not thread-safe:
// its owner locks.
class VerdictBatch {
 public:
  using Time = std::chrono::steady_clock::time_point;

  void add(const std::string& frame, Time now) {
    if (frames_.empty()) first_added_ = now;
    frames_ += frame;
  }
  bool full() const { return frames_.size() >= kMaxBytes; }
  bool held_since_before(Time when) const { return !frames_.empty() && first_added_ < when; }
  void send() {
    log::flush_lines();
    if (frames_.empty()) return;
    write_all(STDOUT_FILENO, frames_, "a verdict");
    frames_.clear();
  }

 private:
  static constexpr size_t kMaxBytes = 65536;
  std::string frames_;
  Time first_added_;
};

// Threads that take turns: one at a time reads the next request (so requests are numbered in
// the order they came), then handles it while another reads, and writes its verdict when its
// number's turn comes. A thread finding another one reading sleeps until a reader sees more
// input already waiting behind the request it took, and requests take long to handle: while
// input comes no faster than one thread handles it, or a request costs about what spool-run
// spends on a message (some 60 us), one thread does all the work and no CPU goes to waking
// the others or is taken from spool-run. Each thread holds one request at a time.
//
// Verdicts are batched while requests are quick: a batch goes out before a read of input
// (which may wait for spool-run), at once when another thread is reading meanwhile, and
// before a request is handled when its oldest verdict is 1 ms old. So a verdict waits at
// most about 1 ms plus one request's handling: never past spool-run's --timeout unless that
// request itself runs that long, and a handler that crashes takes few answered messages'
// verdicts with it (spool-run then finds the culprit by sending them again one at a time).
class TakingTurns {
 public:
  // Requests handled faster than this on average are left to one thread.
  static constexpr std::chrono::nanoseconds kWorthASecondThread = std::chrono::microseconds(150);
  static constexpr std::chrono::nanoseconds kLongestHold = std::chrono::milliseconds(1);

  TakingTurns(Input& input, const Handler& handle, bool prepend_agreed)
      : input_(input), handle_(handle), prepend_agreed_(prepend_agreed) {
    input_.before_read([this] {
      std::lock_guard lock(output_mutex_);
      if (!failure_) batch_.send();
    });
  }
  ~TakingTurns() { input_.before_read(nullptr); }

  // Runs `threads` threads (the calling thread is one) until input ends or breaks and every
  // request read is answered. Returns 0 at a clean end, 76 on a framing error; rethrows a
  // thread's exception (a Failure when a verdict could not be written).
  int run(unsigned threads) {
    std::vector<std::thread> others;
    try {
      while (others.size() + 1 < threads) others.emplace_back([this] { work(); });
    } catch (...) {
      stop(std::current_exception());  // not all threads started: the ones started end
    }
    work();
    for (auto& other : others) other.join();
    if (failure_) std::rethrow_exception(failure_);
    batch_.send();  // those of the last requests, read before input ended or broke
    return last_ == Request::kEnd ? kExitOk : kExitProtocol;
  }

 private:
  void work() {
    std::string envelope_text, message;
    try {
      while (auto number = take(envelope_text, message)) {
        auto start = std::chrono::steady_clock::now();
        send_verdicts_held_since(start - kLongestHold);
        std::string frame = verdict_frame(judge(handle_, envelope_text, message), message, prepend_agreed_);
        auto end = std::chrono::steady_clock::now();
        note_handling_time(end - start);
        std::unique_lock lock(output_mutex_);
        turn_.wait(lock, [&] { return collected_count_ == *number || failure_; });
        if (failure_) return;
        batch_.add(frame, end);
        ++collected_count_;
        if (batch_.full() || someone_reading()) batch_.send();
        turn_.notify_all();
      }
    } catch (...) {
      stop(std::current_exception());
    }
  }

  // Reads the next request when no other thread is reading; returns its number, or nothing
  // when input has ended or broken (the requests already read are still answered) or another
  // thread failed.
  std::optional<uint64_t> take(std::string& envelope_text, std::string& message) {
    {
      std::unique_lock lock(read_mutex_);
      may_read_.wait(lock, [&] { return !reading_ || stopping_; });
      if (stopping_) return std::nullopt;
      reading_ = true;
    }
    Request request = Request::kBroken;
    bool more_waiting = false;
    try {
      request = read_request(input_, envelope_text, message);
      more_waiting = request == Request::kRead && slow_requests() && input_.pending();
    } catch (...) {
      std::lock_guard lock(read_mutex_);
      reading_ = false;
      throw;
    }
    std::lock_guard lock(read_mutex_);
    reading_ = false;
    if (request != Request::kRead) {
      last_ = request;
      stopping_ = true;
      may_read_.notify_all();
      return std::nullopt;
    }
    if (more_waiting) may_read_.notify_one();
    return read_count_++;
  }

  void send_verdicts_held_since(VerdictBatch::Time when) {
    std::lock_guard lock(output_mutex_);
    if (!failure_ && batch_.held_since_before(when)) batch_.send();
  }

  bool someone_reading() {
    std::lock_guard lock(read_mutex_);
    return reading_;
  }

  // A moving average over about the last eight requests.
  void note_handling_time(std::chrono::nanoseconds took) {
    int64_t average = average_handling_ns_.load(std::memory_order_relaxed);
    average_handling_ns_.store(average + (took.count() - average) / 8, std::memory_order_relaxed);
  }
  bool slow_requests() const {
    return average_handling_ns_.load(std::memory_order_relaxed) >= kWorthASecondThread.count();
  }

  // The first failure ends every thread: those waiting for their turn or to read at once, the
  // one reading after its read. A verdict that could not be written means spool-run went away
  // (it puts back what it had in flight, and closes our input).
  void stop(std::exception_ptr failure) {
    {
      std::lock_guard lock(output_mutex_);
      if (!failure_) failure_ = failure;
    }
    turn_.notify_all();
    {
      std::lock_guard lock(read_mutex_);
      stopping_ = true;
    }
    may_read_.notify_all();
  }

  Input& input_;
  const Handler& handle_;
  const bool prepend_agreed_;
  std::atomic<int64_t> average_handling_ns_ = 0;  // updated without a lock: an estimate
  std::mutex read_mutex_;           // guards the fields below up to output_mutex_
  std::condition_variable may_read_;
  bool reading_ = false;            // a thread is reading input_ (only that thread uses it)
  bool stopping_ = false;
  uint64_t read_count_ = 0;
  Request last_ = Request::kEnd;
  std::mutex output_mutex_;         // guards collected_count_, batch_ and failure_; taken before read_mutex_
  std::condition_variable turn_;
  uint64_t collected_count_ = 0;    // verdicts added to the batch, sent or not
  VerdictBatch batch_;
  std::exception_ptr failure_;
};

}  // namespace

bool streaming_requested() {
  const char* value = std::getenv(kProtocolEnv);
  return value != nullptr && std::string_view(value) == std::to_string(kProtocolVersion);
}

int serve(const Handler& handle) { return serve_concurrently(handle, 1); }

int serve_concurrently(const Handler& handle, unsigned threads) {
  Input input(STDIN_FILENO);
  try {
    std::optional<Agreed> agreed = handshake(input);
    if (!agreed) return kExitProtocol;
    struct HeldLines {
      HeldLines() { log::hold_lines(true); }
      ~HeldLines() { log::hold_lines(false); }
    } held_lines;
    // Without pipelining spool-run sends one request at a time: nothing to work on at once.
    return TakingTurns(input, handle, agreed->prepend).run(agreed->pipelining ? std::max(threads, 1u) : 1);
  } catch (const Failure& e) {
    // spool-run went away: it puts back whatever it had in flight.
    log::fatal(e.what());
    return e.code();
  }
}

bool lists_extension(std::string_view extensions, std::string_view extension) {
  for (size_t start = 0; start < extensions.size();) {
    size_t end = std::min(extensions.find(' ', start), extensions.size());
    if (extensions.substr(start, end - start) == extension) return true;
    start = end + 1;
  }
  return false;
}

}  // namespace relay::filter
