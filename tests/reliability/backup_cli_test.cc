// `caseledger backup` and `restore` end to end: exit codes and outputs of
// domain.md §6 on real ledgers in temp folders.

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ledger/checkpoint.h"
#include "ledger/internal/store.h"
#include "ledger/ledger.h"
#include "tests/reliability/reliability_util.h"
#include "tests/testing/cli_run.h"
#include "tests/testing/deadline_index.h"
#include "tests/testing/test_util.h"

namespace caseledger {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;

using testing::CliRun;

// What `commands` (sh) printed and how they ended, run where `disk` is a
// freshly mounted tmpfs of `size` bytes; `mounted` is false where this
// machine does not allow it (a container may not grant a mount namespace,
// or mounting in it).
struct OnFreshDisk {
  bool mounted = false;
  int code = -1;
  std::string output;
};

OnFreshDisk RunOnFreshDisk(const std::string& disk, uint64_t size,
                           const std::string& commands,
                           const std::string& log) {
  OnFreshDisk run;
  if (std::system("unshare -m true > /dev/null 2>&1") != 0) {
    run.output = "no mount namespace here (unshare -m)";
    return run;
  }
  fs::create_directory(disk);
  // The tmpfs lives as long as the namespace: everything runs inside it.
  const std::string script = absl::StrCat(
      "mount --make-rprivate / 2>/dev/null; mount -t tmpfs -o size=", size,
      " none ", disk, " || exit 77; ", commands);
  const int status = std::system(
      absl::StrCat("unshare -m sh -c '", script, "' > ", log, " 2>&1").c_str());
  run.output = testing::FileContents(log);
  if (!WIFEXITED(status) || WEXITSTATUS(status) == 77) return run;
  run.mounted = true;
  run.code = WEXITSTATUS(status);
  return run;
}

class BackupCliTest : public ::testing::Test {
 protected:
  CliRun Cli(const std::string& args) {
    return testing::RunCli(CASELEDGER_BINARY, args, dir_);
  }
  void SetUp() override {
    ASSERT_EQ(Cli("init --db " + Db() + " --name cli.example/log").code, 0);
    CliRun r = Cli("append --db " + Db() + " " + testing::SharedDir() +
                   "/examples/bounce-handled.jsonl");
    ASSERT_EQ(r.code, 0) << r.err;
  }
  std::string Db() const { return dir_.Sub("ledger"); }
  std::string Backup() const { return dir_.Sub("backup"); }
  std::string Restored() const { return dir_.Sub("restored"); }
  std::string Disk() const { return dir_.Sub("disk"); }

  // Backs the ledger up, then restores it onto Disk(), a tmpfs of `size`
  // bytes mounted for the purpose, and runs `then` (sh, right after the
  // restore's command) there.
  OnFreshDisk RestoreOntoAFreshDisk(uint64_t size, const std::string& then) {
    EXPECT_EQ(Cli("backup --db " + Db() + " --to " + Backup()).code, 0);
    return RunOnFreshDisk(Disk(), size,
                          absl::StrCat(CASELEDGER_BINARY, " restore --from ",
                                       Backup(), " --db ", Disk(), then),
                          dir_.Sub("mounted.log"));
  }

  // Each of `verbs` ends with exit 3 (a conflict), saying `message`.
  void ExpectEachRefused(const std::vector<std::string>& verbs,
                         const std::string& message) {
    for (const std::string& verb : verbs) {
      CliRun refused = Cli(verb);
      EXPECT_EQ(refused.code, 3) << verb << ": " << refused.err;
      EXPECT_THAT(refused.err, HasSubstr(message)) << verb;
    }
  }

  testing::TempFolder dir_;
};

TEST_F(BackupCliTest, BackupVerifyRestoreAndTheSameCheckpointRoot) {
  CliRun b = Cli("backup --db " + Db() + " --to " + Backup());
  ASSERT_EQ(b.code, 0) << b.err;
  EXPECT_THAT(b.out, StartsWith("backed up "));
  EXPECT_THAT(b.out, HasSubstr("the copy verifies"));

  CliRun v = Cli("backup --verify " + Backup());
  ASSERT_EQ(v.code, 0) << v.err;
  EXPECT_THAT(v.out, StartsWith("OK backup in "));
  // A backup is a ledger folder: the ordinary verify reads it in place.
  EXPECT_EQ(Cli("verify --db " + Backup()).code, 0);

  CliRun r = Cli("restore --from " + Backup() + " --db " + Restored());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, StartsWith("restored "));
  EXPECT_THAT(r.err, HasSubstr("signs with the key of cli.example/log that "
                               "the backup holds"));
  EXPECT_EQ(Cli("verify --db " + Restored()).code, 0);

  CliRun original = Cli("checkpoint --db " + Db());
  CliRun restored = Cli("checkpoint --db " + Restored());
  ASSERT_EQ(original.code, 0) << original.err;
  ASSERT_EQ(restored.code, 0) << restored.err;
  auto a = ParseCheckpointBody(original.out);
  auto c = ParseCheckpointBody(restored.out);
  ASSERT_OK(a);
  ASSERT_OK(c);
  EXPECT_EQ(a->tree_size, c->tree_size);
  EXPECT_EQ(a->root_hash, c->root_hash);
  EXPECT_EQ(Cli("key --db " + Db()).out, Cli("key --db " + Restored()).out);
}

