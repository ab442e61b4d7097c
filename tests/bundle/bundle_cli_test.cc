// `caseledger export` and `caseledger verify-bundle` end to end, through the
// built binary: outputs, files and exit codes as domain.md §5-§6 say.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ledger/base64.h"
#include "ledger/checkpoint.h"
#include "ledger/sha256.h"
#include "tests/testing/cli_run.h"
#include "tests/testing/test_util.h"

namespace caseledger {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

using testing::CliRun;

// The writing end of the named pipe `pipe`, opened once a reader has it
// open (within 20 s; -1 if none does), so that a reader that never opens
// it leaves no writer blocked for good. Writes to it block.
int OpenToWrite(const std::string& pipe) {
  int fd = -1;
  for (int i = 0; i < 400 && fd < 0; ++i) {
    fd = ::open(pipe.c_str(), O_WRONLY | O_NONBLOCK);
    if (fd < 0) ::usleep(50000);
  }
  if (fd >= 0) ::fcntl(fd, F_SETFL, 0);
  return fd;
}

class BundleCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(Cli("init --name cli.example/log").code, 0);
    for (const char* eml :
         {"bounce-handled-DOC-1.eml", "bounce-handled-DOC-2.eml",
          "transfer-then-refusal-DOC-1.eml"}) {
      CliRun r = Cli(absl::StrCat("attach ", Example(eml)));
      ASSERT_EQ(r.code, 0) << r.err;
    }
    for (const char* jsonl :
         {"bounce-handled.jsonl", "transfer-then-refusal.jsonl"}) {
      CliRun r = Cli(absl::StrCat("append ", Example(jsonl)));
      ASSERT_EQ(r.code, 0) << r.err;
    }
    CliRun key = Cli("key");
    ASSERT_EQ(key.code, 0) << key.err;
    key_file_ = Write("key.txt", key.out);
  }

  // Runs the binary against the test's ledger (unless `with_db` is false).
  CliRun Cli(const std::string& args, bool with_db = true) {
    return testing::RunCli(
        CASELEDGER_BINARY,
        with_db ? absl::StrCat(args, " --db ", dir_.Sub("ledger")) : args,
        dir_);
  }
  static std::string Example(const std::string& name) {
    return testing::SharedDir() + "/examples/" + name;
  }
  std::string Write(const std::string& name, const std::string& bytes) {
    std::string path = dir_.Sub(name);
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }
  // The path of a reconsideration bundle of E2012-000417 exported to
  // `name` in the test's folder.
  std::string ExportedBundle(const std::string& name) {
    const std::string out = dir_.Sub(name);
    CliRun r = Cli(
        "export --case E2012-000417 --purpose reconsideration --out " + out);
    EXPECT_EQ(r.code, 0) << r.err;
    return out;
  }
  CliRun VerifyBundle(const std::string& file) {
    return Cli(absl::StrCat("verify-bundle ", file, " --pubkey ", key_file_),
               /*with_db=*/false);
  }

  testing::TempFolder dir_;
  std::string key_file_;
};

TEST_F(BundleCliTest, ExportThenVerifyBundleRoundTrips) {
  for (const char* c : {"E2012-000417", "E2012-000952"}) {
    const std::string out = dir_.Sub(absl::StrCat(c, ".zip"));
    CliRun r = Cli(absl::StrCat("export --case ", c,
                                " --purpose judicial-review --out ", out));
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_THAT(r.out, HasSubstr(absl::StrCat("exported case ", c)));
    EXPECT_THAT(r.out, HasSubstr(ToHex(Sha256(testing::FileContents(out)))));
    CliRun v = VerifyBundle(out);
    EXPECT_EQ(v.code, 0) << v.out << v.err;
    EXPECT_THAT(v.out, HasSubstr("VERDICT: OK"));
    EXPECT_THAT(v.out, HasSubstr("OK   proofs"));
  }
  // The exports' audit events are taken up by the deadline index, as an
  // append's events are: verify finds it level with the log.
  CliRun verify = Cli("verify");
  EXPECT_EQ(verify.code, 0) << verify.out << verify.err;
  EXPECT_THAT(verify.out, Not(HasSubstr("NOTE the deadline index")));
}

