#pragma once
// Reading a whole message for the DKIM programs, with a size limit.
#include <cstddef>
#include <string>

namespace relay::dkim {

// All of fd (or of the file at path) up to max_bytes. Throws Failure(kExitData) when the
// input is larger, and a temporary or permission Failure when it cannot be read.
std::string read_limited(int fd, size_t max_bytes, const std::string& what);
std::string read_file_limited(const std::string& path, size_t max_bytes);

}  // namespace relay::dkim
