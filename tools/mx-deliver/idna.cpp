#include "idna.hpp"

#include <idn2.h>

#include "relay/smtp_client_session.hpp"

namespace mxdeliver {

namespace {

bool ascii(std::string_view text) { return !relay::smtp::has_8bit(text); }

}  // namespace

std::optional<std::string> ascii_domain(std::string_view domain) {
  if (ascii(domain)) return std::string(domain);
  char* out = nullptr;
  std::string input(domain);
  if (idn2_to_ascii_8z(input.c_str(), &out, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT) != IDN2_OK) return std::nullopt;
  std::string result(out);
  idn2_free(out);
  return result;
}

std::string ascii_address(const std::string& address) {
  size_t at = address.rfind('@');
  if (at == std::string::npos || ascii(address) || !ascii(std::string_view(address).substr(0, at))) return address;
  std::optional<std::string> domain = ascii_domain(std::string_view(address).substr(at + 1));
  return domain ? address.substr(0, at + 1) + *domain : address;
}

}  // namespace mxdeliver
