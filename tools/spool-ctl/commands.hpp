#pragma once
// The operations of spool-ctl, one function each, over an open spool.
#include <cstdint>
#include <string>
#include <vector>

#include "relay/spool.hpp"

namespace relay::spoolctl {

enum class ShowPart { kAll, kEnvelope, kMessage };

// Each returns the exit code of the command; results go to stdout, problems to stderr.
int show(const Spool& spool, const std::string& id, ShowPart part, bool json);
int hold(Spool& spool, const std::vector<std::string>& ids, const std::string& reason);
int release(Spool& spool, const std::vector<std::string>& ids, const std::string& to_stage);
int remove(Spool& spool, const std::vector<std::string>& ids);
int requeue(Spool& spool, const std::vector<std::string>& ids, bool all, bool json);
int stats(const Spool& spool, int64_t now, bool json);
int purge_tmp(Spool& spool, int64_t now, int64_t max_age, bool json);
int recover(Spool& spool, int64_t now, int64_t lease, bool json);

}  // namespace relay::spoolctl