// A target that cannot be made where it was asked for (a file on the way;
// likewise a folder this user may not write) is the caller's to change:
// exit 2, as export --out's is, where it was a storage error (exit 4).
TEST_F(BackupCliTest, ATargetBehindAFileIsBadInput) {
  const std::string file = dir_.Sub("afile");
  std::ofstream(file) << "x";
  CliRun b = Cli("backup --db " + Db() + " --to " + file + "/backup");
  EXPECT_EQ(b.code, 2) << b.err;
  EXPECT_THAT(b.err, HasSubstr(": Not a directory"));
  ASSERT_EQ(Cli("backup --db " + Db() + " --to " + Backup()).code, 0);
  CliRun r = Cli("restore --from " + Backup() + " --db " + file + "/restored");
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr(": Not a directory"));
  EXPECT_EQ(testing::FileContents(file), "x");
}

// A backup made the folders on its way: those of a backup disk that came
// unmounted were made on the disk below it, and the backup said made (found
// by an outside reading). A missing folder is named, and nothing is made.
TEST_F(BackupCliTest, AMissingFolderOnTheWayIsNotMade) {
  const std::string missing = dir_.Sub("unmounted");
  CliRun b = Cli("backup --db " + Db() + " --to " + missing + "/nightly");
  EXPECT_EQ(b.code, 3) << b.err;
  EXPECT_THAT(b.err, HasSubstr("/unmounted that would hold the backup does "
                               "not exist: create it (or mount the disk it is "
                               "on), then back up again\n"));
  EXPECT_FALSE(fs::exists(missing));
  // Through a link to a folder gone, as well.
  const std::string link = dir_.Sub("link");
  fs::create_directory_symlink(missing, link);
  b = Cli("backup --db " + Db() + " --to " + link + "/nightly");
  EXPECT_EQ(b.code, 3) << b.err;
  EXPECT_THAT(b.err, HasSubstr("/link (a link to " + missing +
                               ") that would hold the backup does not exist"));
  fs::create_directory(missing);
  EXPECT_EQ(Cli("backup --db " + Db() + " --to " + missing + "/nightly").code,
            0);
}

// NAME.partial, a backup stopped before it was renamed, verified and
// restored with no word of what it may lack (found by an outside reading).
TEST_F(BackupCliTest, AnUnfinishedCopyIsSaidToBeOne) {
  ASSERT_EQ(Cli("backup --db " + Db() + " --to " + Backup()).code, 0);
  const std::string partial = Backup() + ".partial";
  fs::rename(Backup(), partial);
  const std::string note =
      " is named as the unfinished copy of a backup that stopped before it "
      "was renamed: the access log, copied after the store and key, may be "
      "missing from it; a finished backup is the better record\n";
  CliRun v = Cli("backup --verify " + partial + "/");
  EXPECT_EQ(v.code, 0) << v.err;
  EXPECT_THAT(v.out, HasSubstr("NOTE " + partial + "/" + note));
  EXPECT_THAT(Cli("backup --verify " + partial + "/.").out,
              HasSubstr("NOTE " + partial + "/." + note));
  // verify of it said nothing either (found by an adversarial test).
  CliRun checked = Cli("verify --db " + partial);
  EXPECT_EQ(checked.code, 0) << checked.err;
  EXPECT_THAT(checked.out, HasSubstr("NOTE " + partial + note));
  CliRun r = Cli("restore --from " + partial + " --db " + Restored());
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("NOTE " + partial + note));
  EXPECT_THAT(Cli("verify --db " + Restored()).out,
              ::testing::Not(HasSubstr("unfinished")));
  fs::rename(partial, Backup());
  EXPECT_THAT(Cli("backup --verify " + Backup()).out,
              ::testing::Not(HasSubstr("unfinished")));
}

// Restore run with after_restore_rename.cc preloaded, `what` saying what
// it does once the copy is renamed into place (damage, hold:DIR).
std::string RestoreThat(const std::string& what) {
  std::vector<std::pair<std::string, std::string>> env =
      testing::Preloading(CASELEDGER_AFTER_RESTORE_RENAME);
  env.emplace_back("CASELEDGER_TEST_AFTER_RESTORE_RENAME", what);
  return testing::WithEnvironment(env, CASELEDGER_BINARY);
}

