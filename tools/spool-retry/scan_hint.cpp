#include "scan_hint.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <ctime>
#include <fstream>
#include <string>

#include "relay/exit_codes.hpp"

namespace spoolretry {
namespace {

std::string hint_path(const relay::Spool& spool) { return spool.root() + "/.retry-hint"; }

bool read_number(std::string_view text, int64_t& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

DirStamp deferred_stamp(const relay::Spool& spool) {
  struct stat st {};
  std::string dir = spool.path(relay::Stage::kDeferred, "");
  if (::stat(dir.c_str(), &st) != 0) relay::fail_errno("unable to stat " + dir, errno);
  return {st.st_mtim.tv_sec, st.st_mtim.tv_nsec};
}

bool hint_says_nothing_due(const relay::Spool& spool, int64_t now) {
  std::ifstream in(hint_path(spool));
  if (!in) return false;
  std::string line;
  DirStamp stamp;
  int64_t next_due = 0;
  bool have_version = false, have_stamp = false, have_due = false;
  while (std::getline(in, line)) {
    size_t eq = line.find('=');
    if (eq == std::string::npos) return false;
    std::string_view name(line.data(), eq), value(line.data() + eq + 1, line.size() - eq - 1);
    if (name == "version") {
      have_version = value == "1";
    } else if (name == "deferred-mtime") {
      size_t dot = value.find('.');
      have_stamp = dot != std::string_view::npos && read_number(value.substr(0, dot), stamp.seconds) &&
                   read_number(value.substr(dot + 1), stamp.nanos);
    } else if (name == "next-due") {
      have_due = read_number(value, next_due);
    }
  }
  return have_version && have_stamp && have_due && now < next_due && deferred_stamp(spool) == stamp;
}

void save_hint(const relay::Spool& spool, const DirStamp& before_scan, int64_t next_due) {
  timespec real{};
  clock_gettime(CLOCK_REALTIME, &real);
  if (real.tv_sec - before_scan.seconds < 2) {
    forget_hint(spool);
    return;
  }
  std::string path = hint_path(spool);
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << "version=1\ndeferred-mtime=" << before_scan.seconds << '.' << before_scan.nanos << "\nnext-due=" << next_due
        << '\n';
    if (!out.flush()) {
      ::unlink(tmp.c_str());
      return;  // only a shortcut: the next run scans
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) ::unlink(tmp.c_str());
}

void forget_hint(const relay::Spool& spool) { ::unlink(hint_path(spool).c_str()); }

}  // namespace spoolretry