// The bundle's room is taken before the export is recorded: a disk that
// cannot hold it (here the file-size limit, EFBIG as ENOSPC) fails the
// export with nothing on record. Before, evidence_bundle_exported was
// appended first, naming a bundle no file held (found by an audit).
TEST_F(BundleCliTest, AFileThatCannotBeWrittenRecordsNoExport) {
  const std::string out = dir_.Sub("full.zip");
  CliRun full = testing::RunCli(
      absl::StrCat("ulimit -f 64; exec ", CASELEDGER_BINARY),
      absl::StrCat("export --case E2012-000417 --purpose investigation --out ",
                   out, " --db ", dir_.Sub("ledger")),
      dir_);
  EXPECT_EQ(full.code, 4) << full.err;
  EXPECT_THAT(full.err, HasSubstr("-byte bundle in " + out + ".partial"));
  EXPECT_THAT(full.err, HasSubstr("nothing was recorded or written"));
  EXPECT_FALSE(std::filesystem::exists(out));
  EXPECT_FALSE(std::filesystem::exists(out + ".partial"));
  CliRun timeline = Cli("timeline --case E2012-000417");
  ASSERT_EQ(timeline.code, 0) << timeline.err;
  EXPECT_THAT(timeline.out, HasSubstr("Case approved"));
  EXPECT_THAT(timeline.out, Not(HasSubstr("Evidence bundle exported")));
  CliRun again = Cli(absl::StrCat(
      "export --case E2012-000417 --purpose investigation --out ", out));
  EXPECT_EQ(again.code, 0) << again.err;
}

TEST_F(BundleCliTest, ExportAtTheSameTreeSizeIsByteIdenticalAcrossRuns) {
  const std::string a = dir_.Sub("a.zip"), b = dir_.Sub("b.zip");
  CliRun r =
      Cli("export --case E2012-000952 --purpose JUDICIAL_REVIEW --out " + a);
  ASSERT_EQ(r.code, 0) << r.err;
  // The export was recorded, so the ledger grew: name the size.
  const std::string marker = "at tree size ";
  size_t at = r.out.find(marker);
  ASSERT_NE(at, std::string::npos) << r.out;
  const uint64_t size = std::stoull(r.out.substr(at + marker.size()));
  r =
      Cli(absl::StrCat("export --case E2012-000952 --purpose judicial-review "
                       "--tree-size ",
                       size, " --out ", b));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(testing::FileContents(a), testing::FileContents(b));
  EXPECT_FALSE(testing::FileContents(a).empty());
  // Both exports are on record.
  CliRun read = Cli("read --case E2012-000952");
  EXPECT_EQ(std::count(read.out.begin(), read.out.end(), '\n'), 10) << read.out;
}

TEST_F(BundleCliTest, VerifyBundleFailsNamingTheAlteredFile) {
  const std::string out = dir_.Sub("c.zip");
  ASSERT_EQ(
      Cli("export --case E2012-000417 --purpose investigation --out " + out)
          .code,
      0);
  std::string bytes = testing::FileContents(out);
  const size_t pos = bytes.find("\"status\": \"APPROVED\"");
  ASSERT_NE(pos, std::string::npos);
  bytes[pos + 12] = 'X';
  CliRun v = VerifyBundle(Write("altered.zip", bytes));
  EXPECT_EQ(v.code, 1) << v.out;
  // Each of the three checks that sees it says so: "state.json" alone was
  // said by all three, and held with the manifest's digest left unchecked
  // (found by a mutation).
  EXPECT_THAT(v.out, HasSubstr("- state.json: its bytes do not match the "
                               "archive's CRC-32 for it"));
  EXPECT_THAT(v.out, HasSubstr("FAIL files        1 problem\n       - "
                               "state.json: SHA-256 "));
  EXPECT_THAT(v.out, HasSubstr("- state.json differs from the state "
                               "recomputed from the events"));
  EXPECT_THAT(v.out, HasSubstr("VERDICT: FAIL " + dir_.Sub("altered.zip") +
                               " (3 checks failed: archive, files, state)"));
}

