// Every name a verb leaves behind (a ledger folder and its files, a kept
// checkpoint, a backup, a restored ledger, an exported bundle) is made
// durable before the verb reports success: after the last change to a
// folder's names, the folder is synced. POSIX keeps a new or renamed name
// through a power loss only then, and a verb that said "done" over a name
// a power loss can take has lost what it reported. The built binary runs
// each verb with names_log.cc preloaded, which logs each name made and each
// sync; the test follows each name to where it ends up.
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/cli_run.h"
#include "tests/testing/test_util.h"

namespace caseledger {
namespace {

using testing::CliRun;

// A line of the names log (names_log.cc).
struct NameEvent {
  std::string kind;    // "made", "renamed" or "synced"
  std::string folder;  // made, renamed: the new name's folder; synced: what
  std::string file;    // renamed: the regular file renamed, or "-"
  std::string from;    // renamed: the old name
  std::string path;    // the new name; synced: what was synced
};

std::vector<NameEvent> ReadNamesLog(const std::string& path) {
  std::vector<NameEvent> events;
  for (absl::string_view line :
       absl::StrSplit(testing::FileContents(path), '\n', absl::SkipEmpty())) {
    std::vector<std::string> f = absl::StrSplit(line, ' ');
    if (f.size() < 3) continue;
    NameEvent e{f[0], f[1], "", "", f[2]};
    if (e.kind == "renamed" && f.size() >= 5) {
      e.file = f[2];
      e.from = f[3];
      e.path = f[4];
    }
    events.push_back(e);
  }
  return events;
}

// Where the name `path`, made at event `at`, is once the renames after it
// took effect (a file made in a folder renamed later is in the new one).
std::string WhereItEnds(const std::vector<NameEvent>& events, size_t at,
                        std::string path) {
  for (size_t i = at + 1; i < events.size(); ++i) {
    const NameEvent& e = events[i];
    if (e.kind != "renamed") continue;
    if (path == e.from) {
      path = e.path;
    } else if (absl::StartsWith(path, e.from + "/")) {
      path = e.path + path.substr(e.from.size());
    }
  }
  return path;
}

// Whether what has device and inode `id` was synced at one of the events
// [begin, end).
bool SyncedBetween(const std::vector<NameEvent>& events, const std::string& id,
                   size_t begin, size_t end) {
  for (size_t j = begin; j < end; ++j) {
    if (events[j].kind == "synced" && events[j].folder == id) return true;
  }
  return false;
}

// The names still there after the run whose folder was not synced after
// they were made or renamed, each with what made it.
std::vector<std::string> NamesLeftUnsynced(
    const std::vector<NameEvent>& events) {
  std::vector<std::string> unsynced;
  for (size_t i = 0; i < events.size(); ++i) {
    const NameEvent& e = events[i];
    if (e.kind == "synced") continue;
    const std::string ends = WhereItEnds(events, i, e.path);
    std::error_code ec;
    if (!std::filesystem::exists(ends, ec)) continue;  // removed since
    if (!SyncedBetween(events, e.folder, i + 1, events.size())) {
      unsynced.push_back(absl::StrCat(e.kind, " ", e.path));
    }
  }
  return unsynced;
}

// The files renamed into place that were not synced before their name
// could be found: after a power loss it could hold a file cut short, or
// nothing. A name is found once renamed, or, inside a folder renamed later
// (a backup's `.partial`), once that folder is.
std::vector<std::string> FilesRenamedUnsynced(
    const std::vector<NameEvent>& events) {
  std::vector<std::string> unsynced;
  for (size_t i = 0; i < events.size(); ++i) {
    const NameEvent& e = events[i];
    if (e.kind != "renamed" || e.file == "-") continue;
    size_t found = i;
    for (size_t k = i + 1; k < events.size() && found == i; ++k) {
      if (events[k].kind == "renamed" &&
          absl::StartsWith(e.path, events[k].from + "/")) {
        found = k;
      }
    }
    if (!SyncedBetween(events, e.file, 0, found)) {
      unsynced.push_back(absl::StrCat(e.from, " -> ", e.path));
    }
  }
  return unsynced;
}

class DurableNamesTest : public ::testing::Test {
 protected:
  // Runs `caseledger ARGS` with every name it makes logged (`then`, shell
  // commands, run after it is started in the background, end it); expects
  // it to succeed and to leave no name whose folder it did not sync after.
  void ExpectEveryNameItLeavesSynced(const std::string& args,
                                     const std::string& then = "") {
    SCOPED_TRACE(args);
    const std::string log = dir_.Sub("names.log");
    std::filesystem::remove(log);
    std::vector<std::pair<std::string, std::string>> env =
        testing::Preloading(CASELEDGER_NAMES_LOG);
    env.emplace_back("CASELEDGER_TEST_NAMES_LOG", log);
    const std::string program =
        testing::WithEnvironment(env, CASELEDGER_BINARY);
    CliRun r = then.empty() ? testing::RunCli(program, args, dir_)
                            : testing::RunCli(
                                  absl::StrCat("{ ", program),
                                  absl::StrCat(args, " & ", then, "; }"), dir_);
    ASSERT_EQ(r.code, 0) << r.out << r.err;
    const std::vector<NameEvent> events = ReadNamesLog(log);
    // The control: the preload saw the run make names.
    ASSERT_FALSE(events.empty());
    EXPECT_THAT(NamesLeftUnsynced(events), ::testing::IsEmpty())
        << testing::FileContents(log);
    EXPECT_THAT(FilesRenamedUnsynced(events), ::testing::IsEmpty())
        << testing::FileContents(log);
  }

