// Load generator for bench/relay-policy/run.sh:
//   bench_policy inprocess POLICY SECONDS   checks per second through relay::policy::Policy
//   bench_policy client PORT CLIENTS SECONDS  Postfix policy requests per second over TCP,
//                                             each client waiting for every answer, as smtpd does
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "relay/policy.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// One stage at a time, as smtp-listen calls it; counts every check() call.
void inprocess(const char* policy_file, double seconds) {
  relay::policy::Policy policy(relay::policy::Options{.policy_file = policy_file});
  struct Mode {
    const char* name;
    relay::policy::Stage stage;
  } modes[] = {{"mail (looks at 3 windows)", relay::policy::Stage::kMail},
               {"rcpt (suppression list + 1 window)", relay::policy::Stage::kRcpt},
               {"data (takes from 4 windows)", relay::policy::Stage::kData}};
  for (const auto& mode : modes) {
    long n = 0, accepted = 0;
    auto start = Clock::now();
    double cpu_start = thread_cpu_seconds();
    while (seconds_since(start) < seconds) {
      for (int i = 0; i < 1000; ++i, ++n) {
        relay::policy::Request r;
        r.stage = mode.stage;
        r.user = "user" + std::to_string(n % 1000);
        r.client_ip = "192.0.2." + std::to_string(n % 250);
        r.sender = "news@shop.example";
        r.recipient = "r" + std::to_string(n) + "@dest" + std::to_string(n % 50) + ".example";
        r.recipient_count = 1;
        r.recipients = {r.recipient};
        r.from_domain = "shop.example";
        r.size = 2000;
        accepted += policy.check(r).accepted();
      }
    }
    double elapsed = seconds_since(start);
    double cpu = thread_cpu_seconds() - cpu_start;
    // The machine is shared: checks per CPU second says what a check costs whatever the load.
    std::printf("inprocess %-36s %9.0f checks/s, %9.0f per CPU second (%ld checks, %ld accepted)\n", mode.name,
                n / elapsed, n / cpu, n, accepted);
  }
}

std::string request(long n, bool end) {
  std::string r = "request=smtpd_access_policy\nprotocol_state=";
  r += end ? "END-OF-MESSAGE" : "RCPT";
  r += "\nprotocol_name=ESMTP\nclient_address=192.0.2." + std::to_string(n % 250) +
       "\nclient_name=unknown\nsasl_username=user" + std::to_string(n % 1000) +
       "\nsender=news@shop.example\nrecipient=" + (end ? std::string() : "r@dest" + std::to_string(n % 50) + ".example") +
       "\ninstance=" + std::to_string(n / 2) + "\nsize=2000\nrecipient_count=" + (end ? "1" : "0") + "\n\n";
  return r;
}

void client(int port, int clients, double seconds) {
  std::atomic<long> total{0};
  std::vector<std::thread> threads;
  auto start = Clock::now();
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in sin{};
      sin.sin_family = AF_INET;
      sin.sin_port = htons(static_cast<uint16_t>(port));
      sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      if (::connect(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin) != 0) {
        std::perror("connect");
        std::exit(1);
      }
      long n = c * 1000000L;
      char buf[4096];
      while (seconds_since(start) < seconds) {
        std::string r = request(n, n % 2 == 1);
        if (::write(fd, r.data(), r.size()) != static_cast<ssize_t>(r.size())) std::exit(1);
        std::string reply;
        while (reply.find("\n\n") == std::string::npos) {
          ssize_t got = ::read(fd, buf, sizeof buf);
          if (got <= 0) std::exit(1);
          reply.append(buf, static_cast<size_t>(got));
        }
        ++n;
        ++total;
      }
      ::close(fd);
    });
  }
  for (auto& t : threads) t.join();
  std::printf("server %d client%s %10.0f requests/s\n", clients, clients == 1 ? " " : "s", total / seconds_since(start));
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "inprocess" && argc == 4) {
    inprocess(argv[2], std::atof(argv[3]));
  } else if (mode == "client" && argc == 5) {
    client(std::atoi(argv[2]), std::atoi(argv[3]), std::atof(argv[4]));
  } else {
    std::fprintf(stderr, "usage: bench_policy inprocess POLICY SECONDS | client PORT CLIENTS SECONDS\n");
    return 64;
  }
  return 0;
}