// An event whose string holds bytes that are not UTF-8 is named in the
// verdict, and nothing else is said: protobuf's own log line came first,
// "[libprotobuf ERROR ...]" (found by an adversarial reading).
TEST_F(BundleCliTest, AnEventThatIsNotUtf8IsNamedInTheVerdictAlone) {
  std::string bytes = testing::FileContents(ExportedBundle("u.zip"));
  // The member's local header: its signature, 26 bytes, then its name.
  size_t event = 0;
  do {
    event = bytes.find("events/1.event", event + 1);
    ASSERT_NE(event, std::string::npos);
  } while (event < 30 || bytes.compare(event - 30, 4, "PK\x03\x04") != 0);
  const size_t case_id = bytes.find("E2012-000417", event);
  ASSERT_NE(case_id, std::string::npos);
  bytes[case_id] = '\xff';
  CliRun v = VerifyBundle(Write("altered.zip", bytes));
  EXPECT_EQ(v.code, 1) << v.out;
  EXPECT_THAT(v.out, HasSubstr("the event bytes are not an Event"));
  EXPECT_EQ(v.err, "");
}

TEST_F(BundleCliTest, VerifyBundleExitCodes) {
  const std::string out = ExportedBundle("d.zip");
  ASSERT_FALSE(HasFailure());
  // Unreadable or corrupt bundles fail the check: 1.
  EXPECT_EQ(VerifyBundle(dir_.Sub("missing.zip")).code, 1);
  EXPECT_EQ(VerifyBundle(Write("garbage.zip", "not a zip at all")).code, 1);
  EXPECT_EQ(VerifyBundle(Write("empty.zip", "")).code, 1);
  // Both list every check, the ones after the archive skipped: a file that
  // could not be read listed the archive alone (found by an outside reading),
  // so a reader of the JSON missed the other checks' entries.
  const auto checks = [](const std::string& verdict) {
    std::vector<std::string> names;
    for (absl::string_view line : absl::StrSplit(verdict, '\n')) {
      std::vector<absl::string_view> words =
          absl::StrSplit(line, ' ', absl::SkipEmpty());
      if (words.size() >= 2 && words[0] != "-" && words[0] != "VERDICT:") {
        names.push_back(absl::StrCat(words[0], " ", words[1]));
      }
    }
    return names;
  };
  const std::vector<std::string> unreadable =
      checks(VerifyBundle(dir_.Sub("missing.zip")).out);
  EXPECT_EQ(unreadable.size(), 14u);
  EXPECT_EQ(unreadable, checks(VerifyBundle(dir_.Sub("garbage.zip")).out));
  EXPECT_EQ(unreadable.back(), "SKIP findings");
  // Another ledger's key: 1.
  ASSERT_EQ(Cli(absl::StrCat("init --db ", dir_.Sub("other"),
                             " --name other.example/log"),
                /*with_db=*/false)
                .code,
            0);
  CliRun other = Cli(absl::StrCat("key --db ", dir_.Sub("other")), false);
  CliRun v = Cli(absl::StrCat("verify-bundle ", out, " --pubkey ",
                              Write("other.txt", other.out)),
                 false);
  EXPECT_EQ(v.code, 1) << v.out;
  EXPECT_THAT(v.out, HasSubstr("manifest.sig"));
  // Bad usage: 2.
  EXPECT_EQ(Cli("verify-bundle " + out, false).code, 2);  // no --pubkey
  EXPECT_EQ(Cli(absl::StrCat("verify-bundle ", out, " --pubkey ",
                             Write("bad.txt", "nonsense")),
                false)
                .code,
            2);
  EXPECT_EQ(Cli(absl::StrCat("verify-bundle ", out, " --pubkey ",
                             dir_.Sub("no-key.txt")),
                false)
                .code,
            2);
  EXPECT_EQ(Cli(absl::StrCat("verify-bundle --pubkey ", key_file_), false).code,
            2);  // no FILE
  // A bad key is bad usage even when the bundle is missing too: it was a
  // failed check of the archive (exit 1).
  CliRun both = Cli(absl::StrCat("verify-bundle ", dir_.Sub("missing.zip"),
                                 " --pubkey ", Write("bad2.txt", "nonsense")),
                    false);
  EXPECT_EQ(both.code, 2) << both.out;
  EXPECT_THAT(both.err, HasSubstr("--pubkey: "));
  EXPECT_EQ(both.out, "");
  // JSON output.
  CliRun json = Cli(absl::StrCat("verify-bundle ", out, " --pubkey ", key_file_,
                                 " --format json"),
                    false);
  EXPECT_EQ(json.code, 0);
  EXPECT_THAT(json.out, HasSubstr("\"ok\": true"));
}

