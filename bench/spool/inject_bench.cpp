// spool-inject-bench: durable writes per second, by W threads for S seconds, of SIZE-byte messages.
//   spool-inject-bench spool DIR SIZE WRITERS SECONDS   relay::Spool::deposit into DIR/incoming
//   spool-inject-bench raw   DIR SIZE WRITERS SECONDS   the disk's limit: create, write, fsync,
//                                                       rename, fsync the directory (the same steps)
// Prints one number: messages per second.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "relay/spool.hpp"

namespace {

using Clock = std::chrono::steady_clock;

std::string make_message(size_t size) {
  std::string message = "Subject: bench\r\nFrom: app@example.test\r\nTo: rcpt@example.test\r\n\r\n";
  while (message.size() + 78 <= size) message += std::string(76, 'x') + "\r\n";
  return message;
}

void spool_writer(const std::string& dir, const std::string& message, Clock::time_point end, std::atomic<long>& count) {
  relay::Spool spool(dir);
  while (Clock::now() < end) {
    relay::Envelope envelope;
    envelope.sender = "app@example.test";
    envelope.protocol = "local";
    envelope.recipients.emplace_back().address = "rcpt@example.test";
    spool.deposit(relay::Stage::kIncoming, std::move(envelope), message);
    ++count;
  }
}

void raw_writer(const std::string& dir, const std::string& message, int slot, Clock::time_point end,
                std::atomic<long>& count) {
  int new_fd = ::open((dir + "/new").c_str(), O_RDONLY | O_DIRECTORY);
  for (long n = 0; Clock::now() < end; ++n) {
    std::string name = std::to_string(slot) + "." + std::to_string(n);
    std::string tmp = dir + "/tmp/" + name;
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0640);
    if (fd < 0 || ::write(fd, message.data(), message.size()) != static_cast<ssize_t>(message.size()) ||
        ::fsync(fd) != 0 || ::close(fd) != 0 || ::rename(tmp.c_str(), (dir + "/new/" + name).c_str()) != 0 ||
        ::fsync(new_fd) != 0) {
      std::perror("raw write");
      std::exit(75);
    }
    ++count;
  }
  ::close(new_fd);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: spool-inject-bench spool|raw DIR SIZE WRITERS SECONDS\n");
    return 64;
  }
  std::string mode = argv[1], dir = argv[2];
  std::string message = make_message(std::strtoul(argv[3], nullptr, 10));
  int writers = std::atoi(argv[4]);
  double seconds = std::atof(argv[5]);
  std::atomic<long> count{0};
  auto end = Clock::now() + std::chrono::milliseconds(static_cast<long>(seconds * 1000));
  auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int i = 0; i < writers; ++i) {
    if (mode == "spool") threads.emplace_back(spool_writer, dir, std::cref(message), end, std::ref(count));
    else threads.emplace_back(raw_writer, dir, std::cref(message), i, end, std::ref(count));
  }
  for (auto& t : threads) t.join();
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf("%.1f\n", count.load() / elapsed);
  return 0;
}