// Whether `file` exists, waiting up to a minute for it.
bool WaitFor(const std::string& file) {
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (!fs::exists(file) && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  return fs::exists(file);
}

// Starts, in the background, a restore of `backup` into `restored` that
// holds once its copy is renamed into place until `hold`/go is written;
// its output goes to hold/out, its exit code to hold/code. Whether the copy
// was in place within a minute.
bool StartHeldRestore(const std::string& backup, const std::string& restored,
                      const std::string& hold) {
  fs::create_directory(hold);
  const std::string command = absl::StrCat(
      "(", RestoreThat("hold:" + hold), " restore --from ", backup, " --db ",
      restored, " >", hold, "/out 2>&1; echo $? >", hold, "/code.partial; mv ",
      hold, "/code.partial ", hold, "/code) &");
  return std::system(command.c_str()) == 0 && WaitFor(hold + "/renamed");
}

// A copy that fails restore's last check, made after it is renamed into
// place, is no ledger: set back to an unfinished copy in a folder that was
// there, which the next restore replaces, and removed with a folder the
// restore made; kept as `store/`, it stood as a second ledger with the
// backup's key.
TEST_F(BackupCliTest, ACopyThatFailsItsLastCheckIsNoLedger) {
  ASSERT_EQ(Cli("backup --db " + Db() + " --to " + Backup()).code, 0);
  fs::create_directory(Restored());
  const std::string restore =
      "restore --from " + Backup() + " --db " + Restored();
  CliRun r = testing::RunCli(RestoreThat("damage"), restore, dir_);
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_THAT(r.err, HasSubstr("is damaged"));
  EXPECT_THAT(r.err, HasSubstr("; the copy was set aside as unfinished ("));
  EXPECT_THAT(r.err, HasSubstr("/restored/store.partial): restore again\n"));
  EXPECT_FALSE(fs::exists(Restored() + "/store"));
  EXPECT_NE(Cli("verify --db " + Restored()).code, 0);
  CliRun again = Cli(restore);
  EXPECT_EQ(again.code, 0) << again.err;
  EXPECT_FALSE(fs::exists(Restored() + "/store.partial"));
  EXPECT_EQ(Cli("verify --db " + Restored()).code, 0);

  const std::string made = dir_.Sub("made");
  r = testing::RunCli(RestoreThat("damage"),
                      "restore --from " + Backup() + " --db " + made, dir_);
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_THAT(
      r.err,
      HasSubstr("/made, made by this restore, was removed: restore again\n"));
  EXPECT_FALSE(fs::exists(made));
}

// A writer that opened the copy between its rename and restore's last
// check appended to a ledger the check could then remove (found by a
// review): restore keeps writers out until the check ends.
TEST_F(BackupCliTest, NoWriterOpensACopyBeforeRestoreHasCheckedIt) {
  ASSERT_EQ(Cli("backup --db " + Db() + " --to " + Backup()).code, 0);
  const std::string hold = dir_.Sub("hold");
  ASSERT_TRUE(StartHeldRestore(Backup(), Restored(), hold));
  const std::string events =
      testing::SharedDir() + "/examples/bounce-handled.jsonl";
  CliRun early = Cli("append --db " + Restored() + " " + events);
  std::ofstream(hold + "/go") << "go\n";
  ASSERT_TRUE(WaitFor(hold + "/code")) << testing::FileContents(hold + "/out");
  EXPECT_EQ(early.code, 4) << early.err;
  EXPECT_THAT(early.err, HasSubstr("another process has this ledger open for "
                                   "writing: a restore into this folder, "
                                   "checking its copy; wait for it to "
                                   "finish"));
  EXPECT_EQ(testing::FileContents(hold + "/code"), "0\n")
      << testing::FileContents(hold + "/out");
  CliRun later = Cli("append --db " + Restored() + " " + events);
  EXPECT_EQ(later.code, 0) << later.err;
  EXPECT_THAT(later.out, HasSubstr("(10 already stored, skipped)"));
  EXPECT_EQ(Cli("verify --db " + Restored()).code, 0);
}

// A copy that verifies, yet is not the backup's tree, fails restore's last
// check: here an earlier backup of the same ledger, under the same key, put
// in the copy's place while the restore waits (it was restored with the
// size and root compared no more: found by a mutation).
TEST_F(BackupCliTest, ACopyOfAnotherTreeFailsRestoresLastCheck) {
  const std::string earlier = dir_.Sub("earlier");
  ASSERT_EQ(Cli("backup --db " + Db() + " --to " + earlier).code, 0);
  CliRun more = Cli("append --db " + Db() + " " + testing::SharedDir() +
                    "/examples/transfer-then-refusal.jsonl");
  ASSERT_EQ(more.code, 0) << more.err;
  ASSERT_EQ(Cli("backup --db " + Db() + " --to " + Backup()).code, 0);
  const std::string hold = dir_.Sub("hold");
  ASSERT_TRUE(StartHeldRestore(Backup(), Restored(), hold));
  fs::rename(Restored() + "/store", dir_.Sub("copied-store"));
  fs::copy(earlier + "/store", Restored() + "/store",
           fs::copy_options::recursive);
  std::ofstream(hold + "/go") << "go\n";
  ASSERT_TRUE(WaitFor(hold + "/code")) << testing::FileContents(hold + "/out");
  const std::string out = testing::FileContents(hold + "/out");
  EXPECT_EQ(testing::FileContents(hold + "/code"), "1\n") << out;
  EXPECT_THAT(out, HasSubstr("the restored ledger has 10 entries with root "));
  EXPECT_FALSE(fs::exists(Restored())) << out;
}

// A restore killed after putting its copy in place, before its last check
// ended, left a ledger every verb used though nothing had checked it, and
// the same restore again refused it as a ledger (found by an outside
// test). The copy is marked until the check passes: no verb opens it, and
// the same restore replaces it.
TEST_F(BackupCliTest, ARestoreKilledBeforeItsCheckLeavesNoLedgerInUse) {
  ASSERT_EQ(Cli("backup --db " + Db() + " --to " + Backup()).code, 0);
  const std::string restore =
      "restore --from " + Backup() + " --db " + Restored();
  CliRun killed = testing::RunCli(RestoreThat("die"), restore, dir_);
  ASSERT_NE(killed.code, 0);
  ASSERT_TRUE(fs::exists(Restored() + "/store"));
  ASSERT_TRUE(fs::exists(Restored() + "/restore-unchecked"));
  const std::string events =
      testing::SharedDir() + "/examples/bounce-handled.jsonl";
  ExpectEachRefused(
      {"read --db " + Restored(), "verify --db " + Restored(),
       "append --db " + Restored() + " " + events,
       "backup --verify " + Restored(), "init --db " + Restored()},
      " holds a restore that stopped before its last check (the "
      "file restore-unchecked is there): no command opens it; "
      "run the same restore again, which replaces the copy\n");
  // init may replace what it leaves, as it does an unfinished init: the
  // mark was left, and refused the new ledger once made.
  const std::string other = dir_.Sub("other");
  fs::create_directory(other);
  for (const char* file : {"restore-unchecked", "signing-key.pem"}) {
    fs::copy(Restored() + "/" + file, other + "/" + file);
  }
  fs::create_directory(other + "/store.partial");
  CliRun init = Cli("init --db " + other);
  EXPECT_EQ(init.code, 0) << init.err;
  EXPECT_FALSE(fs::exists(other + "/restore-unchecked"));
  EXPECT_EQ(Cli("verify --db " + other).code, 0);

  CliRun again = Cli(restore);
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_FALSE(fs::exists(Restored() + "/restore-unchecked"));
  EXPECT_FALSE(fs::exists(Restored() + "/store.partial"));
  EXPECT_EQ(Cli("verify --db " + Restored()).code, 0);
  EXPECT_EQ(Cli("append --db " + Restored() + " " + events).code, 0);
  // A restored ledger is refused as before.
  EXPECT_EQ(Cli(restore).code, 3);
}

// The close of each file a backup copies was not checked: on a network
// file system close is where a write's error may first be told, and the
// backup said the copy verifies (found by an audit). Here the close of the
// copied signing key fails (close_fails.cc, preloaded).
TEST_F(BackupCliTest, ACopiedFileWhoseCloseFailsFailsTheBackup) {
  std::vector<std::pair<std::string, std::string>> env =
      testing::Preloading(CASELEDGER_CLOSE_FAILS);
  env.emplace_back("CASELEDGER_TEST_FAIL_CLOSE_OF", "/signing-key.pem");
  CliRun r = testing::RunCli(testing::WithEnvironment(env, CASELEDGER_BINARY),
                             "backup --db " + Db() + " --to " + Backup(), dir_);
  EXPECT_EQ(r.code, 4) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("/signing-key.pem: Input/output error"));
  EXPECT_FALSE(fs::exists(Backup()));
  // Without the fault the same backup is made and verifies.
  ASSERT_EQ(Cli("backup --db " + Db() + " --to " + Backup()).code, 0);
  EXPECT_EQ(Cli("backup --verify " + Backup()).code, 0);
}

