#pragma once
// sendmail(8)'s command line (-t -i -oi -f addr -fAddr -F name -bp -odi ...) rewritten into
// the long options relay-sendmail's CLI11 parser knows, so one parser handles both.
#include <string>
#include <vector>

namespace relay::sendmail {

struct TranslatedArgs {
  std::vector<std::string> args;  // argv for CLI11, program name first, recipients after "--"
  std::string error;              // non-empty: an unknown or unsupported sendmail option
};

// invoked_as is argv[0]'s base name: "mailq" means -bp.
TranslatedArgs translate(const std::vector<std::string>& argv, const std::string& invoked_as);

}  // namespace relay::sendmail
