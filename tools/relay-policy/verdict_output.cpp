#include "verdict_output.hpp"

#include "relay/json.hpp"

namespace relay_policy {
namespace {

relay::JsonObject verdict_object(const relay::policy::Verdict& v) {
  relay::JsonObject o;
  o.add("verdict", relay::policy::to_string(v.action))
      .add("code", v.code)
      .add("status", v.status)
      .add("text", v.text)
      .add("rule", v.rule);
  if (v.retry_after > 0) o.add("retry_after", v.retry_after);
  return o;
}

}  // namespace

std::string verdict_text(const relay::policy::Verdict& v) {
  std::string line = std::string(relay::policy::to_string(v.action)) + " " + v.reply();
  if (!v.rule.empty()) line += " [" + v.rule + "]";
  return line;
}

std::string verdict_json(const relay::policy::Verdict& verdict, const std::vector<std::string>& recipients,
                         const std::vector<relay::policy::Verdict>& per_recipient) {
  relay::JsonObject o = verdict_object(verdict);
  relay::JsonArray list;
  for (size_t i = 0; i < per_recipient.size() && i < recipients.size(); ++i) {
    relay::JsonObject r = verdict_object(per_recipient[i]);
    r.add("recipient", recipients[i]);
    list.push(r);
  }
  o.add("recipients", list);
  return o.str();
}

}  // namespace relay_policy
