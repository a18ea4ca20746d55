// relay-policy check: one message against the policy, from the command line or as a
// spool-run filter (relay-filter(7), per-message and streaming modes).
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "commands.hpp"
#include "message_request.hpp"
#include "relay/exit_codes.hpp"
#include "relay/filter_protocol.hpp"
#include "relay/log.hpp"
#include "verdict_output.hpp"

namespace relay_policy {
namespace {

constexpr size_t kMaxMessage = size_t{1} << 30;  // as relay-filter(7)'s largest frame

std::string read_stdin(size_t limit) {
  std::string data;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) relay::fail_errno("unable to read standard input", errno);
    if (n == 0) return data;
    data.append(buf, static_cast<size_t>(n));
    if (data.size() > limit) throw relay::Failure(relay::kExitData, "unable to read the message: larger than 1 GiB");
  }
}

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    if (end > pos) out.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  return out;
}

// The filter's answer for spool-run: only an accept moves the message on; a hold or a reject
// both leave it in hold/ with the verdict as the reason (spool-run cannot refuse mail).
relay::filter::Verdict filter_verdict(const relay::policy::Verdict& v, const std::string& id, std::string message) {
  relay::log::event({{"id", id},
                     {"verdict", relay::policy::to_string(v.action)},
                     {"reply", v.reply()},
                     {"rule", v.rule}});
  relay::filter::Verdict out;
  out.code = v.action == relay::policy::Action::kAccept ? relay::kExitOk : v.exit_code();
  out.reason = verdict_text(v);
  if (out.code == relay::kExitOk) out.message = std::move(message);
  return out;
}

int run_streaming_filter(relay::policy::Policy& policy) {
  return relay::filter::serve([&](const relay::Envelope& envelope, const std::string& message) {
    EnvelopeFields fields{envelope.auth_user, envelope.client_address, envelope.sender, {}};
    for (const auto& r : envelope.recipients)
      if (!r.done()) fields.recipients.push_back(r.address);
    return filter_verdict(policy.check_message(message_request(fields, message)), envelope.id, message);
  });
}

int run_message_filter(relay::policy::Policy& policy) {
  if (std::getenv("RELAY_RECIPIENTS") == nullptr)
    throw relay::Failure(relay::kExitUsage,
                         "unable to run as a filter: RELAY_RECIPIENTS is not set (check --filter runs under spool-run)");
  EnvelopeFields fields{env("RELAY_AUTH_USER"), env("RELAY_CLIENT_ADDRESS"), env("RELAY_SENDER"),
                        split_lines(env("RELAY_RECIPIENTS"))};
  std::string message = read_stdin(kMaxMessage);
  relay::filter::Verdict v = filter_verdict(policy.check_message(message_request(fields, message)),
                                            env("RELAY_ID"), message);
  if (v.code == relay::kExitOk) {
    relay::write_all(STDOUT_FILENO, v.message, "the message to standard output");
    return relay::kExitOk;
  }
  return v.code;
}

}  // namespace

int run_check(const relay::Tool& tool, const Common& common, const CheckArgs& args) {
  relay::policy::Policy policy(common.options(tool));
  if (args.filter) return relay::filter::streaming_requested() ? run_streaming_filter(policy) : run_message_filter(policy);
  if (!args.sender_given || args.recipients.empty())
    throw relay::Failure(relay::kExitUsage, "unable to check: --sender and at least one --rcpt are required (or --filter)");
  std::string message = read_stdin(kMaxMessage);
  relay::policy::Request request =
      message_request(EnvelopeFields{args.user, args.client, args.sender, args.recipients}, message);
  if (args.size) request.size = *args.size;
  std::vector<relay::policy::Verdict> per_recipient;
  relay::policy::Verdict v = policy.check_message(request, &per_recipient);
  std::string out = tool.json() ? verdict_json(v, args.recipients, per_recipient) : verdict_text(v);
  std::puts(out.c_str());
  return v.exit_code();
}

}  // namespace relay_policy
