// AUTH PLAIN and LOGIN (RFC 4954) and STARTTLS (RFC 3207) of a session.
#include "relay/base64.hpp"
#include "relay/log.hpp"
#include "session.hpp"

namespace smtp_listen {

bool Session::auth_offered() const {
  return services_.auth && (!tls_.empty() || services_.config.allow_plaintext_auth);
}

void Session::on_auth(const std::string& argument) {
  if (helo_.empty() || !extended_) return error("503 5.5.1 Error: send EHLO first");
  if (!auth_user_.empty()) return error("503 5.5.1 Error: already authenticated");
  if (transaction_.open) return error("503 5.5.1 Error: AUTH not allowed during a mail transaction");
  if (!services_.auth) return error("502 5.5.1 Error: authentication not enabled");
  if (!auth_offered()) return error("538 5.7.11 Encryption required for requested authentication mechanism");
  if (services_.throttle.blocked(client_.ip, services_.clock.seconds()))
    return error("454 4.7.0 Error: too many failed logins, try again later");
  size_t space = argument.find(' ');
  std::string mechanism = argument.substr(0, space);
  for (char& c : mechanism) c = static_cast<char>(toupper(static_cast<unsigned char>(c)));
  std::string initial = space == std::string::npos ? std::string() : argument.substr(space + 1);
  if (mechanism == "PLAIN") {
    if (initial.empty()) {
      mode_ = Mode::kAuthPlain;
      return reply("334 ");
    }
    mode_ = Mode::kAuthPlain;
    return on_auth_response(initial == "=" ? std::string_view() : std::string_view(initial));
  }
  if (mechanism == "LOGIN") {
    mode_ = Mode::kAuthLoginUser;
    if (initial.empty()) return reply("334 " + relay::base64_encode("Username:"));
    return on_auth_response(initial);
  }
  error("504 5.5.4 Error: unrecognized authentication mechanism");
}

void Session::on_auth_response(std::string_view line) {
  Mode step = mode_;
  mode_ = Mode::kCommand;
  if (line == "*") return error("501 5.0.0 Error: authentication cancelled");
  auto decoded = relay::base64_decode(line);
  if (!decoded) return error("501 5.5.2 Error: cannot decode the response");
  if (step == Mode::kAuthPlain) {
    auto credentials = parse_sasl_plain(*decoded);
    if (!credentials) return error("501 5.5.2 Error: malformed PLAIN response");
    return check_credentials(std::move(*credentials));
  }
  if (step == Mode::kAuthLoginUser) {
    if (decoded->empty()) return error("501 5.5.2 Error: empty user name");
    login_user_ = std::move(*decoded);
    mode_ = Mode::kAuthLoginPassword;
    return reply("334 " + relay::base64_encode("Password:"));
  }
  check_credentials({std::exchange(login_user_, {}), std::move(*decoded)});
}

void Session::check_credentials(Credentials credentials) {
  // crypt(3) is slow by design: it runs off the loop, with this file even if SIGHUP swaps it.
  auto file = services_.auth;
  auto user = std::make_shared<std::string>(std::move(credentials.user));
  auto password = std::make_shared<std::string>(std::move(credentials.password));
  auto ok = std::make_shared<bool>(false);
  busy_ = true;
  host_.run_off_loop(SessionHost::Work::kPassword, [file, user, password, ok] { *ok = file->verify(*user, *password); },
                     [this, user, ok] {
                       if (*ok) {
                         auth_user_ = *user;
                         relay::log::event({{"client", client_.ip}, {"user", *user}, {"status", "authenticated"}});
                         reply("235 2.7.0 Authentication successful");
                         return resume();
                       }
                       services_.throttle.record_failure(client_.ip, services_.clock.seconds());
                       relay::log::event({{"client", client_.ip}, {"user", *user}, {"status", "auth-failed"}});
                       // The delay slows guessing; the reply comes after it.
                       host_.after(services_.config.limits.auth_failure_delay_ms, [this] {
                         error("535 5.7.8 Error: authentication credentials invalid");
                         resume();
                       });
                     });
}

void Session::on_starttls(const std::string& argument) {
  if (!argument.empty()) return error("501 5.5.4 Syntax: STARTTLS");
  if (!tls_.empty()) return error("503 5.5.1 Error: TLS already active");
  if (!services_.tls) return error("454 4.7.0 Error: TLS not available");
  reply("220 2.0.0 Ready to start TLS");
  // RFC 3207 4.2 and CVE-2011-0411: whatever the client sent after STARTTLS in plaintext is
  // dropped, and the session starts over under TLS.
  input_.clear();
  input_pos_ = 0;
  reset_transaction();
  helo_.clear();
  extended_ = false;
  auth_user_.clear();
  busy_ = true;
  host_.start_tls();
}

void Session::tls_started(const std::string& version, const std::string& cipher) {
  tls_ = version + " " + cipher;
  busy_ = false;
}

}  // namespace smtp_listen