  std::string Example(const std::string& name) const {
    return testing::SharedDir() + "/examples/" + name;
  }

  testing::TempFolder dir_;
};

TEST_F(DurableNamesTest, EveryVerbThatWritesSyncsTheFoldersOfWhatItLeaves) {
  const std::string db = dir_.Sub("ledger");
  ExpectEveryNameItLeavesSynced("init --db " + db);
  ExpectEveryNameItLeavesSynced("append --db " + db + " " +
                                Example("bounce-handled.jsonl"));
  ExpectEveryNameItLeavesSynced("attach --db " + db + " " +
                                Example("bounce-handled-DOC-1.eml"));
  ExpectEveryNameItLeavesSynced("import --db " + db + " " +
                                Example("transfer-then-refusal.jsonl"));
  ExpectEveryNameItLeavesSynced("checkpoint --db " + db);
  ExpectEveryNameItLeavesSynced("rebuild --db " + db);
  ExpectEveryNameItLeavesSynced(absl::StrCat("export --db ", db,
                                             " --case E2012-000417 --purpose "
                                             "investigation --out ",
                                             dir_.Sub("bundle.zip")));
  const std::string backup = dir_.Sub("backup");
  ExpectEveryNameItLeavesSynced("backup --db " + db + " --to " + backup);
  // Into folders made on the way.
  ExpectEveryNameItLeavesSynced("restore --from " + backup + " --db " +
                                dir_.Sub("restored/ledger"));
  ExpectEveryNameItLeavesSynced("demo --db " + dir_.Sub("demo"));
}

// The access log is synced record by record; its name, when a server makes
// it, was never synced, and a power loss could take the whole log of who
// read what.
TEST_F(DurableNamesTest, ServeSyncsTheFolderOfTheAccessLogItMakes) {
  const std::string db = dir_.Sub("ledger");
  ASSERT_EQ(testing::RunCli(CASELEDGER_BINARY, "init --db " + db, dir_).code,
            0);
  CliRun token = testing::RunCli(CASELEDGER_BINARY,
                                 "token --role reader --name reader-1", dir_);
  ASSERT_EQ(token.code, 0) << token.err;
  std::vector<std::string> lines =
      absl::StrSplit(token.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 2u);
  const std::string tokens = dir_.Sub("tokens");
  std::ofstream(tokens) << lines[1] << "\n";
  std::filesystem::permissions(tokens, std::filesystem::perms::owner_read |
                                           std::filesystem::perms::owner_write);
  // Stopped by SIGTERM once it says it listens (at most 30 s).
  ExpectEveryNameItLeavesSynced(
      absl::StrCat("serve --db ", db, " --listen 127.0.0.1:0 --tokens ",
                   tokens),
      absl::StrCat("for i in $(seq 300); do grep -q '^listening on ' ",
                   dir_.Sub("stdout"),
                   " && break; sleep 0.1; done; kill -TERM $!; wait $!"));
  EXPECT_TRUE(std::filesystem::exists(db + "/access-log.jsonl"));
}

}  // namespace
}  // namespace caseledger
