// relay::filter::serve driven over real pipes, the way spool-run drives a streaming filter:
// the filter runs in a forked child with the pipes as its stdin and stdout.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>

#include "relay/envelope.hpp"
#include "relay/filter_protocol.hpp"
#include "relay/log.hpp"

namespace {

using relay::Envelope;
using relay::filter::Verdict;

// Upper-cases the message; "defer" in the body defers, "hold" holds, "throw" throws.
Verdict upper_filter(const Envelope& envelope, const std::string& message) {
  if (message.find("throw") != std::string::npos) throw std::runtime_error("boom\nsecond line");
  if (message.find("defer") != std::string::npos) return {75, "try later", ""};
  if (message.find("hold") != std::string::npos) return {65, "held for " + envelope.sender, "ignored"};
  Verdict verdict;
  verdict.message = "X-Rcpts: " + std::to_string(envelope.recipients.size()) + "\r\n";
  for (char c : message) verdict.message += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return verdict;
}

struct FilterRun {
  std::string output;
  int exit_code = -1;
};

int serve_upper() { return relay::filter::serve(upper_filter); }

// Feeds input to a serving function (serve() by default) in a child process and collects what
// it wrote and its exit code.
FilterRun run_filter(const std::string& input, const std::function<int()>& serving = serve_upper) {
  int to_child[2], from_child[2];
  if (pipe(to_child) != 0 || pipe(from_child) != 0) throw std::runtime_error("pipe");
  pid_t pid = fork();
  if (pid == 0) {
    dup2(to_child[0], STDIN_FILENO);
    dup2(from_child[1], STDOUT_FILENO);
    close(to_child[0]), close(to_child[1]), close(from_child[0]), close(from_child[1]);
    _exit(serving());
  }
  close(to_child[0]);
  close(from_child[1]);
  // The whole input fits the pipe buffer in these tests, so write, close, then read.
  size_t off = 0;
  while (off < input.size()) {
    ssize_t n = write(to_child[1], input.data() + off, input.size() - off);
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  close(to_child[1]);
  FilterRun run;
  char buf[4096];
  ssize_t n;
  while ((n = read(from_child[0], buf, sizeof buf)) > 0) run.output.append(buf, static_cast<size_t>(n));
  close(from_child[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return run;
}

std::string frame(const std::string& message, const std::string& sender = "a@example.test") {
  Envelope envelope;
  envelope.id = "1764395000.000001.42_1.host";
  envelope.sender = sender;
  envelope.recipients.emplace_back().address = "b@example.test";
  envelope.recipients.emplace_back().address = "c@example.test";
  std::string text = relay::serialize(envelope);
  return std::to_string(text.size()) + " " + std::to_string(message.size()) + "\n" + text + message;
}

const std::string kHello = "relay-filter 1\n";

TEST(FilterProtocol, AnswersHandshakeAndEndsCleanly) {
  FilterRun run = run_filter(kHello);
  EXPECT_EQ(run.output, kHello);
  EXPECT_EQ(run.exit_code, 0);
}

TEST(FilterProtocol, FiltersSeveralMessages) {
  FilterRun run = run_filter(kHello + frame("a\r\n\r\nbody\r\n") + frame(""));
  EXPECT_EQ(run.output, kHello + "0 23 \nX-Rcpts: 2\r\nA\r\n\r\nBODY\r\n" + "0 12 \nX-Rcpts: 2\r\n");
  EXPECT_EQ(run.exit_code, 0);
}

TEST(FilterProtocol, DeferAndHoldCarryNoMessage) {
  FilterRun run = run_filter(kHello + frame("defer") + frame("hold", "s@example.test"));
  EXPECT_EQ(run.output, kHello + "75 0 try later\n65 0 held for s@example.test\n");
  EXPECT_EQ(run.exit_code, 0);
}

TEST(FilterProtocol, ExceptionBecomesTemporaryOnOneLine) {
  FilterRun run = run_filter(kHello + frame("throw") + frame("ok"));
  EXPECT_EQ(run.output, kHello + "75 0 boom second line\n0 14 \nX-Rcpts: 2\r\nOK");
  EXPECT_EQ(run.exit_code, 0);
}

TEST(FilterProtocol, LargeMessageRoundTrips) {
  std::string big(300000, 'x');
  int to_child[2], from_child[2];
  ASSERT_EQ(pipe(to_child), 0);
  ASSERT_EQ(pipe(from_child), 0);
  // Too big for one pipe buffer: write from a second child so neither side blocks.
  pid_t writer = fork();
  if (writer == 0) {
    close(from_child[0]), close(from_child[1]), close(to_child[0]);
    std::string input = kHello + frame(big);
    size_t off = 0;
    while (off < input.size()) {
      ssize_t n = write(to_child[1], input.data() + off, input.size() - off);
      if (n <= 0) _exit(1);
      off += static_cast<size_t>(n);
    }
    _exit(0);
  }
  pid_t filter = fork();
  if (filter == 0) {
    dup2(to_child[0], STDIN_FILENO);
    dup2(from_child[1], STDOUT_FILENO);
    close(to_child[0]), close(to_child[1]), close(from_child[0]), close(from_child[1]);
    _exit(relay::filter::serve(upper_filter));
  }
  close(to_child[0]), close(to_child[1]), close(from_child[1]);
  std::string output;
  char buf[65536];
  ssize_t n;
  while ((n = read(from_child[0], buf, sizeof buf)) > 0) output.append(buf, static_cast<size_t>(n));
  close(from_child[0]);
  int status = 0;
  waitpid(writer, &status, 0);
  waitpid(filter, &status, 0);
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(output, kHello + "0 300012 \nX-Rcpts: 2\r\n" + std::string(300000, 'X'));
}

TEST(FilterProtocol, WrongGreetingIsProtocolError) {
  FilterRun run = run_filter("relay-filter 2\n");
  EXPECT_EQ(run.output, "");
  EXPECT_EQ(run.exit_code, 76);
}

TEST(FilterProtocol, MalformedFrameHeaderIsProtocolError) {
  for (const char* header : {"12\n", "x 1\n", "1 -1\n", "1 2 3\n", "99999999999 0\n"}) {
    FilterRun run = run_filter(kHello + header);
    EXPECT_EQ(run.output, kHello) << header;
    EXPECT_EQ(run.exit_code, 76) << header;
  }
}

TEST(FilterProtocol, TruncatedFrameIsProtocolError) {
  std::string whole = frame("some message");
  FilterRun run = run_filter(kHello + whole.substr(0, whole.size() - 3));
  EXPECT_EQ(run.output, kHello);
  EXPECT_EQ(run.exit_code, 76);
}

TEST(FilterProtocol, UnreadableEnvelopeDefers) {
  std::string envelope = "version=99\n\n";
  FilterRun run = run_filter(kHello + std::to_string(envelope.size()) + " 1\n" + envelope + "m");
  EXPECT_EQ(run.output.substr(0, kHello.size() + 5), kHello + "75 0 ");
  EXPECT_EQ(run.exit_code, 0);
}

TEST(FilterProtocol, StreamingRequestedReadsEnvironment) {
  unsetenv("RELAY_FILTER_PROTOCOL");
  EXPECT_FALSE(relay::filter::streaming_requested());
  setenv("RELAY_FILTER_PROTOCOL", "1", 1);
  EXPECT_TRUE(relay::filter::streaming_requested());
  setenv("RELAY_FILTER_PROTOCOL", "2", 1);
  EXPECT_FALSE(relay::filter::streaming_requested());
  unsetenv("RELAY_FILTER_PROTOCOL");
}

// Extensions are accepted only when spool-run offers them, as whole words of the list; the
// requests sent ahead are answered one by one, in order.
TEST(FilterProtocol, AcceptsExtensionsOnlyWhenOffered) {
  const std::string requests = frame("one") + frame("defer") + frame("two");
  const std::string verdicts = "0 15 \nX-Rcpts: 2\r\nONE75 0 try later\n0 15 \nX-Rcpts: 2\r\nTWO";
  const std::pair<const char*, const char*> offers[] = {
      {"pipelining", "relay-filter 1 pipelining\n"},
      {"future-thing pipelining", "relay-filter 1 pipelining\n"},
      {"prepend future-thing pipelining", "relay-filter 1 pipelining prepend\n"},
      {"prepend", "relay-filter 1 prepend\n"},
      {"pipelining-not prepended", "relay-filter 1\n"},
      {"", "relay-filter 1\n"}};
  for (const auto& [offer, answer] : offers) {
    setenv("RELAY_FILTER_EXTENSIONS", offer, 1);
    FilterRun run = run_filter(kHello + requests);
    EXPECT_EQ(run.output, answer + verdicts) << offer;
    EXPECT_EQ(run.exit_code, 0);
  }
  unsetenv("RELAY_FILTER_EXTENSIONS");
  EXPECT_EQ(run_filter(kHello).output, kHello);
}

// Adds one field ("same": nothing) as a prepend verdict, the way dkim-sign answers.
Verdict prepend_filter(const Envelope&, const std::string& message) {
  return {0, "", message == "same" ? "" : "X-Added: 1\r\n", true};
}

// With prepend agreed only the added bytes go back, marked "+"; without it, serve() sends
// them followed by the message, so the handler need not know what spool-run speaks.
TEST(FilterProtocol, PrependVerdictCarriesOnlyTheAddedBytesWhenAgreed) {
  const std::string requests = frame("a\r\n") + frame("same");
  auto serving = [] { return relay::filter::serve(prepend_filter); };
  setenv("RELAY_FILTER_EXTENSIONS", "pipelining prepend", 1);
  FilterRun agreed = run_filter(kHello + requests, serving);
  EXPECT_EQ(agreed.output, "relay-filter 1 pipelining prepend\n0 +12 \nX-Added: 1\r\n0 +0 \n");
  setenv("RELAY_FILTER_EXTENSIONS", "pipelining", 1);
  FilterRun plain = run_filter(kHello + requests, serving);
  EXPECT_EQ(plain.output, "relay-filter 1 pipelining\n0 15 \nX-Added: 1\r\na\r\n0 4 \nsame");
  unsetenv("RELAY_FILTER_EXTENSIONS");
  EXPECT_EQ(agreed.exit_code, 0);
  EXPECT_EQ(plain.exit_code, 0);
}

// A filter serving spool-run live: its stdin, stdout and stderr are pipes the test holds.
class LiveFilter {
 public:
  explicit LiveFilter(const std::function<int()>& serving) {
    int in[2], out[2], err[2];
    if (pipe(in) != 0 || pipe(out) != 0 || pipe(err) != 0) throw std::runtime_error("pipe");
    pid_ = fork();
    if (pid_ == 0) {
      dup2(in[0], STDIN_FILENO), dup2(out[1], STDOUT_FILENO), dup2(err[1], STDERR_FILENO);
      for (int fd : {in[0], in[1], out[0], out[1], err[0], err[1]}) close(fd);
      _exit(serving());
    }
    close(in[0]), close(out[1]), close(err[1]);
    in_ = in[1], out_ = out[0], err_ = err[0];
  }
  ~LiveFilter() {
    close_input();
    close(out_), close(err_);
    if (pid_ > 0) waitpid(pid_, nullptr, 0);
  }
  void send(const std::string& bytes) { ASSERT_EQ(write(in_, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size())); }
  void close_input() {
    if (in_ >= 0) close(in_);
    in_ = -1;
  }
  // What the filter wrote on fd until it has written `expected` (or 5 s passed).
  std::string read_until(bool from_stderr, const std::string& expected) {
    std::string& seen = from_stderr ? stderr_ : stdout_;
    auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (seen.find(expected) == std::string::npos && std::chrono::steady_clock::now() < give_up) {
      pollfd p{from_stderr ? err_ : out_, POLLIN, 0};
      if (poll(&p, 1, 100) <= 0) continue;
      char buf[4096];
      ssize_t n = read(p.fd, buf, sizeof buf);
      if (n <= 0) break;
      seen.append(buf, static_cast<size_t>(n));
    }
    return seen;
  }

 private:
  pid_t pid_ = -1;
  int in_ = -1, out_ = -1, err_ = -1;
  std::string stdout_, stderr_;
};

// Verdicts and the handler's log lines are written in batches, but never held while the
// filter waits for its next request: spool-run may be waiting for them to send it.
TEST(FilterProtocol, VerdictAndLogLineAreSentBeforeWaitingForInput) {
  setenv("RELAY_FILTER_EXTENSIONS", "pipelining", 1);
  LiveFilter filter([] {
    return relay::filter::serve([](const Envelope& envelope, const std::string& message) {
      relay::log::event({{"seen", message}});
      return upper_filter(envelope, message);
    });
  });
  unsetenv("RELAY_FILTER_EXTENSIONS");
  filter.send(kHello + frame("one"));
  EXPECT_EQ(filter.read_until(false, "ONE"), "relay-filter 1 pipelining\n0 15 \nX-Rcpts: 2\r\nONE");
  EXPECT_EQ(filter.read_until(true, "seen=one\n"), "relay: seen=one\n");
  filter.send(frame("two"));
  EXPECT_THAT(filter.read_until(false, "TWO"), testing::EndsWith("0 15 \nX-Rcpts: 2\r\nTWO"));
  EXPECT_EQ(filter.read_until(true, "seen=two\n"), "relay: seen=one\nrelay: seen=two\n");
}

// Verdicts of quick requests are batched, but none waits on more than one request's handling:
// "slow" takes 50 ms, so by the time "block" is handled the earlier verdicts are over 1 ms
// old and go out first; "block" then waits until the test, having seen them, lets it go.
TEST(FilterProtocol, HeldVerdictsGoOutBeforeTheNextLongRequest) {
  int release[2];
  ASSERT_EQ(pipe(release), 0);
  setenv("RELAY_FILTER_EXTENSIONS", "pipelining", 1);
  LiveFilter filter([&] {
    return relay::filter::serve([&](const Envelope& envelope, const std::string& message) {
      if (message == "block") {
        pollfd p{release[0], POLLIN, 0};
        if (poll(&p, 1, 5000) != 1) return Verdict{75, "never released", ""};
      }
      if (message == "slow") std::this_thread::sleep_for(std::chrono::milliseconds(50));
      return upper_filter(envelope, message);
    });
  });
  unsetenv("RELAY_FILTER_EXTENSIONS");
  filter.send(kHello + frame("one") + frame("slow") + frame("block"));
  EXPECT_THAT(filter.read_until(false, "SLOW"), testing::EndsWith("ONE0 16 \nX-Rcpts: 2\r\nSLOW"));
  ASSERT_EQ(write(release[1], "x", 1), 1);
  EXPECT_THAT(filter.read_until(false, "BLOCK"), testing::EndsWith("0 17 \nX-Rcpts: 2\r\nBLOCK"));
  close(release[0]), close(release[1]);
}

// serve_concurrently: "meet" waits (at most 5 s; "try-meet" 300 ms) until another call is in
// the handler too, so it passes only when two messages are handled at once; "slow" takes 50 ms, so the
// message after it is done first; anything else is upper-cased.
Verdict meeting_filter(const Envelope& envelope, const std::string& message) {
  static std::mutex mutex;
  static std::condition_variable changed;
  static int inside = 0;
  if (message.starts_with("meet") || message.starts_with("try-meet")) {
    auto patience = message.starts_with("meet") ? std::chrono::milliseconds(5000) : std::chrono::milliseconds(300);
    std::unique_lock lock(mutex);
    ++inside;
    changed.notify_all();
    bool met = changed.wait_for(lock, patience, [] { return inside >= 2; });
    if (!met) {
      --inside;
      return {75, "alone", ""};
    }
  }
  if (message.starts_with("slow")) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  return upper_filter(envelope, message);
}

FilterRun run_concurrently(const std::string& input, unsigned threads) {
  return run_filter(input, [threads] { return relay::filter::serve_concurrently(meeting_filter, threads); });
}

// A second thread takes requests once they are slow to handle (as RSA signing is) and more
// are waiting: "slow" first, then the two that meet.
TEST(FilterProtocolConcurrent, HandlesTwoMessagesAtOnceWithPipelining) {
  setenv("RELAY_FILTER_EXTENSIONS", "pipelining", 1);
  FilterRun run = run_concurrently(kHello + frame("slow") + frame("meet1") + frame("meet2"), 2);
  EXPECT_EQ(run.output, "relay-filter 1 pipelining\n0 16 \nX-Rcpts: 2\r\nSLOW0 17 \nX-Rcpts: 2\r\nMEET10 17 \nX-Rcpts: "
                        "2\r\nMEET2");
  EXPECT_EQ(run.exit_code, 0);
  unsetenv("RELAY_FILTER_EXTENSIONS");
}

// Without pipelining spool-run sends one request at a time: nothing to overlap. The same
// input as above (slow first, so a second thread would be woken) must meet nobody.
TEST(FilterProtocolConcurrent, OneAtATimeWithoutPipeliningOrWithOneThread) {
  const std::string verdicts = "0 16 \nX-Rcpts: 2\r\nSLOW75 0 alone\n75 0 alone\n";
  unsetenv("RELAY_FILTER_EXTENSIONS");
  FilterRun plain = run_concurrently(kHello + frame("slow") + frame("try-meet1") + frame("try-meet2"), 2);
  EXPECT_EQ(plain.output, kHello + verdicts);
  setenv("RELAY_FILTER_EXTENSIONS", "pipelining", 1);
  FilterRun single = run_concurrently(kHello + frame("slow") + frame("try-meet1") + frame("try-meet2"), 1);
  EXPECT_EQ(single.output, "relay-filter 1 pipelining\n" + verdicts);
  unsetenv("RELAY_FILTER_EXTENSIONS");
}

// Verdicts come back in request order, however the work finishes, past the number of requests
// the pool holds at once; a thrown exception is still a verdict of its own.
TEST(FilterProtocolConcurrent, VerdictsInRequestOrder) {
  setenv("RELAY_FILTER_EXTENSIONS", "pipelining", 1);
  std::string input = kHello, expected = "relay-filter 1 pipelining\n";
  for (int i = 0; i < 60; ++i) {
    std::string message = (i % 7 == 0 ? "slow" : i % 11 == 5 ? "throw" : "m") + std::to_string(i);
    input += frame(message);
    if (message.starts_with("throw")) {
      expected += "75 0 boom second line\n";
      continue;
    }
    std::string upper;
    for (char c : message) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    expected += "0 " + std::to_string(12 + message.size()) + " \nX-Rcpts: 2\r\n" + upper;
  }
  FilterRun run = run_concurrently(input, 3);
  EXPECT_EQ(run.output, expected);
  EXPECT_EQ(run.exit_code, 0);
  unsetenv("RELAY_FILTER_EXTENSIONS");
}

// A broken frame after good ones: the good ones are answered, then the protocol error.
TEST(FilterProtocolConcurrent, AnswersWhatCameBeforeABrokenFrame) {
  setenv("RELAY_FILTER_EXTENSIONS", "pipelining", 1);
  FilterRun run = run_concurrently(kHello + frame("slow") + frame("b") + "x 1\n", 2);
  EXPECT_EQ(run.output, "relay-filter 1 pipelining\n0 16 \nX-Rcpts: 2\r\nSLOW0 13 \nX-Rcpts: 2\r\nB");
  EXPECT_EQ(run.exit_code, 76);
  unsetenv("RELAY_FILTER_EXTENSIONS");
}

}  // namespace
