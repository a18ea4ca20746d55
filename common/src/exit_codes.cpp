#include "relay/exit_codes.hpp"

#include <cerrno>
#include <cstring>

namespace relay {

void fail_errno(const std::string& what, int err) {
  int code = (err == EACCES || err == EPERM) ? kExitPermission : kExitTemporary;
  throw Failure(code, what + ": " + std::strerror(err));
}

bool is_space_error(int err) { return err == ENOSPC || err == EDQUOT; }

char status_class_of(int exit_code) {
  if (exit_code == kExitOk) return '2';
  if (exit_code == kExitTemporary) return '4';
  return '5';
}

}  // namespace relay
