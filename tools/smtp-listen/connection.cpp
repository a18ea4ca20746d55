#include "connection.hpp"

#include <unistd.h>

#include "relay/exit_codes.hpp"
#include "relay/log.hpp"
#include "server.hpp"

namespace smtp_listen {
namespace {

constexpr size_t kReadChunk = 16 << 10;
constexpr size_t kWriteChunk = 64 << 10;
constexpr size_t kMaxUnsent = 256 << 10;  // replies a client has not read: stop reading it
constexpr int kReadsPerPump = 16;         // then other connections get their turn
constexpr int64_t kCloseGraceMs = 10000;  // to deliver the last reply before the socket goes

}  // namespace

Connection::Connection(Server& server, uint64_t id, int read_fd, int write_fd, ClientInfo client, bool implicit_tls)
    : server_(server),
      id_(id),
      read_fd_(read_fd),
      write_fd_(write_fd),
      client_ip_(client.ip),
      implicit_tls_(implicit_tls),
      stream_(read_fd, write_fd),
      session_(server.services(), *this, std::move(client)),
      started_ms_(monotonic_ms()),
      last_input_ms_(started_ms_) {}

Connection::~Connection() {
  session_.abandon();
  ::close(read_fd_);
  if (write_fd_ != read_fd_) ::close(write_fd_);
}

void Connection::begin() {
  if (!implicit_tls_) session_.start();
  if (implicit_tls_ && !begin_tls()) return server_.update(*this);
  pump();
}

bool Connection::begin_tls() {
  try {
    stream_.start_tls(server_.services().tls);
    return true;
  } catch (const relay::Failure& e) {
    relay::log::warning(e.what());
    finished_ = true;
    return false;
  }
}

void Connection::send(std::string_view text) { out_.append(text); }

void Connection::start_tls() { tls_requested_ = true; }

void Connection::close() {
  close_requested_ = true;
  if (!close_deadline_ms_) close_deadline_ms_ = monotonic_ms() + kCloseGraceMs;
}

void Connection::run_off_loop(Work kind, std::function<void()> work, std::function<void()> done) {
  Server& server = server_;
  uint64_t id = id_;
  server_.pool(kind).submit(std::move(work), [&server, id, done = std::move(done)] {
    Connection* connection = server.find(id);
    if (!connection) return;  // the client left meanwhile
    done();
    connection->pump();
  });
}

void Connection::after(int64_t millis, std::function<void()> done) {
  wake_at_ms_ = monotonic_ms() + millis;
  wake_ = std::move(done);
}

void Connection::drop(const char* reason) {
  if (!finished_ && session_.receiving_message())
    relay::log::event({{"client", client_ip_}, {"status", "disconnect"}, {"reason", reason}});
  finished_ = true;
}

bool Connection::flush() {
  while (out_pos_ < out_.size()) {
    size_t put = 0;
    size_t size = std::min(out_.size() - out_pos_, kWriteChunk);
    IoResult result = stream_.write(out_.data() + out_pos_, size, &put);
    write_wants_read_ = result == IoResult::kWantRead;
    if (result == IoResult::kWantRead || result == IoResult::kWantWrite) return true;
    if (result != IoResult::kDone) {
      drop("write error");
      return false;
    }
    out_pos_ += put;
  }
  out_.clear();
  out_pos_ = 0;
  return true;
}

void Connection::pump() {
  int reads = 0;
  bool progress = true;
  while (progress && !finished_) {
    progress = false;
    if (stream_.handshaking()) {
      IoResult result = stream_.handshake();
      if (result == IoResult::kDone) {
        session_.tls_started(stream_.tls_version(), stream_.tls_cipher());
        if (implicit_tls_) {
          implicit_tls_ = false;
          session_.start();
        }
        progress = true;
        continue;
      }
      if (result == IoResult::kWantRead || result == IoResult::kWantWrite) {
        handshake_wants_ = result;
        break;
      }
      relay::log::event({{"client", client_ip_}, {"status", "disconnect"}, {"reason", "TLS handshake failed"},
                         {"detail", stream_.error()}});
      finished_ = true;
      break;
    }
    if (!flush()) break;
    if (out_pos_ == 0 && out_.empty()) {
      if (close_requested_) {
        finished_ = true;
        break;
      }
      if (tls_requested_) {
        tls_requested_ = false;
        if (!begin_tls()) break;
        progress = true;
        continue;
      }
    }
    if (session_.wants_input() && !tls_requested_ && !close_requested_ && out_.size() - out_pos_ < kMaxUnsent) {
      if (reads++ >= kReadsPerPump) {
        server_.schedule(id_);
        break;
      }
      char buffer[kReadChunk];
      size_t got = 0;
      IoResult result = stream_.read(buffer, sizeof buffer, &got);
      read_wants_write_ = result == IoResult::kWantWrite;
      if (result == IoResult::kDone) {
        last_input_ms_ = monotonic_ms();
        session_.receive(std::string_view(buffer, got));
        progress = true;
      } else if (result == IoResult::kClosed) {
        drop("client closed the connection");
      } else if (result == IoResult::kError) {
        drop("read error");
      }
    }
  }
  if (!finished_ && stream_.pending() && session_.wants_input()) server_.schedule(id_);
  server_.update(*this);
}

bool Connection::wants_read() const {
  if (finished_) return false;
  if (stream_.handshaking()) return handshake_wants_ == IoResult::kWantRead;
  return write_wants_read_ || (session_.wants_input() && !tls_requested_ && !close_requested_);
}

bool Connection::wants_write() const {
  if (finished_) return false;
  if (stream_.handshaking()) return handshake_wants_ == IoResult::kWantWrite;
  return read_wants_write_ || out_pos_ < out_.size();
}

void Connection::tick(int64_t now_ms) {
  if (finished_) return;
  if (wake_at_ms_ && now_ms >= wake_at_ms_) {
    wake_at_ms_ = 0;
    auto wake = std::move(wake_);
    wake();
    pump();
    return;
  }
  if (close_deadline_ms_ && now_ms >= close_deadline_ms_) {
    finished_ = true;
    return;
  }
  const Limits& limits = server_.services().config.limits;
  if (session_.closing() || wake_at_ms_) return;
  int64_t idle_limit = (session_.receiving_message() ? limits.data_timeout : limits.command_timeout) * 1000;
  bool idle = session_.wants_input() || stream_.handshaking() || out_pos_ < out_.size();
  if ((idle && now_ms - last_input_ms_ >= idle_limit) || now_ms - started_ms_ >= limits.session_timeout * 1000) {
    if (stream_.handshaking()) {
      finished_ = true;
      return;
    }
    session_.timed_out();
    pump();
  }
}

}  // namespace smtp_listen