// A look at the signing key that failed was taken for "no key": init over
// a ledger whose store was not mounted replaced the key its checkpoints
// are signed with (found by an audit). Here that look fails with EIO
// (stat_fails.cc, preloaded) while the folder still lists the key, in a
// ledger that holds no checkpoint yet, whose key is all its folder holds
// beside the store.
TEST_F(BackupCliTest, AKeyThatCannotBeLookedAtIsNeverReplaced) {
  const std::string ledger = dir_.Sub("new");
  ASSERT_EQ(Cli("init --db " + ledger + " --name new.example/log").code, 0);
  const std::string key_path = ledger + "/signing-key.pem";
  const std::string key = testing::FileContents(key_path);
  const std::string unmounted = dir_.Sub("unmounted");
  fs::rename(ledger + "/store", unmounted);
  std::vector<std::pair<std::string, std::string>> env =
      testing::Preloading(CASELEDGER_STAT_FAILS);
  env.emplace_back("CASELEDGER_TEST_FAIL_STAT_OF", "/signing-key.pem");
  const std::string init = "init --db " + ledger + " --name new.example/log";
  CliRun r = testing::RunCli(testing::WithEnvironment(env, CASELEDGER_BINARY),
                             init, dir_);
  EXPECT_EQ(r.code, 4) << r.out << r.err;
  EXPECT_THAT(r.err, HasSubstr("cannot tell whether " + key_path +
                               " exists: Input/output error"));
  EXPECT_EQ(testing::FileContents(key_path), key);
  EXPECT_FALSE(fs::exists(ledger + "/store.partial"));
  // Without the fault, init says what is missing, and the ledger opens
  // once its store is back.
  CliRun again = Cli(init);
  EXPECT_EQ(again.code, 3) << again.err;
  EXPECT_THAT(again.err, HasSubstr("holds a signing key but no store"));
  fs::rename(unmounted, ledger + "/store");
  EXPECT_EQ(Cli("verify --db " + ledger).code, 0);
}