// A large file that is no bundle is refused by its last bytes: it was read
// whole first, and under a memory limit below its size the program died of
// std::bad_alloc (found by an adversarial reading).
TEST_F(BundleCliTest, ALargeFileThatIsNoBundleIsRefusedByItsEnd) {
  if (testing::kAddressSanitizer) {
    GTEST_SKIP() << "AddressSanitizer needs more address space than any limit";
  }
  const std::string zeros = dir_.Sub("zeros.zip");
  // Begun as a bundle begins, so that its first bytes do not refuse it.
  std::filesystem::resize_file(Write("zeros.zip", "PK\x03\x04"),
                               1000u << 20);  // sparse
  CliRun r = testing::RunCli(
      "ulimit -v 700000; " CASELEDGER_BINARY,
      absl::StrCat("verify-bundle ", zeros, " --pubkey ", key_file_), dir_);
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat(
                         "- not a bundle archive: offset ", (1000u << 20) - 22,
                         ": end record signature is 0x00000000")));
}

// "-" reads the bundle from standard input: a bundle fetched by another
// program is checked without a file, and one cut short fails.
TEST_F(BundleCliTest, VerifyBundleReadsStandardInput) {
  const std::string out = ExportedBundle("s.zip");
  ASSERT_FALSE(HasFailure());
  const std::string bundle = testing::FileContents(out);
  const std::string args = absl::StrCat("verify-bundle - --pubkey ", key_file_);
  CliRun whole = testing::RunCli(CASELEDGER_BINARY, args, dir_, bundle);
  EXPECT_EQ(whole.code, 0) << whole.out << whole.err;
  EXPECT_THAT(whole.out, HasSubstr("VERDICT: OK standard input"));
  CliRun cut = testing::RunCli(CASELEDGER_BINARY, args, dir_,
                               bundle.substr(0, bundle.size() / 2));
  EXPECT_EQ(cut.code, 1) << cut.out;
  EXPECT_THAT(cut.out, HasSubstr("VERDICT: FAIL standard input"));
}

// A named pipe (and <(curl ...), which is one) has no size to ask for: it
// failed as "cannot read P: Operation not supported", exit 1, a genuine
// bundle reported bad (found by an outside reading). It is read up to the
// limit, as standard input is.
TEST_F(BundleCliTest, VerifyBundleReadsANamedPipe) {
  const std::string out = ExportedBundle("p.zip");
  ASSERT_FALSE(HasFailure());
  const std::string bundle = testing::FileContents(out);
  const std::string pipe = dir_.Sub("bundle.pipe");
  ASSERT_EQ(::mkfifo(pipe.c_str(), 0600), 0) << std::strerror(errno);
  std::thread writer([&] {
    const int fd = OpenToWrite(pipe);
    if (fd < 0) return;
    for (size_t done = 0; done < bundle.size();) {
      const ssize_t n = ::write(fd, bundle.data() + done, bundle.size() - done);
      if (n <= 0) break;
      done += static_cast<size_t>(n);
    }
    ::close(fd);
  });
  CliRun piped = VerifyBundle(pipe);
  writer.join();
  EXPECT_EQ(piped.code, 0) << piped.out << piped.err;
  EXPECT_THAT(piped.out, HasSubstr("VERDICT: OK " + pipe));
}

