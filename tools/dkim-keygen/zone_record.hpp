#pragma once
// A TXT record in zone-file form, its text split into strings of at most 255 bytes
// (RFC 1035 3.3.14; RFC 6376 3.6.2.2 joins them back without separators).
#include <string>
#include <string_view>

namespace relay::dkim {

// name. IN TXT ( "first 255 bytes"
//         "next..." )
std::string zone_txt_record(std::string_view owner, std::string_view text);

}  // namespace relay::dkim