// A look for a mark that fails was taken for "no mark": an unfinished
// copy took an append, acknowledged, which the next backup to its name
// erased; a ledger whose restore was unchecked opened (found by an audit).
// Here each mark is a link that leads to itself, whose look fails ("Too
// many levels of symbolic links"): the command is refused.
TEST_F(BackupCliTest, AMarkThatCannotBeLookedForRefusesTheCommand) {
  ASSERT_EQ(Cli("backup --db " + Db() + " --to " + Backup()).code, 0);
  const std::string partial = Backup() + ".partial";
  fs::rename(Backup(), partial);
  fs::create_symlink("unfinished-copy", partial + "/unfinished-copy");
  const std::string events =
      testing::SharedDir() + "/examples/bounce-handled.jsonl";
  const std::string size_before = Cli("read --db " + partial).out;
  CliRun append = Cli("append --db " + partial + " " + events);
  EXPECT_EQ(append.code, 4) << append.err;
  EXPECT_THAT(append.err,
              HasSubstr("/unfinished-copy exists: Too many levels of "
                        "symbolic links\n"));
  EXPECT_EQ(Cli("read --db " + partial).out, size_before);

  fs::create_symlink("restore-unchecked", Db() + "/restore-unchecked");
  CliRun read = Cli("read --db " + Db());
  EXPECT_EQ(read.code, 4) << read.err;
  EXPECT_THAT(read.err,
              HasSubstr("/restore-unchecked exists: Too many levels of "
                        "symbolic links\n"));
  fs::remove(Db() + "/restore-unchecked");
  EXPECT_EQ(Cli("read --db " + Db()).code, 0);
}

// An unfinished backup (NAME.partial holding its mark) took appends and
// signed checkpoints, which the next backup to NAME erased without a word
// (found by an outside test). It is read, not written.
TEST_F(BackupCliTest, ABackupsUnfinishedCopyIsNotWritten) {
  ASSERT_EQ(Cli("backup --db " + Db() + " --to " + Backup()).code, 0);
  const std::string partial = Backup() + ".partial";
  fs::rename(Backup(), partial);
  std::ofstream(partial + "/unfinished-copy") << "as a killed backup left it\n";
  const std::string events =
      testing::SharedDir() + "/examples/bounce-handled.jsonl";
  ExpectEachRefused(
      {"append --db " + partial + " " + events, "checkpoint --db " + partial},
      ".partial is a backup's copy in progress or left unfinished (it holds "
      "unfinished-copy), which the next backup to its name starts over: it is "
      "not written to; restore it into a new folder to use it\n");
  // Nor by another name: a link to it, or `--db .` inside it, took appends.
  const std::string link = dir_.Sub("link");
  fs::create_directory_symlink(partial, link);
  ExpectEachRefused({"append --db " + link + " " + events,
                     "checkpoint --db " + partial + "/store/.."},
                    "is a backup's copy in progress or left unfinished");
  EXPECT_EQ(Cli("read --db " + partial).code, 0);
  EXPECT_EQ(Cli("backup --verify " + partial).code, 0);
  // One a backup is still writing (its lock held, here by flock(1)) is not
  // restored: it failed on a file that went, or a key not yet there.
  const std::string held = dir_.Sub("held"), done = dir_.Sub("done");
  ASSERT_EQ(std::system(absl::StrCat("flock ", partial, " -c 'touch ", held,
                                     "; sleep 2; touch ", done, "' &")
                            .c_str()),
            0);
  ASSERT_TRUE(WaitFor(held));
  CliRun busy = Cli("restore --from " + partial + " --db " + Restored());
  EXPECT_EQ(busy.code, 3) << busy.err;
  EXPECT_THAT(busy.err, HasSubstr("a backup is writing " + partial +
                                  "; wait for it to finish, then restore the "
                                  "finished backup"));
  EXPECT_FALSE(fs::exists(Restored()));
  ASSERT_TRUE(WaitFor(done));
  CliRun restored = Cli("restore --from " + partial + " --db " + Restored());
  EXPECT_EQ(restored.code, 0) << restored.err;
  EXPECT_EQ(Cli("append --db " + Restored() + " " + events).code, 0);
}

