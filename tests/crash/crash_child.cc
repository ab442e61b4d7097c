// The victim of the crash harness (crash_test.cc): opens a ledger and
// appends from several threads until it is killed. Around each Append it
// writes one line to the side log (O_APPEND, one write(2) per line):
//
//   I <key> <case> <hex event bytes>,<hex event bytes>,...   before the call
//   A <key> <position>:<case version>,...                    after it returned
//
// so the parent knows every batch that may be in the ledger and every one
// that was acknowledged. The events carry their ids, so the hex bytes are
// exactly what the ledger stores. Any unexpected error exits with status 3
// and a message on stderr: the parent fails the test on anything but its
// own SIGKILL.
//
//   crash_child --db DIR --log FILE --run N --seed S [--threads T]
//               [--checkpoint-every K] [--max-batch B] [--ready-fd FD]
//
// With --ready-fd, one byte is written to FD once the ledger is open and
// the appenders start, so the parent can aim its kill at the appends.
#include <fcntl.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "ledger/event_json.h"
#include "ledger/ledger.h"
#include "ledger/sha256.h"

namespace caseledger {
namespace {

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "crash_child: %s\n", what.c_str());
  std::fflush(stderr);
  std::_Exit(3);
}

// What the ledger stores: the deterministic serialization of the event.
std::string Bytes(const v1::Event& event) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    event.SerializeToCodedStream(&coded);
  }
  return out;
}

class SideLog {
 public:
  explicit SideLog(const std::string& path)
      : fd_(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
                   0644)) {
    if (fd_ < 0) Die(absl::StrCat("cannot open ", path));
  }
  // One write(2) per line: lines of concurrent threads never interleave.
  void Line(const std::string& line) {
    std::string text = line + "\n";
    if (::write(fd_, text.data(), text.size()) !=
        static_cast<ssize_t>(text.size())) {
      Die("short write to the side log");
    }
  }

 private:
  int fd_;
};

struct Config {
  std::string db, log;
  int run = 0;
  uint64_t seed = 1;
  int threads = 4;
  uint64_t checkpoint_every = 16;
  int max_batch = 4;
  int ready_fd = -1;
};

class Appender {
 public:
  Appender(Ledger& ledger, SideLog& log, const Config& config, int thread)
      : ledger_(ledger),
        log_(log),
        config_(config),
        thread_(thread),
        rng_(config.seed * 1000003 + static_cast<uint64_t>(thread)) {}

  [[noreturn]] void Run() {
    for (uint64_t batch = 0;; ++batch) {
      if (version_ == 0 || version_ >= 12) NewCase();
      std::vector<v1::Event> events;
      int n = 1 + static_cast<int>(rng_() % config_.max_batch);
      for (int i = 0; i < n; ++i) events.push_back(Next(version_ + i));
      Append(absl::StrCat(config_.run, ".", thread_, ".", batch),
             std::move(events));
      if (rng_() % 20 == 0 && !last_.empty()) Repeat();
    }
  }

 private:
  void NewCase() {
    case_id_ = absl::StrCat("R", config_.run, "-T", thread_, "-", ++cases_);
    version_ = 0;
    requests_ = 0;
  }

  std::string Uuid() {
    uint64_t a = rng_(), b = rng_();
    std::string hex = absl::StrFormat("%016x%016x", a, b);
    hex[12] = '4';
    hex[16] = "89ab"[b % 4];
    return absl::StrCat(hex.substr(0, 8), "-", hex.substr(8, 4), "-",
                        hex.substr(12, 4), "-", hex.substr(16, 4), "-",
                        hex.substr(20));
  }

