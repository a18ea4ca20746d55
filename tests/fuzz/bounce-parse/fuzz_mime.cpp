// libFuzzer harness for the MIME decoders: the part tree with every part's text, the header
// decoder and the Content-Type parser, on arbitrary bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "relay/mime.hpp"

namespace {

size_t visit(const relay::mime::Part& part) {
  size_t bytes = part.text().size() + relay::mime::decode_header(part.header("Subject")).size();
  for (const auto& child : part.children) bytes += visit(child);
  return bytes;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  relay::mime::Part root = relay::mime::parse(input);
  volatile size_t sink = visit(root);
  sink = sink + relay::mime::decode_header(input).size();
  sink = sink + relay::mime::parse_content_type(input).params.size();
  sink = sink + relay::mime::decode_quoted_printable(input, size % 2 == 0).size();
  (void)sink;
  return 0;
}
