#include "relay/spool_tools_hold.hpp"

#include <algorithm>
#include <string>

namespace relay::hold {

void hold_claimed(Claim& claim, std::string_view reason) {
  Envelope envelope = claim.envelope();
  envelope.hold_reason = std::string(reason);
  auto& extra = envelope.extra;
  std::erase_if(extra, [](const auto& field) { return field.first == kHoldFromField; });
  extra.emplace_back(std::string(kHoldFromField), std::string(to_string(claim.origin())));
  claim.rewrite_envelope(envelope);
  claim.finish(Stage::kHold);
}

Stage release_claimed(Claim& claim, std::optional<Stage> to) {
  Envelope envelope = claim.envelope();
  std::optional<Stage> from;
  auto& extra = envelope.extra;
  auto field = std::find_if(extra.begin(), extra.end(), [](const auto& f) { return f.first == kHoldFromField; });
  if (field != extra.end()) {
    from = parse_stage(field->second);
    extra.erase(field);
  }
  Stage target = to ? *to : !from ? Stage::kIncoming : *from == Stage::kDeferred ? Stage::kOutgoing : *from;
  envelope.hold_reason.clear();
  claim.rewrite_envelope(envelope);
  claim.finish(target, target == Stage::kDeferred ? envelope.next_attempt : 0);
  return target;
}

}  // namespace relay::hold
