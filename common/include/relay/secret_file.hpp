#pragma once
// Files that hold secrets (password hashes, relay credentials, DKIM and TLS private keys) are
// read through here: refused with 77 when group or others have any access, checked on the
// open descriptor so a chmod between check and read cannot slip through.
#include <string>

namespace relay {

// The whole file. what names it in errors ("auth file", "TLS key"). Failure(kExitPermission)
// for a mode that lets group or others in, Failure(kExitConfig) for something that is not a
// regular file of at most max_size bytes.
std::string read_secret_file(const std::string& path, const std::string& what, size_t max_size = 1 << 20);

}  // namespace relay
