// libFuzzer harness for the bounce parser (DSN, ARF, the text formats, auto-replies) and the
// helpers it exposes, on arbitrary bytes. Every record it returns must have a reason and an
// address, and hard may only be set for the reasons that allow it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "relay/bounce.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  relay::bounce::Report report = relay::bounce::parse(input);
  for (const auto& r : report.recipients) {
    if (r.address.empty()) std::abort();
    bool may_be_hard = r.reason == relay::bounce::Reason::kUserUnknown ||
                       r.reason == relay::bounce::Reason::kHostUnknown || r.reason == relay::bounce::Reason::kComplaint;
    if (r.hard && !may_be_hard) std::abort();
  }
  volatile int sink = relay::bounce::find_smtp_code(input) + static_cast<int>(relay::bounce::find_status(input).size());
  sink = sink + static_cast<int>(relay::bounce::parse_rfc5322_date(input).value_or(0) & 1);
  (void)sink;
  return 0;
}