  // The event that becomes version `v + 1` of the current case.
  v1::Event Next(uint64_t v) {
    std::string payload;
    if (v == 0) {
      payload = R"("case_opened": {"office_id": "VO-1", "language": "en"})";
    } else if (rng_() % 4 == 0) {
      ++requests_;
      payload = absl::StrCat(
          R"("document_request_sent": {"request_id": "DOC-)", requests_,
          R"(", "channel": "EMAIL", "to": ["a@mail.example"], )",
          R"("deadline": "2012-01-01T00:00:00Z"})");
    } else if (requests_ > 0 && rng_() % 3 == 0) {
      payload = absl::StrCat(
          R"("delivery_notice_received": {"request_id": "DOC-)", requests_,
          R"(", "action": "DELIVERED", "recipient": "a@mail.example"})");
    } else {
      payload =
          absl::StrCat(R"("officer_note_added": {"text": "run )", config_.run,
                       " thread ", thread_, " note ", v, " ", rng_(), "\"}");
    }
    auto e = ParseEventJson(absl::StrCat(
        R"({"event_id": ")", Uuid(), R"(", "case_id": ")", case_id_,
        R"(", "occurred_at": "2011-06-01T10:00:00Z", )",
        R"("actor": {"kind": "OFFICER", "id": "crash"}, )", payload, "}"));
    if (!e.ok()) Die(e.status().ToString());
    return *std::move(e);
  }

  void Append(const std::string& key, std::vector<v1::Event> events) {
    std::vector<std::string> hex;
    for (const auto& e : events) hex.push_back(ToHex(Bytes(e)));
    log_.Line(
        absl::StrCat("I ", key, " ", case_id_, " ", absl::StrJoin(hex, ",")));
    ExpectedVersion expected = version_ == 0
                                   ? ExpectedVersion::NoStream()
                                   : ExpectedVersion::Exactly(version_);
    auto r = ledger_.Append(events, expected);
    if (!r.ok()) Die(absl::StrCat("append ", key, ": ", r.status().ToString()));
    std::vector<std::string> acked;
    for (const auto& a : r->events) {
      if (a.duplicate)
        Die(absl::StrCat("append ", key,
                         ": a new event is a "
                         "duplicate"));
      acked.push_back(absl::StrCat(a.position, ":", a.case_version));
    }
    log_.Line(absl::StrCat("A ", key, " ", absl::StrJoin(acked, ",")));
    version_ = r->events.back().case_version;
    last_ = std::move(events);
    last_result_ = *std::move(r);
  }

  // Appending an acknowledged batch again writes nothing and returns the
  // original positions (durable idempotency).
  void Repeat() {
    auto r = ledger_.Append(last_);
    if (!r.ok()) Die(absl::StrCat("repeat: ", r.status().ToString()));
    for (size_t i = 0; i < r->events.size(); ++i) {
      if (!r->events[i].duplicate ||
          r->events[i].position != last_result_.events[i].position) {
        Die("repeat: an acknowledged batch was appended again");
      }
    }
  }

  Ledger& ledger_;
  SideLog& log_;
  const Config& config_;
  const int thread_;
  std::mt19937_64 rng_;
  std::string case_id_;
  uint64_t version_ = 0;
  int cases_ = 0;
  int requests_ = 0;
  std::vector<v1::Event> last_;
  AppendResult last_result_;
};

int Main(int argc, char** argv) {
  Config config;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--db") {
      config.db = value;
    } else if (flag == "--log") {
      config.log = value;
    } else if (flag == "--run") {
      config.run = std::atoi(value.c_str());
    } else if (flag == "--seed") {
      config.seed = std::strtoull(value.c_str(), nullptr, 10);
    } else if (flag == "--threads") {
      config.threads = std::atoi(value.c_str());
    } else if (flag == "--checkpoint-every") {
      config.checkpoint_every = std::strtoull(value.c_str(), nullptr, 10);
    } else if (flag == "--max-batch") {
      config.max_batch = std::atoi(value.c_str());
    } else if (flag == "--ready-fd") {
      config.ready_fd = std::atoi(value.c_str());
    } else {
      Die(absl::StrCat("unknown flag ", flag));
    }
  }
  if (config.db.empty() || config.log.empty() || config.threads < 1 ||
      config.max_batch < 1) {
    Die("usage: crash_child --db DIR --log FILE --run N --seed S ...");
  }
  std::signal(SIGPIPE, SIG_IGN);
  LedgerOptions options;
  options.checkpoint_every_entries = config.checkpoint_every;
  auto ledger = Ledger::Open(config.db, options);
  if (!ledger.ok()) Die(absl::StrCat("open: ", ledger.status().ToString()));
  SideLog log(config.log);
  std::vector<std::thread> threads;
  std::vector<std::unique_ptr<Appender>> appenders;
  for (int t = 0; t < config.threads; ++t) {
    appenders.push_back(std::make_unique<Appender>(**ledger, log, config, t));
  }
  for (auto& a : appenders) {
    threads.emplace_back([&a] { a->Run(); });
  }
  if (config.ready_fd >= 0) {
    // Best effort: the parent may not be listening (an early kill).
    (void)!::write(config.ready_fd, "R", 1);
  }
  for (auto& t : threads) t.join();  // never: the parent kills us
  return 0;
}

}  // namespace
}  // namespace caseledger

int main(int argc, char** argv) { return caseledger::Main(argc, argv); }