// A pipe that is no bundle is refused by its first bytes, without waiting
// for its end: it was read up to the 1 GiB limit first, or until its writer
// closed it (found by an audit). A file of the same bytes is refused in
// the same words.
TEST_F(BundleCliTest, VerifyBundleRefusesAPipeByItsFirstBytes) {
  const std::string page =
      "<!DOCTYPE html><html><body>502 Bad Gateway</body></html>\n";
  const std::string pipe = dir_.Sub("page.pipe");
  ASSERT_EQ(::mkfifo(pipe.c_str(), 0600), 0) << std::strerror(errno);
  std::atomic<bool> verdict_given = false;
  std::atomic<bool> closed_before_verdict = false;
  std::thread writer([&] {
    const int fd = OpenToWrite(pipe);
    if (fd < 0) return;
    EXPECT_EQ(::write(fd, page.data(), page.size()),
              static_cast<ssize_t>(page.size()));
    // Held open, as a stalled download holds it, for at most 20 s.
    for (int i = 0; i < 400 && !verdict_given; ++i) ::usleep(50000);
    closed_before_verdict = !verdict_given;
    ::close(fd);
  });
  CliRun piped = VerifyBundle(pipe);
  verdict_given = true;
  writer.join();
  EXPECT_FALSE(closed_before_verdict) << "the verdict waited for the end";
  EXPECT_EQ(piped.code, 1) << piped.out << piped.err;
  const std::string problem =
      "not a bundle archive: offset 0: the archive begins with 0x4f44213c "
      "(\"<!DO\"), not a local header (0x04034b50): no bundle, or data "
      "before one";
  EXPECT_THAT(piped.out, HasSubstr(problem));
  CliRun file = VerifyBundle(Write("page.zip", page));
  EXPECT_EQ(file.code, 1) << file.out << file.err;
  EXPECT_THAT(file.out, HasSubstr(problem));
  // A bundle behind a script, in a file or through standard input.
  const std::string bundle =
      testing::FileContents(ExportedBundle("behind.zip"));
  CliRun behind =
      VerifyBundle(Write("behind-script.zip", "#!/bin/sh\n" + bundle));
  EXPECT_THAT(behind.out, HasSubstr("the archive begins with 0x622f2123"));
  CliRun input = testing::RunCli(
      CASELEDGER_BINARY, absl::StrCat("verify-bundle - --pubkey ", key_file_),
      dir_, "#!/bin/sh\n" + bundle);
  EXPECT_EQ(input.code, 1) << input.out << input.err;
  EXPECT_THAT(input.out, HasSubstr("the archive begins with 0x622f2123"));
}

TEST_F(BundleCliTest, ExportUsageErrors) {
  const std::string out = dir_.Sub("e.zip");
  EXPECT_EQ(Cli("export --purpose investigation --out " + out).code, 2);
  EXPECT_EQ(Cli("export --case E2012-000417 --out " + out).code, 2);
  EXPECT_EQ(Cli("export --case E2012-000417 --purpose investigation").code, 2);
  CliRun r = Cli("export --case E2012-000417 --purpose appeal --out " + out);
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("judicial-review"));
  r =
      Cli("export --case E2012-000417 --purpose investigation --tree-size 7 "
          "--out " +
          out);
  EXPECT_EQ(r.code, 2);  // no checkpoint at 7
  EXPECT_THAT(r.err, HasSubstr("no checkpoint"));
  EXPECT_EQ(Cli("export --case NOPE --purpose investigation --out " + out).code,
            2);
  EXPECT_FALSE(std::ifstream(out).good());  // nothing written
  EXPECT_FALSE(std::ifstream(out + ".partial").good());
  // An --out that cannot be written fails before the export is recorded.
  CliRun before = Cli("read --case E2012-000417");
  r = Cli("export --case E2012-000417 --purpose investigation --out " +
          dir_.Sub("no/such/dir/x.zip"));
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_EQ(Cli("read --case E2012-000417").out, before.out);
  // '-' names no file here: it is refused, not taken for a file named '-'.
  r = Cli("export --case E2012-000417 --purpose investigation --out -");
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("'-' is not standard output"));
  EXPECT_FALSE(std::filesystem::exists("-"));
  EXPECT_EQ(Cli("read --case E2012-000417").out, before.out);
  EXPECT_EQ(Cli("export --help", false).code, 0);
  EXPECT_EQ(Cli("verify-bundle --help", false).code, 0);
}

