#include "relay/log.hpp"

#include <limits.h>
#include <syslog.h>

#include <cstdio>
#include <mutex>
#include <string>

namespace relay::log {
namespace {

std::string g_program = "relay";
Sink g_sink = Sink::kStderr;

// Lines kept by hold_lines(true). They are written in pieces of whole lines of at most
// PIPE_BUF bytes: a write that size to a pipe is not interleaved with other processes'
// writes (spool-run and its filter share a stderr), so no line is cut by another's.
std::mutex g_held_mutex;
bool g_holding = false;
std::string g_held;
constexpr size_t kMaxHeld = 32768;

void write_held() {
  std::string_view rest = g_held;
  while (!rest.empty()) {
    size_t piece = rest.size();
    if (piece > PIPE_BUF) {
      size_t last_lf = rest.rfind('\n', PIPE_BUF - 1);
      piece = last_lf == std::string_view::npos ? PIPE_BUF : last_lf + 1;  // a longer line goes in parts
    }
    std::fwrite(rest.data(), 1, piece, stderr);
    rest.remove_prefix(piece);
  }
  g_held.clear();
}

void emit(int priority, std::string_view severity, std::string_view text) {
  if (g_sink == Sink::kSyslog) {
    syslog(priority, "%s%.*s", std::string(severity).c_str(), static_cast<int>(text.size()),
           text.data());
    return;
  }
  std::string line = g_program + ": ";
  line += severity;
  line += text;
  line += '\n';
  std::lock_guard lock(g_held_mutex);
  if (g_holding && priority == LOG_INFO) {
    g_held += line;
    if (g_held.size() >= kMaxHeld) write_held();
    return;
  }
  write_held();
  std::fwrite(line.data(), 1, line.size(), stderr);
}

// Length of the valid UTF-8 sequence at s[i], or 0 when it is not one.
size_t utf8_length(std::string_view s, size_t i) {
  unsigned char c = s[i];
  size_t n = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k)
    if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return 0;
  return n;
}

}  // namespace

void init(std::string_view program, Sink sink) {
  g_program = std::string(program);
  g_sink = sink;
  if (sink == Sink::kSyslog) openlog(g_program.c_str(), LOG_PID, LOG_MAIL);
}

std::string_view program() { return g_program; }

void hold_lines(bool hold) {
  std::lock_guard lock(g_held_mutex);
  g_holding = hold;
  if (!hold) write_held();
}

void flush_lines() {
  std::lock_guard lock(g_held_mutex);
  write_held();
}

void fatal(std::string_view text) { emit(LOG_CRIT, "fatal: ", text); }
void warning(std::string_view text) { emit(LOG_WARNING, "warning: ", text); }
void info(std::string_view text) { emit(LOG_INFO, "", text); }

std::string sanitize(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    unsigned char c = text[i];
    if (c >= 0x20 && c < 0x7F) {
      out += static_cast<char>(c);
      ++i;
    } else if (size_t n = c >= 0x80 ? utf8_length(text, i) : 0) {
      out.append(text.substr(i, n));
      i += n;
    } else {
      out += '?';
      ++i;
    }
  }
  return out;
}

std::string format_event(std::initializer_list<Field> fields) {
  std::string line;
  for (const auto& [key, raw] : fields) {
    if (!line.empty()) line += ' ';
    line += key;
    line += '=';
    std::string value = sanitize(raw);
    if (value.find_first_of(" \"\\") == std::string::npos && !value.empty()) {
      line += value;
      continue;
    }
    line += '"';
    for (char c : value) {
      if (c == '"' || c == '\\') line += '\\';
      line += c;
    }
    line += '"';
  }
  return line;
}

void event(std::initializer_list<Field> fields) { info(format_event(fields)); }

}  // namespace relay::log
