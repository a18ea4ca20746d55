#pragma once
// The relay-host password file: one "HOST[:PORT] USER PASSWORD" line per next hop ('#' starts
// a comment line; the password is the rest of the line). Refused when group or world can
// read it.
#include <map>
#include <string>

#include "relay/smtp_client_session.hpp"

namespace mxdeliver {

std::map<std::string, relay::smtp::Credentials> read_credentials(const std::string& path);

}  // namespace mxdeliver