// A backup vouched for itself with the key it holds: another ledger of the
// same name, its events altered, was verified and restored, and restore
// said the copy "signs with the original ledger's key" (found by an
// outside test). With --pubkey the key trusted checks its checkpoints.
TEST_F(BackupCliTest, APubkeyTellsAForgedBackupFromTheLedgers) {
  ASSERT_EQ(Cli("backup --db " + Db() + " --to " + Backup()).code, 0);
  CliRun key = Cli("key --db " + Db());
  ASSERT_EQ(key.code, 0);
  std::ofstream(dir_.Sub("trusted.pub")) << key.out;
  const std::string forged = dir_.Sub("forged"), copy = dir_.Sub("forged-copy");
  ASSERT_EQ(Cli("init --db " + forged + " --name cli.example/log").code, 0);
  ASSERT_EQ(Cli("append --db " + forged + " " + testing::SharedDir() +
                "/examples/transfer-then-refusal.jsonl")
                .code,
            0);
  ASSERT_EQ(Cli("backup --db " + forged + " --to " + copy).code, 0);
  const std::string trusted = " --pubkey " + dir_.Sub("trusted.pub");
  ASSERT_EQ(Cli("backup --verify " + copy).code, 0) << "its own key vouches";

  CliRun checked = Cli("backup --verify " + copy + trusted);
  EXPECT_EQ(checked.code, 1) << checked.err;
  EXPECT_THAT(checked.out, HasSubstr("/forged-copy (signing-key.pem) is "
                                     "cli.example/log (key id "));
  EXPECT_THAT(checked.out, HasSubstr("), not the key given (cli.example/log, "
                                     "key id "));
  CliRun refused =
      Cli("restore --from " + copy + " --db " + Restored() + trusted);
  EXPECT_EQ(refused.code, 1) << refused.err;
  EXPECT_THAT(refused.err, HasSubstr("a ledger restored from it would sign "
                                     "with another key"));
  EXPECT_FALSE(fs::exists(Restored()));
  // With no checkpoint to check, the key itself is compared: an empty
  // ledger of the same name was restored as signing "with the key you
  // trusted".
  const std::string empty = dir_.Sub("empty"), empty_copy = dir_.Sub("e-copy");
  ASSERT_EQ(Cli("init --db " + empty + " --name cli.example/log").code, 0);
  ASSERT_EQ(Cli("backup --db " + empty + " --to " + empty_copy).code, 0);
  EXPECT_EQ(
      Cli("restore --from " + empty_copy + " --db " + dir_.Sub("r3") + trusted)
          .code,
      1);

  EXPECT_EQ(Cli("backup --verify " + Backup() + trusted).code, 0);
  CliRun restored =
      Cli("restore --from " + Backup() + " --db " + Restored() + trusted);
  ASSERT_EQ(restored.code, 0) << restored.err;
  EXPECT_THAT(restored.err, HasSubstr(" signs with the key of cli.example/log "
                                      "you trusted (--pubkey); "));
  CliRun unchecked = Cli("restore --from " + copy + " --db " + dir_.Sub("r2"));
  EXPECT_EQ(unchecked.code, 0);
  EXPECT_THAT(unchecked.err,
              HasSubstr(" signs with the key of cli.example/log that the "
                        "backup holds (check it against a key you trust: "
                        "--pubkey KEYFILE); "));
}

// Entries past the last signed checkpoint were passed in silence, with
// --pubkey too: only the folder vouches for them (found by the re-test of
// --pubkey).
TEST_F(BackupCliTest, EntriesNoSignatureCoversAreSaid) {
  const std::string folder = dir_.Sub("unsigned-tail");
  {
    LedgerOptions options;
    options.checkpoint_every_entries = 0;
    options.checkpoint_every = absl::InfiniteDuration();
    options.keep_signed_within = absl::ZeroDuration();
    ASSERT_OK_AND_ASSIGN(auto ledger,
                         Ledger::Create(folder, "cli.example/log", options));
    ASSERT_OK(ledger->Append(testing::CaseEvents("CASE-1", 0, 5)));
    ASSERT_OK(ledger->SignCheckpoint());
    ASSERT_OK(ledger->Append(testing::CaseEvents("CASE-1", 5, 5)));
  }
  // The writer signs its size as it closes: that checkpoint, stored and
  // kept beside the store, is taken away, as the outside test did with ldb.
  {
    ASSERT_OK_AND_ASSIGN(auto store,
                         internal::Store::Open(folder + "/store", {}));
    internal::Batch batch(*store);
    batch.Delete(internal::Family::kCheckpoints, internal::EncodeU64(10));
    ASSERT_OK(store->Write(batch, /*sync=*/true));
  }
  fs::remove(folder + "/latest-checkpoint");
  CliRun verified = Cli("backup --verify " + folder);
  EXPECT_EQ(verified.code, 0) << verified.err;
  EXPECT_THAT(verified.out,
              HasSubstr("NOTE entries 6 to 10 come after the last signed "
                        "checkpoint (size 5): only the backup vouches for "
                        "them\n"));
  CliRun restored = Cli("restore --from " + folder + " --db " + Restored());
  EXPECT_EQ(restored.code, 0) << restored.err;
  EXPECT_THAT(restored.out, HasSubstr("NOTE entries 6 to 10 come after"));
  ASSERT_EQ(Cli("backup --db " + folder + " --to " + Backup()).code, 0);
  EXPECT_THAT(Cli("backup --verify " + Backup()).out,
              ::testing::Not(HasSubstr("NOTE entries")))
      << "a backup signs its own size";
  // No checkpoint signed at all: checked against a trusted key, nothing
  // shows the entries are that key's ledger (it passed with that refusal
  // taken out: found by a mutation).
  CliRun key = Cli("key --db " + folder);
  ASSERT_EQ(key.code, 0) << key.err;
  std::ofstream(dir_.Sub("trusted.pub")) << key.out;
  {
    ASSERT_OK_AND_ASSIGN(auto store,
                         internal::Store::Open(folder + "/store", {}));
    internal::Batch batch(*store);
    batch.Delete(internal::Family::kCheckpoints, internal::EncodeU64(5));
    batch.Delete(internal::Family::kCheckpoints, internal::EncodeU64(10));
    ASSERT_OK(store->Write(batch, /*sync=*/true));
  }
  fs::remove(folder + "/latest-checkpoint");
  CliRun unsigned_only =
      Cli("backup --verify " + folder + " --pubkey " + dir_.Sub("trusted.pub"));
  EXPECT_EQ(unsigned_only.code, 1) << unsigned_only.out << unsigned_only.err;
  EXPECT_THAT(unsigned_only.out + unsigned_only.err,
              HasSubstr(" is signed by cli.example/log: nothing shows that its "
                        "10 entries are the ledger that key signs"));
}

