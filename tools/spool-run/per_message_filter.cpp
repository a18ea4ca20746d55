// Per-message mode: the message on stdin, the new message on stdout, the verdict in the exit code.
#include <sys/wait.h>

#include "child.hpp"
#include "filter_env.hpp"
#include "filters.hpp"
#include "relay/exit_codes.hpp"

namespace relay::spoolrun {
namespace {

filter::Verdict verdict(int code, std::string reason) {
  filter::Verdict v;
  v.code = code;
  v.reason = std::move(reason);
  return v;
}

class PerMessageFilter : public Filter {
 public:
  explicit PerMessageFilter(FilterSettings settings)
      : settings_(std::move(settings)), inherited_(inherited_environment()) {}

  void submit(const Envelope& envelope, const std::string& message) override {
    envelope_ = &envelope;
    message_ = &message;
  }

  filter::Verdict collect() override {
    const Envelope& envelope = *envelope_;
    const std::string& message = *message_;
    std::vector<std::string> env;
    try {
      env = message_environment(inherited_, settings_.spool, settings_.stage, envelope);
    } catch (const Failure& e) {
      return verdict(e.code(), e.what());
    }
    Child child(settings_.argv, env, true);
    Deadline deadline = std::chrono::steady_clock::now() + settings_.timeout;
    std::string output;
    Child::Exchange exchange{.input = message, .close_input_after = true, .max_output = settings_.max_output,
                             .complete = nullptr};
    switch (child.pump(exchange, output, deadline)) {
      case Child::Pumped::kTimeout: return verdict(kExitTemporary, timed_out());
      case Child::Pumped::kTooLarge:
        return verdict(kExitData, "filter output larger than " + std::to_string(settings_.max_output) + " bytes");
      case Child::Pumped::kError: return verdict(kExitTemporary, "unable to talk to the filter");
      default: break;
    }
    std::optional<int> status = child.wait(deadline);
    if (!status) return verdict(kExitTemporary, timed_out());
    std::string said = child.last_error_line().empty() ? "" : ": " + child.last_error_line();
    if (!WIFEXITED(*status)) return verdict(kExitTemporary, "filter " + describe_status(*status) + said);
    int code = WEXITSTATUS(*status);
    if (code != kExitOk) return verdict(code, "filter exited with " + std::to_string(code) + said);
    filter::Verdict passed;
    passed.message = std::move(output);
    return passed;
  }

 private:
  std::string timed_out() const {
    return "filter timed out after " + std::to_string(settings_.timeout.count()) + " s";
  }

  FilterSettings settings_;
  std::vector<std::string> inherited_;
  const Envelope* envelope_ = nullptr;  // the message submitted (one at a time)
  const std::string* message_ = nullptr;
};

}  // namespace

std::unique_ptr<Filter> make_per_message_filter(FilterSettings settings) {
  return std::make_unique<PerMessageFilter>(std::move(settings));
}

}  // namespace relay::spoolrun