TEST_F(BundleCliTest, SinceCheckpointIsProvenConsistent) {
  CliRun cp = Cli("checkpoint");
  ASSERT_EQ(cp.code, 0);
  const std::string since = Write("since.txt", cp.out);
  ASSERT_EQ(Cli("export --case E2012-000417 --purpose investigation --out " +
                dir_.Sub("first.zip"))
                .code,
            0);
  const std::string out = dir_.Sub("f.zip");
  CliRun r =
      Cli(absl::StrCat("export --case E2012-000952 --purpose "
                       "reconsideration --since-checkpoint ",
                       since, " --out ", out));
  ASSERT_EQ(r.code, 0) << r.err;
  CliRun v = VerifyBundle(out);
  EXPECT_EQ(v.code, 0) << v.out;
  EXPECT_THAT(v.out, HasSubstr("OK   consistency"));
}

// A checkpoint the reader kept: the bundle must be at it or prove it
// extends it. A bundle exported at an older size passed as current, and
// the earlier checkpoint of its consistency proof was the exporter's
// choice (found by an adversarial reading).
TEST_F(BundleCliTest, AKeptCheckpointMustBeTheBundlesOrOneItExtends) {
  const std::string kept = Write("kept.txt", Cli("checkpoint").out);
  const auto verify_against = [&](const std::string& bundle,
                                  const std::string& checkpoint) {
    return Cli(absl::StrCat("verify-bundle ", bundle, " --pubkey ", key_file_,
                            " --checkpoint ", checkpoint),
               /*with_db=*/false);
  };
  // At the kept size (the export signs the same tree).
  const std::string at = ExportedBundle("at.zip");
  CliRun same = verify_against(at, kept);
  EXPECT_EQ(same.code, 0) << same.out;
  EXPECT_THAT(same.out, HasSubstr("OK   kept-checkpoint the bundle's "
                                  "checkpoint is --checkpoint's, tree size"));
  // Newer than the kept one, with and without the proof from it.
  const std::string later = ExportedBundle("later.zip");
  CliRun unproven = verify_against(later, kept);
  EXPECT_EQ(unproven.code, 1) << unproven.out;
  EXPECT_THAT(unproven.out, HasSubstr("; ask for an export with "
                                      "--since-checkpoint of that checkpoint"));
  const std::string proven = dir_.Sub("proven.zip");
  ASSERT_EQ(Cli(absl::StrCat("export --case E2012-000417 --purpose "
                             "reconsideration --since-checkpoint ",
                             kept, " --out ", proven))
                .code,
            0);
  CliRun extends = verify_against(proven, kept);
  EXPECT_EQ(extends.code, 0) << extends.out;
  EXPECT_THAT(extends.out, HasSubstr("OK   kept-checkpoint the bundle's tree "
                                     "of size "));
  // Older than the kept one: what came after is not in it.
  const std::string newer = Write("newer.txt", Cli("checkpoint").out);
  CliRun stale = verify_against(at, newer);
  EXPECT_EQ(stale.code, 1) << stale.out;
  EXPECT_THAT(stale.out, HasSubstr(", older than --checkpoint's "));
  // Another tree of the same size under the ledger's key: a fork.
  const std::vector<std::string> lines =
      absl::StrSplit(testing::FileContents(kept), '\n');
  ASSERT_OK_AND_ASSIGN(
      SigningKey key,
      SigningKey::FromPrivateKeyText(
          lines[0], testing::FileContents(dir_.Sub("ledger/signing-key.pem"))));
  ASSERT_OK_AND_ASSIGN(
      std::string forked,
      SignNote(absl::StrCat(lines[0], "\n", lines[1], "\n",
                            Base64Encode(std::string(32, 'x')), "\n"),
               key));
  CliRun fork = verify_against(at, Write("forked.txt", forked));
  EXPECT_EQ(fork.code, 1) << fork.out;
  EXPECT_THAT(fork.out, HasSubstr("the key signed two different trees of "
                                  "that size"));
  // The same fork against a bundle that proves its tree extends one of that
  // size: the proof's start is not --checkpoint's (it passed with that
  // comparison taken out: found by a mutation).
  CliRun forked_since = verify_against(proven, dir_.Sub("forked.txt"));
  EXPECT_EQ(forked_since.code, 1) << forked_since.out;
  EXPECT_THAT(forked_since.out,
              HasSubstr("since-checkpoint.txt of tree size "));
  EXPECT_THAT(forked_since.out, HasSubstr(": the key signed two different "
                                          "trees of that size"));
  // Not a checkpoint of this key's: bad usage, before the bundle is read.
  CliRun bad = verify_against(dir_.Sub("missing.zip"), key_file_);
  EXPECT_EQ(bad.code, 2) << bad.out;
  EXPECT_THAT(bad.err, HasSubstr("--checkpoint "));
  // An unreadable bundle lists the check, skipped.
  CliRun unreadable = verify_against(dir_.Sub("missing.zip"), kept);
  EXPECT_EQ(unreadable.code, 1);
  EXPECT_THAT(unreadable.out,
              HasSubstr("SKIP kept-checkpoint the archive cannot be read"));
}