// "B/" and "R/." name the folders B and R: the partial copy goes beside
// them, not inside, and nothing is left behind.
TEST_F(BackupCliTest, FolderNamesWithATrailingSlashOrDotWork) {
  CliRun b = Cli("backup --db " + Db() + " --to " + Backup() + "/");
  ASSERT_EQ(b.code, 0) << b.err;
  EXPECT_EQ(Cli("backup --verify " + Backup()).code, 0);

  CliRun r = Cli("restore --from " + Backup() + " --db " + Restored() + "/");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Cli("verify --db " + Restored()).code, 0);

  const std::string empty = dir_.Sub("empty");
  fs::create_directory(empty);
  CliRun dot = Cli("restore --from " + Backup() + " --db " + empty + "/.");
  ASSERT_EQ(dot.code, 0) << dot.err;
  EXPECT_EQ(Cli("verify --db " + empty).code, 0);

  for (const fs::directory_entry& e : fs::directory_iterator(dir_.path())) {
    EXPECT_THAT(e.path().filename().string(),
                ::testing::Not(HasSubstr("partial")));
  }
  EXPECT_FALSE(fs::exists(Backup() + "/.partial"));
  EXPECT_FALSE(fs::exists(Restored() + "/.partial"));
}

// A freshly mounted disk is an empty folder that cannot be replaced: the
// restore fills it in place, and makes no copy beside it on the parent's
// disk.
TEST_F(BackupCliTest, RestoreIntoAnEmptyMountPointFillsIt) {
  OnFreshDisk run = RestoreOntoAFreshDisk(
      64 << 20,
      absl::StrCat(" && ", CASELEDGER_BINARY, " verify --db ", Disk()));
  if (!run.mounted) GTEST_SKIP() << "cannot mount: " << run.output;
  EXPECT_EQ(run.code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("restored "));
  EXPECT_THAT(run.output, HasSubstr("OK "));
  for (const fs::directory_entry& e : fs::directory_iterator(dir_.path())) {
    EXPECT_THAT(e.path().filename().string(),
                ::testing::Not(HasSubstr("partial")));
  }
}

// A restore onto a disk too small for the backup says so before it copies
// anything, with the sizes, instead of the I/O error of a short write.
TEST_F(BackupCliTest, RestoreOntoADiskTooSmallSaysSoAndCopiesNothing) {
  OnFreshDisk run =
      RestoreOntoAFreshDisk(16 << 10, "; echo \"exit $?\"; ls -A " + Disk());
  if (!run.mounted) GTEST_SKIP() << "cannot mount: " << run.output;
  EXPECT_THAT(run.output, HasSubstr("the backup needs ")) << run.output;
  EXPECT_THAT(run.output, HasSubstr("free some space or restore elsewhere"));
  EXPECT_THAT(run.output, HasSubstr("exit 4"));
  // `ls -A` of the disk printed nothing after the exit line.
  EXPECT_THAT(run.output, ::testing::EndsWith("exit 4\n")) << run.output;
}

