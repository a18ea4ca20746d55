// DKIM verification through libopendkim. libopendkim parses the signatures, canonicalizes
// and checks them; the key records come from our Resolver through its key-lookup callback,
// so --resolver and the tests' DNS server apply, and DNS failures keep their meaning.
#include "relay/dkim_verify.hpp"

// dkim.h declares C99 _Bool parameters, which C++ spells bool.
#define _Bool bool
#include <opendkim/dkim.h>
#undef _Bool

#include <cstring>
#include <ctime>
#include <optional>
#include <fmt/format.h>
#include <map>
#include <memory>

#include "relay/dkim_wire.hpp"
#include "relay/exit_codes.hpp"
#include "relay/headers.hpp"

namespace relay::dkim {

std::string_view to_string(Result result) {
  switch (result) {
    case Result::kPass: return "pass";
    case Result::kFail: return "fail";
    case Result::kNeutral: return "neutral";
    case Result::kTempError: return "temperror";
    case Result::kPermError: return "permerror";
  }
  return "neutral";
}

namespace {

// What the key lookup saw for one signature, so results can tell "no key" from "DNS down".
struct Lookup {
  dns::Status status = dns::Status::kOk;
  std::string name;
};

struct VerifyContext {
  dns::Resolver* resolver = nullptr;
  size_t max_lookups = 0;
  std::map<const DKIM_SIGINFO*, Lookup> lookups;
};

std::string sig_text(unsigned char* value) { return value ? reinterpret_cast<const char*>(value) : ""; }

// Several TXT records at the name: the one that declares v=DKIM1 first, else the first.
const std::string& pick_record(const std::vector<std::string>& records) {
  for (const auto& record : records)
    if (record.rfind("v=DKIM1", 0) == 0) return record;
  return records.front();
}

DKIM_CBSTAT lookup_key(DKIM* dkim, DKIM_SIGINFO* sig, u_char* buf, size_t buflen) {
  auto* context = static_cast<VerifyContext*>(dkim_get_user_context(dkim));
  if (context->lookups.size() >= context->max_lookups) return DKIM_CBSTAT_ERROR;  // a cost limit
  Lookup& lookup = context->lookups[sig];
  lookup.name = fmt::format("{}._domainkey.{}", sig_text(dkim_sig_getselector(sig)),
                            sig_text(dkim_sig_getdomain(sig)));
  auto answer = context->resolver->txt(lookup.name);
  lookup.status = answer.status;
  if (answer.ok() && !answer.records.empty()) {
    const std::string& record = pick_record(answer.records);
    if (record.size() >= buflen) return DKIM_CBSTAT_ERROR;
    std::memcpy(buf, record.data(), record.size());
    buf[record.size()] = '\0';
    return DKIM_CBSTAT_CONTINUE;
  }
  if (dns::is_temporary(answer.status)) return DKIM_CBSTAT_TRYAGAIN;
  return DKIM_CBSTAT_NOTFOUND;
}

std::string tag_value(DKIM_SIGINFO* sig, const char* tag) {
  return sig_text(dkim_sig_gettagvalue(sig, false, reinterpret_cast<u_char*>(const_cast<char*>(tag))));
}

// libopendkim checks t= and x= against the system clock only. With a fixed time its clock
// drift allowance is widened so it never rejects what the fixed time accepts, and
// check_times() applies the fixed time itself.
constexpr uint64_t kClockDrift = 300;

uint64_t drift_for(int64_t fixed_now) {
  if (fixed_now <= 0) return kClockDrift;
  int64_t real_now = static_cast<int64_t>(::time(nullptr));
  return kClockDrift + static_cast<uint64_t>(real_now > fixed_now ? real_now - fixed_now : fixed_now - real_now);
}

void check_times(DKIM_SIGINFO* sig, int64_t now, SignatureResult& out) {
  auto number = [&](const char* tag) -> std::optional<int64_t> {
    std::string text = tag_value(sig, tag);
    if (text.empty() || text.size() > 12 || text.find_first_not_of("0123456789") != std::string::npos)
      return std::nullopt;
    return std::stoll(text);
  };
  auto drift = static_cast<int64_t>(kClockDrift);
  if (auto expires = number("x"); expires && now >= *expires + drift) {
    out.result = Result::kPermError;
    out.reason = "signature expired (x= in the past)";
  } else if (auto signed_at = number("t"); signed_at && *signed_at > now + drift) {
    out.result = Result::kPermError;
    out.reason = "signature timestamp in the future";
  }
}

struct LibDeleter {
  void operator()(DKIM_LIB* lib) const { dkim_close(lib); }
};
struct HandleDeleter {
  void operator()(DKIM* dkim) const { dkim_free(dkim); }
};

std::unique_ptr<DKIM_LIB, LibDeleter> open_library(const VerifyOptions& options) {
  std::unique_ptr<DKIM_LIB, LibDeleter> lib(dkim_init(nullptr, nullptr));
  if (!lib) throw Failure(kExitTemporary, "unable to initialize libopendkim: out of memory");
  unsigned int min_bits = options.min_key_bits;
  unsigned int flags = DKIM_LIBFLAGS_BADSIGHANDLES;  // keep handles of malformed signatures
  uint64_t drift = drift_for(options.now);
  if (dkim_options(lib.get(), DKIM_OP_SETOPT, DKIM_OPTS_CLOCKDRIFT, &drift, sizeof drift) != DKIM_STAT_OK ||
      dkim_options(lib.get(), DKIM_OP_SETOPT, DKIM_OPTS_MINKEYBITS, &min_bits, sizeof min_bits) != DKIM_STAT_OK ||
      dkim_options(lib.get(), DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags, sizeof flags) != DKIM_STAT_OK ||
      dkim_set_key_lookup(lib.get(), lookup_key) != DKIM_STAT_OK)
    throw Failure(kExitTemporary, "unable to configure libopendkim: option refused");
  return lib;
}

// RFC 6376 6.1 / RFC 8601 2.7.1: what each libopendkim signature error means for the result.
void classify(DKIM* dkim, DKIM_SIGINFO* sig, const Lookup* lookup, SignatureResult& out) {
  int error = dkim_sig_geterror(sig);
  unsigned flags = dkim_sig_getflags(sig);
  auto set = [&](Result result, std::string reason) {
    out.result = result;
    out.reason = std::move(reason);
  };
  // The lookup outcome first: after a failed lookup libopendkim leaves the signature unprocessed.
  if (lookup && dns::is_temporary(lookup->status))
    return set(Result::kTempError, fmt::format("key lookup of {} failed: {}", lookup->name, dns::to_string(lookup->status)));
  if (lookup && lookup->status != dns::Status::kOk)
    return set(Result::kPermError, fmt::format("no key record at {} ({})", lookup->name, dns::to_string(lookup->status)));
  switch (error) {
    case DKIM_SIGERROR_OK:
      if (!(flags & DKIM_SIGFLAG_PROCESSED)) return set(Result::kNeutral, "signature not processed");
      if (dkim_sig_getbh(sig) == DKIM_SIGBH_MISMATCH) return set(Result::kFail, "body hash did not verify");
      if (!(flags & DKIM_SIGFLAG_PASSED)) return set(Result::kFail, "signature did not verify");
      if (out.algorithm == "rsa-sha1") return set(Result::kPermError, "rsa-sha1 is not accepted (RFC 8301)");
      return set(Result::kPass, "");
    case DKIM_SIGERROR_BADSIG:
      if (dkim_sig_getbh(sig) == DKIM_SIGBH_MISMATCH) return set(Result::kFail, "body hash did not verify");
      return set(Result::kFail, "signature did not verify");
    case DKIM_SIGERROR_NOKEY:
    case DKIM_SIGERROR_KEYFAIL:
      return set(Result::kPermError, "key record unusable");
    case DKIM_SIGERROR_KEYREVOKED: return set(Result::kPermError, "key revoked (empty p=)");
    case DKIM_SIGERROR_KEYTOOSMALL:
      return set(Result::kPermError, fmt::format("key too short ({} bits)", out.key_bits));
    case DKIM_SIGERROR_EXPIRED: return set(Result::kPermError, "signature expired (x= in the past)");
    case DKIM_SIGERROR_FUTURE: return set(Result::kPermError, "signature timestamp in the future");
    case DKIM_SIGERROR_TIMESTAMPS: return set(Result::kPermError, "x= earlier than t=");
    case DKIM_SIGERROR_DNSSYNTAX:
    case DKIM_SIGERROR_MULTIREPLY:
    case DKIM_SIGERROR_KEYVERSION:
    case DKIM_SIGERROR_KEYUNKNOWNHASH:
    case DKIM_SIGERROR_KEYHASHMISMATCH:
    case DKIM_SIGERROR_NOTEMAILKEY:
    case DKIM_SIGERROR_KEYTYPEMISSING:
    case DKIM_SIGERROR_KEYTYPEUNKNOWN:
    case DKIM_SIGERROR_KEYDECODE:
      return set(Result::kPermError, fmt::format("key record: {}", dkim_sig_geterrorstr(error)));
    default: {
      const char* why = error == DKIM_SIGERROR_UNKNOWN ? dkim_geterror(dkim) : dkim_sig_geterrorstr(error);
      return set(Result::kNeutral, why ? why : "signature not processed");
    }
  }
}

void check(DKIM_STAT status, DKIM* dkim, const char* what) {
  // NOSIG, SYNTAX and similar per-message statuses are answered per signature below.
  if (status == DKIM_STAT_NORESOURCE || status == DKIM_STAT_INTERNAL)
    throw Failure(kExitTemporary, fmt::format("unable to {}: {}", what, dkim_geterror(dkim) ? dkim_geterror(dkim) : "libopendkim error"));
}

}  // namespace

std::vector<SignatureResult> verify_message(std::string_view message, dns::Resolver& resolver,
                                            const VerifyOptions& options) {
  HeaderBlock headers(message);
  if (headers.malformed() || headers.fields().empty())
    throw Failure(kExitData, "unable to parse message: no valid header section");
  if (headers.count("DKIM-Signature") == 0) return {};

  auto lib = open_library(options);
  VerifyContext context{&resolver, options.max_signatures, {}};
  DKIM_STAT status = DKIM_STAT_OK;
  std::unique_ptr<DKIM, HandleDeleter> dkim(
      dkim_verify(lib.get(), reinterpret_cast<const unsigned char*>("relay"), nullptr, &status));
  if (!dkim) throw Failure(kExitTemporary, "unable to start DKIM verification: libopendkim refused");
  dkim_set_user_context(dkim.get(), &context);

  for (const auto& field : headers.fields()) {
    std::string wire = field_without_line_end(field.raw);
    check(dkim_header(dkim.get(), reinterpret_cast<u_char*>(wire.data()), wire.size()), dkim.get(),
          "pass header to libopendkim");
  }
  // A failed key lookup makes dkim_eoh return early (CBTRYAGAIN, NOKEY, ...); the body is
  // still hashed so every signature gets its own result.
  status = dkim_eoh(dkim.get());
  check(status, dkim.get(), "verify header");
  if (status != DKIM_STAT_NOSIG) {
    std::string body = crlf_body(message.substr(headers.body_offset()));
    // SMTP ends every message with a line end; libopendkim refuses a body without one.
    if (!body.empty() && !body.ends_with("\r\n")) body += "\r\n";
    status = dkim_body(dkim.get(), reinterpret_cast<u_char*>(body.data()), body.size());
    check(status, dkim.get(), "hash body");
    bool testkey = false;
    status = dkim_eom(dkim.get(), &testkey);
    check(status, dkim.get(), "verify message");
  }

  DKIM_SIGINFO** sigs = nullptr;
  int count = 0;
  std::vector<SignatureResult> results;
  if (dkim_getsiglist(dkim.get(), &sigs, &count) != DKIM_STAT_OK) return results;
  for (int i = 0; i < count && results.size() < options.max_signatures; ++i) {
    DKIM_SIGINFO* sig = sigs[i];
    SignatureResult out;
    out.domain = sig_text(dkim_sig_getdomain(sig));
    out.selector = sig_text(dkim_sig_getselector(sig));
    out.algorithm = tag_value(sig, "a");
    unsigned char identity[512] = {0};
    if (dkim_sig_getidentity(dkim.get(), sig, identity, sizeof identity - 1) == DKIM_STAT_OK)
      out.identity = reinterpret_cast<const char*>(identity);
    if (out.identity.empty() && !out.domain.empty()) out.identity = "@" + out.domain;
    unsigned int bits = 0;
    if (dkim_sig_getkeysize(sig, &bits) == DKIM_STAT_OK) out.key_bits = bits;
    auto lookup = context.lookups.find(sig);
    classify(dkim.get(), sig, lookup == context.lookups.end() ? nullptr : &lookup->second, out);
    // libopendkim sizes RSA keys only; an Ed25519 key that checked a signature has 256 bits.
    if (out.algorithm == "ed25519-sha256" && (out.result == Result::kPass || out.result == Result::kFail))
      out.key_bits = 256;
    if (options.now > 0 && (out.result == Result::kPass || out.result == Result::kFail)) check_times(sig, options.now, out);
    results.push_back(std::move(out));
  }
  return results;
}

}  // namespace relay::dkim
