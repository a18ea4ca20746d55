#pragma once
// One-message mode: the message on standard input, the envelope on the command line, one
// report line per recipient on standard output.
#include <string>
#include <vector>

#include "config.hpp"

namespace mxdeliver {

inline constexpr size_t kMaxMessage = 256u << 20;  // 256 MiB from standard input

// Returns the exit code: 0 all delivered, 75 any deferred, 100 all others failed.
int deliver_one(const Config& config, const std::string& sender, const std::vector<std::string>& recipients,
                bool json);

}  // namespace mxdeliver