TEST_F(BackupCliTest, DamagedBackupFailsVerifyWithExitOne) {
  ASSERT_EQ(Cli("backup --db " + Db() + " --to " + Backup()).code, 0);
  for (const auto& f : fs::directory_iterator(Backup() + "/store")) {
    if (f.path().extension() != ".sst") continue;
    std::fstream file(f.path(),
                      std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(static_cast<std::streamoff>(f.file_size() / 3));
    file.put('\x5a');
  }
  CliRun v = Cli("backup --verify " + Backup());
  EXPECT_EQ(v.code, 1);
  EXPECT_THAT(v.out, StartsWith("FAIL "));
  CliRun r = Cli("restore --from " + Backup() + " --db " + Restored());
  EXPECT_EQ(r.code, 1);
  EXPECT_FALSE(fs::exists(Restored()));
}

// A restore copies the deadline index as it is, so the backup's check
// covers it as 'verify --db BACKUP' does.
TEST_F(BackupCliTest, BackupVerifyChecksTheDeadlineIndex) {
  ASSERT_EQ(Cli("backup --db " + Db() + " --to " + Backup()).code, 0);
  CliRun intact = Cli("backup --verify " + Backup());
  ASSERT_EQ(intact.code, 0) << intact.out << intact.err;
  EXPECT_THAT(intact.out, HasSubstr("\nOK the deadline index holds the 2 "
                                    "deadlines set up to position 10\n"));
  EXPECT_THAT(intact.err, HasSubstr("backup: deadline index 10/10 events\n"));
  ASSERT_OK(testing::RemoveTheFirstDeadline(Backup(), 10));
  CliRun missing = Cli("backup --verify " + Backup());
  EXPECT_EQ(missing.code, 1) << missing.out << missing.err;
  EXPECT_EQ(missing.out,
            "FAIL position 4: the deadline index lacks the deadline "
            "2012-04-15T23:59:59Z that this document_request_sent sets for "
            "request DOC-1 of case E2012-000417; run 'caseledger rebuild'\n");
}

// backup --to and restore said the copy "verifies" while its deadline
// index, copied as the ledger held it, failed 'verify' (found by an
// adversarial test: the restored ledger then listed no request OVERDUE
// that 'deadlines --case' showed overdue). Each checks it as verify does,
// keeps the copy, and says how to mend it.
TEST_F(BackupCliTest, BackupAndRestoreCheckTheDeadlineIndexTheyCopy) {
  ASSERT_OK(testing::RemoveTheFirstDeadline(Db(), 10));
  const std::string fail =
      "FAIL position 4: the deadline index lacks the deadline "
      "2012-04-15T23:59:59Z that this document_request_sent sets for request "
      "DOC-1 of case E2012-000417; run 'caseledger rebuild'\n";
  CliRun backup = Cli("backup --db " + Db() + " --to " + Backup());
  EXPECT_EQ(backup.code, 1) << backup.out << backup.err;
  EXPECT_THAT(backup.out, HasSubstr(fail));
  EXPECT_THAT(backup.err,
              HasSubstr("caseledger backup: the store in " + Backup() +
                        " verifies, but the deadline index copied with it "
                        "fails its check (above), as the original's does: run "
                        "'caseledger rebuild' on the ledger, then back up "
                        "again\n"));
  ASSERT_TRUE(fs::exists(Backup() + "/store"));  // kept
  CliRun restore = Cli("restore --from " + Backup() + " --db " + Restored());
  EXPECT_EQ(restore.code, 1) << restore.out << restore.err;
  EXPECT_THAT(restore.out, HasSubstr(fail));
  EXPECT_THAT(restore.err,
              HasSubstr("run 'caseledger rebuild --db " + Restored() + "'\n"));
  // The mend it names works.
  ASSERT_EQ(Cli("rebuild --db " + Restored()).code, 0);
  CliRun verify = Cli("verify --db " + Restored());
  EXPECT_EQ(verify.code, 0) << verify.out << verify.err;
  // Whole, both say what the index holds.
  ASSERT_EQ(Cli("rebuild --db " + Db()).code, 0);
  fs::remove_all(Backup());
  CliRun again = Cli("backup --db " + Db() + " --to " + Backup());
  EXPECT_EQ(again.code, 0) << again.out << again.err;
  EXPECT_THAT(again.out, HasSubstr("\nOK the deadline index holds the 2 "
                                   "deadlines set up to position 10\n"));
}

TEST_F(BackupCliTest, BadUsageExitsTwoAndConflictsThree) {
  EXPECT_EQ(Cli("backup --db " + Db()).code, 2);  // neither --to nor --verify
  EXPECT_EQ(
      Cli("backup --db " + Db() + " --to " + Backup() + " --verify " + Backup())
          .code,
      2);
  EXPECT_EQ(Cli("restore --db " + Restored()).code, 2);  // no --from
  EXPECT_EQ(Cli("restore --from " + Backup()).code, 2);  // no --db
  EXPECT_EQ(Cli("backup --verify " + dir_.Sub("nothing")).code, 2);
  ASSERT_EQ(Cli("backup --db " + Db() + " --to " + Backup()).code, 0);
  CliRun again = Cli("backup --db " + Db() + " --to " + Backup());
  EXPECT_EQ(again.code, 3);
  EXPECT_THAT(again.err, HasSubstr("already exists"));
  CliRun over = Cli("restore --from " + Backup() + " --db " + Db());
  EXPECT_EQ(over.code, 3);
  EXPECT_THAT(over.err, HasSubstr("already holds a ledger"));
}

TEST_F(BackupCliTest, HelpDescribesBothVerbs) {
  for (const char* verb : {"backup", "restore"}) {
    CliRun h = Cli(absl::StrCat(verb, " --help"));
    EXPECT_EQ(h.code, 0);
    EXPECT_THAT(h.out, StartsWith(absl::StrCat("usage: caseledger ", verb)));
  }
}

}  // namespace
}  // namespace caseledger
