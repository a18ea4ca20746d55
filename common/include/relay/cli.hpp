#pragma once
// The one run harness every program's main() goes through: CLI11 parsing with --help,
// --version and --log, optional --json and --now, signal policy, exit codes, flushing.
//
//   int main(int argc, char** argv) {
//     relay::Tool tool("spool-ls", "List the messages of a relay spool.");
//     tool.add_json();
//     std::string spool_dir;
//     tool.app().add_option("--spool", spool_dir, "spool directory")->required();
//     return tool.run(argc, argv, [&] { return list(spool_dir, tool); });
//   }
#include <CLI/CLI.hpp>
#include <functional>
#include <string>

#include "relay/clock.hpp"

namespace relay {

class Tool {
 public:
  Tool(std::string name, std::string description);

  CLI::App& app() { return app_; }
  const std::string& name() const { return name_; }

  // --json: JSON lines on stdout instead of text for people.
  void add_json();
  bool json() const { return json_; }

  // --now TIME (or RELAY_NOW): the clock the program uses.
  void add_now();
  Clock clock() const;

  // Parses, then runs body; returns the process exit code. Every exception ends here:
  // relay::Failure with its code, a CLI11 parse error with 64, anything else with 75.
  int run(int argc, char** argv, const std::function<int()>& body);

 private:
  std::string name_;
  CLI::App app_;
  bool json_ = false;
  std::string now_;
  std::string log_sink_ = "stderr";
};

// Writes all of data to fd (retrying short writes and EINTR); throws Failure on error.
void write_all(int fd, std::string_view data, const char* what);

}  // namespace relay