// A kept checkpoint the key did not sign fails the kept-checkpoint check
// (exit 1), as verify fails the same file, after the bundle's own checks,
// which are still run and told. It was bad usage (exit 2), which a script
// takes for its own mistake (found by an outside reading).
TEST_F(BundleCliTest, AKeptCheckpointTheKeyDidNotSignFailsItsCheck) {
  const std::string bundle = ExportedBundle("b.zip");
  // Another ledger's, under the same name.
  const std::string other = dir_.Sub("other");
  ASSERT_EQ(testing::RunCli(CASELEDGER_BINARY,
                            "init --name cli.example/log --db " + other, dir_)
                .code,
            0);
  CliRun foreign =
      testing::RunCli(CASELEDGER_BINARY, "checkpoint --db " + other, dir_);
  ASSERT_EQ(foreign.code, 0) << foreign.err;
  // This ledger's, with one character of its root changed.
  std::string altered = Cli("checkpoint").out;
  const size_t root = altered.find('\n', altered.find('\n') + 1) + 1;
  altered[root] = altered[root] == 'A' ? 'B' : 'A';
  // Signed by the ledger's key, yet no checkpoint.
  const std::string first_line = altered.substr(0, altered.find('\n'));
  ASSERT_OK_AND_ASSIGN(
      SigningKey key, SigningKey::FromPrivateKeyText(
                          first_line, testing::FileContents(
                                          dir_.Sub("ledger/signing-key.pem"))));
  ASSERT_OK_AND_ASSIGN(std::string no_checkpoint,
                       SignNote("not a checkpoint\n", key));
  const struct {
    std::string file;
    std::string said;
  } cases[] = {
      {Write("foreign.txt", foreign.out),
       "not a checkpoint signed by cli.example/log: no signature by "
       "cli.example/log (key id "},
      {Write("altered.txt", altered),
       "not a checkpoint signed by cli.example/log: signed note line "},
      {Write("no-checkpoint.txt", no_checkpoint),
       "signed by cli.example/log, yet not a checkpoint: "},
  };
  for (const auto& c : cases) {
    const std::string args =
        absl::StrCat("verify-bundle ", bundle, " --pubkey ", key_file_,
                     " --checkpoint ", c.file);
    CliRun text = Cli(args, /*with_db=*/false);
    EXPECT_EQ(text.code, 1) << text.out << text.err;
    EXPECT_THAT(text.out,
                HasSubstr(absl::StrCat("FAIL kept-checkpoint 1 problem\n"
                                       "       - --checkpoint ",
                                       c.file, ": ", c.said)));
    EXPECT_THAT(text.out, HasSubstr("OK   proofs"));
    EXPECT_THAT(text.out, HasSubstr("VERDICT: FAIL"));
    CliRun json = Cli(args + " --format json", /*with_db=*/false);
    EXPECT_EQ(json.code, 1) << json.out << json.err;
    EXPECT_THAT(json.out, HasSubstr("\"check\": \"kept-checkpoint\",\n"
                                    "      \"status\": \"FAIL\""));
  }
}

}  // namespace
}  // namespace caseledger
