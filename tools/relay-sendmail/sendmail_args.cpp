#include "sendmail_args.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <string_view>

namespace relay::sendmail {
namespace {

// Long options of relay-sendmail that take a value as the next argument.
constexpr std::array kLongWithValue = {"--spool", "--max-size", "--max-recipients", "--now", "--log",
                                       "--sender", "--full-name", "--notify", "--ret", "--envid"};

// sendmail options that take a value (attached or as the next argument) and mean nothing here:
// -B body type, -C config file, -L syslog label, -O option=value, -X log file, -h hop count.
constexpr std::string_view kIgnoredWithValue = "BCLOXh";
// Flags that mean nothing here: -G gateway, -U initial submission, -m me too, -n no aliasing,
// -v verbose is kept (it logs the queue id).
constexpr std::string_view kIgnoredFlags = "GUmn";

bool takes_value(std::string_view long_option) {
  return std::find(kLongWithValue.begin(), kLongWithValue.end(), long_option) != kLongWithValue.end();
}

class Translator {
 public:
  explicit Translator(TranslatedArgs& out) : out_(out) {}

  // Handles one "-xyz" cluster; may consume the next argument. Returns false on error.
  bool cluster(const std::vector<std::string>& argv, size_t& i) {
    std::string_view arg = argv[i];
    for (size_t k = 1; k < arg.size(); ++k) {
      char c = arg[k];
      std::string_view rest = arg.substr(k + 1);
      auto value = [&]() -> std::optional<std::string> {
        if (!rest.empty()) return std::string(rest);
        if (i + 1 < argv.size()) return argv[++i];
        out_.error = std::string("option -") + c + " needs a value";
        return std::nullopt;
      };
      switch (c) {
        case 't': add("--read-recipients"); break;
        case 'i': add("--ignore-dots"); break;
        case 'v': add("--verbose"); break;
        case 'f':
        case 'r': return with_value("--sender", value());
        case 'F': return with_value("--full-name", value());
        case 'N': return with_value("--notify", value());
        case 'R': return with_value("--ret", value());
        case 'V': return with_value("--envid", value());
        case 'o':
          // -oi is -i; -odi, -oem, -om and the other -oX settings change nothing here.
          if (rest == "i") add("--ignore-dots");
          return true;
        case 'A': return true;  // -Am / -Ac: which configuration file sendmail reads
        case 'b':
          if (rest == "p") add("--list-queue");
          else if (rest != "m") return unsupported("-b" + std::string(rest));
          return true;
        case 'q':
        case 'I': return unsupported(std::string(arg));
        default:
          if (kIgnoredWithValue.find(c) != std::string_view::npos) return value().has_value();
          if (kIgnoredFlags.find(c) != std::string_view::npos) break;
          out_.error = std::string("unknown option -") + c;
          return false;
      }
    }
    return true;
  }

  void add(std::string option) { out_.args.push_back(std::move(option)); }

 private:
  bool with_value(const char* option, const std::optional<std::string>& value) {
    if (!value) return false;
    add(std::string(option) + "=" + *value);
    return true;
  }

  bool unsupported(const std::string& option) {
    out_.error = "option " + option + " is not supported (relay-sendmail only queues mail and lists the queue)";
    return false;
  }

  TranslatedArgs& out_;
};

}  // namespace

TranslatedArgs translate(const std::vector<std::string>& argv, const std::string& invoked_as) {
  TranslatedArgs out;
  out.args.push_back(argv.empty() ? "relay-sendmail" : argv[0]);
  Translator translator(out);
  if (invoked_as == "mailq") translator.add("--list-queue");
  std::vector<std::string> recipients;
  for (size_t i = 1; i < argv.size(); ++i) {
    const std::string& arg = argv[i];
    if (arg == "--") {
      recipients.insert(recipients.end(), argv.begin() + static_cast<long>(i) + 1, argv.end());
      break;
    }
    if (arg.starts_with("--")) {
      out.args.push_back(arg);
      if (takes_value(arg) && i + 1 < argv.size()) out.args.push_back(argv[++i]);
    } else if (arg.size() > 1 && arg[0] == '-') {
      if (!translator.cluster(argv, i)) break;
    } else if (arg != "-") {
      recipients.push_back(arg);
    }
  }
  out.args.push_back("--");
  out.args.insert(out.args.end(), recipients.begin(), recipients.end());
  return out;
}

}  // namespace relay::sendmail
