// The message part of a session: DATA and BDAT, writing to the spool, and the durable commit
// that comes before the 250.
#include <charconv>

#include "command.hpp"
#include "relay/address.hpp"
#include "relay/headers.hpp"
#include "relay/log.hpp"
#include "session.hpp"

namespace smtp_listen {
namespace {

// The domain of the header From's first address, as relay-policy checks it; empty if none.
std::string header_from_domain(const std::string& value) {
  if (value.empty()) return "";
  auto addresses = relay::parse_address_list(value);
  if (!addresses || addresses->empty()) return "";
  return relay::domain_of(addresses->front());
}

}  // namespace

std::string Session::protocol() const {
  std::string name = transaction_.smtputf8 ? "UTF8SMTP" : extended_ ? "ESMTP" : "SMTP";
  if (!tls_.empty()) name += 'S';
  if (!auth_user_.empty()) name += 'A';
  return name;
}

std::string Session::trace_field(const std::string& id) const {
  // RFC 5321 4.4; the TLS and authentication comment is what operators grep for.
  std::string field = "Received: from " + relay::log::sanitize(helo_);
  field += client_.ip.empty() ? std::string(" (local)") : " ([" + client_.ip + "])";
  field += "\r\n\tby " + services_.hostname + " (smtp-listen) with " + protocol() + " id " + id;
  field += "\r\n\t(tls=" + (tls_.empty() ? std::string("none") : tls_);
  field += std::string("; authenticated=") + (auth_user_.empty() ? "no" : "yes") + ")";
  if (transaction_.recipients.size() == 1) field += "\r\n\tfor <" + transaction_.recipients.front().address + ">";
  field += "; " + relay::rfc5322_date(services_.clock.seconds()) + "\r\n";
  return field;
}

bool Session::open_message() {
  relay::Envelope envelope;
  envelope.sender = transaction_.sender;
  envelope.arrival = services_.clock.seconds();
  envelope.ret = transaction_.ret;
  envelope.envid = transaction_.envid;
  envelope.body = transaction_.body;
  envelope.smtputf8 = transaction_.smtputf8;
  envelope.auth_user = auth_user_;
  envelope.client_address = client_.ip;
  envelope.helo = relay::log::sanitize(helo_);
  envelope.protocol = protocol();
  envelope.tls = tls_;
  envelope.recipients = transaction_.recipients;
  try {
    writer_ = std::make_unique<relay::Spool::Writer>(services_.spool, std::move(envelope));
  } catch (const relay::SpoolFull& e) {
    relay::log::warning(e.what());
    error("452 4.3.1 Error: insufficient system storage");
    return false;
  } catch (const relay::Failure& e) {
    relay::log::warning(e.what());
    error("451 4.3.0 Error: queue file write error");
    return false;
  }
  MessageOptions options;
  options.trace = trace_field(writer_->id());
  options.add_missing = services_.config.add_missing_headers && !auth_user_.empty();
  options.date = relay::rfc5322_date(services_.clock.seconds());
  options.message_id = relay::make_message_id(services_.hostname);
  options.max_size = services_.config.limits.message_size;
  builder_ = std::make_unique<MessageBuilder>(options, [this](std::string_view bytes) {
    if (!spool_error_.empty() || !writer_) return;
    try {
      writer_->write(bytes);
    } catch (const relay::SpoolFull& e) {
      relay::log::warning(e.what());
      spool_error_ = "452 4.3.1 Error: insufficient system storage";
    } catch (const relay::Failure& e) {
      relay::log::warning(e.what());
      spool_error_ = "451 4.3.0 Error: queue file write error";
    }
  });
  return true;
}

void Session::message_line(std::string_view content) { builder_->line(content); }

void Session::on_data(const std::string& argument) {
  if (!transaction_.open) return error("503 5.5.1 Error: need MAIL command");
  if (writer_) return error("503 5.5.1 Error: BDAT transfer under way");
  if (transaction_.recipients.empty()) return error("554 5.5.1 Error: no valid recipients");
  if (!argument.empty()) return error("501 5.5.4 Syntax: DATA");
  if (!open_message()) return reset_transaction();
  const Config& config = services_.config;
  data_reader_ = std::make_unique<DataReader>(config.limits.data_line, config.bare_newline,
                                              [this](std::string_view line) { message_line(line); });
  mode_ = Mode::kData;
  reply("354 End data with <CR><LF>.<CR><LF>");
}

bool Session::feed_data() {
  std::string_view rest(input_.data() + input_pos_, input_.size() - input_pos_);
  size_t used = data_reader_->consume(rest);
  input_pos_ += used;
  if (data_reader_->done()) {
    mode_ = Mode::kCommand;
    DataFault fault = data_reader_->fault();
    data_reader_.reset();
    finish_message(fault);
    return true;
  }
  return used > 0;  // 0: only part of a line is here, wait for the rest
}

void Session::on_bdat(const std::string& argument) {
  Command words = parse_command(argument);  // "SIZE [LAST]": the size parses like a verb
  uint64_t size = 0;
  auto [end, err] = std::from_chars(words.verb.data(), words.verb.data() + words.verb.size(), size);
  bool last = words.argument == "LAST";
  if (err != std::errc() || end != words.verb.data() + words.verb.size() || words.verb.empty() ||
      !(words.argument.empty() || last)) {
    // Without a size the chunk cannot be skipped: the session cannot go on.
    return close_with("501 5.5.4 Syntax: BDAT size [LAST]");
  }
  bdat_remaining_ = size;
  bdat_last_ = last;
  bdat_discard_ = false;
  bdat_refusal_.clear();
  if (!transaction_.open) {
    bdat_refusal_ = "503 5.5.1 Error: need MAIL command";
  } else if (transaction_.recipients.empty()) {
    bdat_refusal_ = "554 5.5.1 Error: no valid recipients";
  } else if (!writer_) {
    if (open_message()) {
      const Config& config = services_.config;
      bdat_reader_ = std::make_unique<BdatReader>(config.limits.data_line, config.bare_newline,
                                                  [this](std::string_view line) { message_line(line); });
    } else {
      reset_transaction();
      bdat_discard_ = true;  // the error reply was sent; the chunk is still read
    }
  }
  if (!bdat_refusal_.empty()) bdat_discard_ = true;
  mode_ = Mode::kBdat;
  if (bdat_remaining_ == 0) end_bdat_chunk();
}

bool Session::feed_bdat() {
  size_t available = input_.size() - input_pos_;
  size_t take = static_cast<size_t>(std::min<uint64_t>(available, bdat_remaining_));
  if (!bdat_discard_) bdat_reader_->consume(std::string_view(input_.data() + input_pos_, take));
  input_pos_ += take;
  bdat_remaining_ -= take;
  if (bdat_remaining_ == 0) end_bdat_chunk();
  return take > 0 || mode_ != Mode::kBdat;
}

void Session::end_bdat_chunk() {
  mode_ = Mode::kCommand;
  if (bdat_discard_) {
    if (!bdat_refusal_.empty()) error(bdat_refusal_);
    return;
  }
  if (!bdat_last_) return reply("250 2.0.0 Ok: chunk received");
  bdat_reader_->finish();
  DataFault fault = bdat_reader_->fault();
  bdat_reader_.reset();
  finish_message(fault);
}

void Session::finish_message(DataFault fault) {
  builder_->finish();
  uint64_t size = builder_->size();
  std::string refusal;
  if (fault != DataFault::kNone) {
    refusal = "550 5.6.0 Error: " + std::string(describe(fault));
  } else if (builder_->too_big()) {
    refusal = "552 5.3.4 Error: message size exceeds fixed limit";
  } else if (!spool_error_.empty()) {
    refusal = spool_error_;
  }
  bool hold = false;
  if (refusal.empty()) {
    relay::policy::Request request;
    request.stage = relay::policy::Stage::kData;
    request.sender = transaction_.sender;
    for (const auto& recipient : transaction_.recipients) request.recipients.push_back(recipient.address);
    request.from_domain = header_from_domain(builder_->from_value());
    request.size = size;
    refusal = ask_policy(std::move(request), &hold);
  }
  if (!refusal.empty()) {
    log_transaction("refused", refusal, size, writer_->id());
    reset_transaction();
    reply(refusal);
    if (stopping_) close_with("421 4.3.2 " + services_.hostname + " Service shutting down");
    return;
  }
  commit_message(size, hold ? relay::Stage::kHold : relay::Stage::kIncoming);
}

void Session::commit_message(uint64_t size, relay::Stage stage) {
  // The durable commit waits on a worker thread: the loop keeps serving other sessions meanwhile.
  struct Outcome {
    std::string reply;
  };
  auto outcome = std::make_shared<Outcome>();
  std::shared_ptr<relay::Spool::Writer> writer(std::move(writer_));
  builder_.reset();
  busy_ = true;
  host_.run_off_loop(
      SessionHost::Work::kSpool,
      [writer, outcome, stage, journal = services_.journal] {
        try {
          if (journal)
            journal->commit(*writer, stage);
          else
            writer->commit(stage);
          outcome->reply = "250 2.0.0 Ok: queued as " + writer->id();
        } catch (const relay::SpoolFull& e) {
          relay::log::warning(e.what());
          outcome->reply = "452 4.3.1 Error: insufficient system storage";
        } catch (const std::exception& e) {
          relay::log::warning(e.what());
          outcome->reply = "451 4.3.0 Error: queue file write error";
        }
      },
      [this, writer, outcome, size, stage] {
        bool ok = outcome->reply.front() == '2';
        if (ok) ++messages_;
        log_transaction(!ok ? "deferred" : stage == relay::Stage::kHold ? "held" : "accepted", outcome->reply, size,
                        writer->id());
        reset_transaction();
        if (closing_) return;  // timed out meanwhile: the 421 was the last word
        reply(outcome->reply);
        resume();
      });
}

void Session::log_transaction(std::string_view status, std::string_view reply_text, uint64_t size,
                              const std::string& id) {
  std::string recipients;
  for (const auto& recipient : transaction_.recipients) {
    if (!recipients.empty()) recipients += ',';
    recipients += recipient.address;
  }
  std::string size_text = std::to_string(size);
  std::string port = std::to_string(client_.port);
  relay::log::event({{"id", id},
                     {"client", client_.ip},
                     {"port", port},
                     {"user", auth_user_},
                     {"tls", tls_.empty() ? std::string_view("none") : std::string_view(tls_)},
                     {"from", "<" + transaction_.sender + ">"},
                     {"to", recipients},
                     {"nrcpt", std::to_string(transaction_.recipients.size())},
                     {"size", size_text},
                     {"status", status},
                     {"reply", reply_text}});
}

}  // namespace smtp_listen
