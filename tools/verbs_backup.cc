// Verbs of backup and restore: backup --to, backup --verify, restore --from.
// The work and its guarantees are in Ledger::Backup / VerifyBackup / Restore
// (docs/reliability.md).
#include <optional>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "ledger/base64.h"
#include "tools/cli.h"
#include "tools/output.h"

namespace caseledger::cli {

const char kKeptAsItIs[] = "it is kept as it is";
const char kRebuildThenBackUpAgain[] =
    "run 'caseledger rebuild' on the ledger, then back up again";

int KeptBrokenPart(const std::string& dir, const std::string& verb,
                   std::string_view part, std::string_view then, Io& io) {
  io.err << "caseledger " << verb << ": the store in " << dir
         << " verifies, but the " << part
         << " copied with it fails its check (above), as the original's "
            "does: "
         << then << "\n";
  return kExitCheckFailed;
}

std::string DescribeBackup(const Ledger::BackupSummary& info) {
  return absl::StrCat(Counted(info.tree_size, "entry", "entries"), " of ",
                      info.origin, ", root ",
                      Base64Encode(DigestBytes(info.root)),
                      ", last checkpoint at size ", info.checkpoint_size);
}

namespace {

// Entries no checked signature covers: anyone who wrote the folder could
// have written them (--pubkey said nothing of them; found by an outside
// test).
std::string UnsignedTailNote(const Ledger::BackupSummary& info) {
  if (info.signed_size >= info.tree_size) return "";
  return absl::StrCat(UnsignedEntriesNote(info.signed_size, info.tree_size),
                      ": only the backup vouches for them\n");
}

// CheckDeadlineIndex of the ledger copied into `dir`, opened read-only.
int CheckDeadlineIndexOfCopy(const std::string& dir, const std::string& verb,
                             Io& io, std::string* ok_line) {
  LedgerOptions read_only;
  read_only.read_only = true;
  auto copy = Ledger::Open(dir, read_only);
  if (!copy.ok()) return Fail(io, verb, copy.status());
  return CheckDeadlineIndex(**copy, verb, io, ok_line);
}

const VerifierKey* OrNull(const std::optional<VerifierKey>& key) {
  return key ? &*key : nullptr;
}

int VerifyBackupVerb(const std::string& dir, const Args& args, Io& io) {
  auto trusted = PubkeyFlagIfGiven(args, io);
  if (!trusted.ok()) {
    return UsageError(io, "backup", std::string(trusted.status().message()));
  }
  auto info = Ledger::VerifyBackup(dir, OrNull(*trusted));
  if (!info.ok()) {
    // No backup there, or a restore's copy not yet checked: no check ran.
    if (absl::IsNotFound(info.status()) ||
        absl::IsFailedPrecondition(info.status())) {
      return Fail(io, "backup", info.status());
    }
    io.out << "FAIL " << info.status().message() << "\n";
    return kExitCheckFailed;
  }
  // The backup's deadline index is restored as it is, so it is checked as
  // 'verify --db BACKUP' checks it.
  std::string deadlines;
  if (int code = CheckDeadlineIndexOfCopy(dir, "backup", io, &deadlines);
      code != kExitOk) {
    return code;
  }
  // A backup carries the access log when the ledger had one.
  std::string access_log;
  if (int code = CheckAccessLog(dir, "", "backup", io, &access_log);
      code != kExitOk) {
    return code;
  }
  io.out << "OK backup in " << dir << ": " << DescribeBackup(*info) << "\n"
         << UnsignedTailNote(*info) << deadlines << access_log
         << UnfinishedCopyNote(dir);
  return kExitOk;
}

// The access log a backup or restore copied with the store, checked as
// verify checks it: the copy said it verifies while verify then failed it
// (found by an outside reading). The log is copied as it is, evidence of
// whatever was done to it, so a broken one fails the command (exit 1)
// without undoing the copy of the store, which verifies.
int AccessLogOfCopy(const std::string& dir, const std::string& verb, Io& io) {
  std::string ok_line;
  const int code = CheckAccessLog(dir, "", verb, io, &ok_line);
  io.out << ok_line;
  return code == kExitCheckFailed
             ? KeptBrokenPart(dir, verb, "access log", kKeptAsItIs, io)
             : code;
}

// The deadline index a backup or restore copied with the store, checked as
// verify checks it: both said the copy verifies while verify then failed
// its index (found by an adversarial test). The index is copied as the
// ledger held it, so a damaged one fails the command (exit 1) with the copy
// kept; `mend` says how to rebuild it.
int DeadlineIndexOfCopy(const std::string& dir, const std::string& verb,
                        const std::string& mend, Io& io) {
  std::string ok_line;
  const int code = CheckDeadlineIndexOfCopy(dir, verb, io, &ok_line);
  io.out << ok_line;
  return code == kExitCheckFailed
             ? KeptBrokenPart(dir, verb, "deadline index", mend, io)
             : code;
}

int Backup(const Args& args, Io& io) {
  if (args.Has("to") == args.Has("verify")) {
    return UsageError(io, "backup",
                      "give exactly one of --to DIR (make a backup) or "
                      "--verify DIR (check one)");
  }
  if (args.Has("verify")) {
    return VerifyBackupVerb(args.Get("verify"), args, io);
  }
  if (args.Has("pubkey")) {
    return UsageError(io, "backup",
                      "--pubkey checks a backup (--verify BACKUP); a backup "
                      "being made is signed by this ledger's own key");
  }
  auto ledger = OpenForWrite(args, io);
  if (!ledger.ok()) return Fail(io, "backup", ledger.status());
  auto info = (*ledger)->Backup(args.Get("to"));
  if (!info.ok()) return Fail(io, "backup", info.status());
  io.out << "backed up " << DescribeBackup(*info) << " to " << args.Get("to")
         << "; the copy verifies\n";
  const int index = DeadlineIndexOfCopy(args.Get("to"), "backup",
                                        kRebuildThenBackUpAgain, io);
  const int access_log = AccessLogOfCopy(args.Get("to"), "backup", io);
  return index != kExitOk ? index : access_log;
}

int Restore(const Args& args, Io& io) {
  if (!args.Has("from")) {
    return UsageError(io, "restore", "--from DIR is required");
  }
  absl::StatusOr<std::string> db = RequireDb(args);
  if (!db.ok()) {
    return UsageError(io, "restore", std::string(db.status().message()));
  }
  const std::string& to = *db;
  auto trusted = PubkeyFlagIfGiven(args, io);
  if (!trusted.ok()) {
    return UsageError(io, "restore", std::string(trusted.status().message()));
  }
  auto info = Ledger::Restore(args.Get("from"), to, OrNull(*trusted));
  if (!info.ok()) return Fail(io, "restore", info.status());
  io.out << "restored " << DescribeBackup(*info) << " into " << to
         << "; the restored ledger verifies\n"
         << UnsignedTailNote(*info) << UnfinishedCopyNote(args.Get("from"));
  const int index = DeadlineIndexOfCopy(
      to, "restore", absl::StrCat("run 'caseledger rebuild --db ", to, "'"),
      io);
  const int access_log = AccessLogOfCopy(to, "restore", io);
  // Both copies hold the same key and name: written to side by side they
  // would sign checkpoints of one ledger that contradict each other.
  // Without --pubkey the backup vouched for itself with the key it holds.
  io.err << "caseledger restore: " << to << " signs with the key of "
         << info->origin
         << (*trusted ? " you trusted (--pubkey)"
                      : " that the backup holds (check it against a key you "
                        "trust: --pubkey KEYFILE)")
         << "; append to one of the two ledgers only (retire the other), or "
            "their checkpoints will contradict each other\n";
  return index != kExitOk ? index : access_log;
}

}  // namespace

std::vector<Verb> BackupVerbs() {
  return {
      {{"backup",
        "backup --db DIR (--to BACKUP | --verify BACKUP [--pubkey KEYFILE])",
        "Write a consistent, verified copy of the ledger (store and signing "
        "key) to a\nnew folder, or check a backup without restoring it. "
        "Readers keep reading\nmeanwhile. A ledger that serve holds is "
        "backed up through the server: in client\nmode (--server, an admin "
        "token) the server writes it, --to NAME being a new\nfolder under "
        "its --backup-dir. A backup is a ledger folder: 'verify --db BACKUP'"
        "\nreads it too.",
        {{"to", "BACKUP", "the new folder to write the backup to"},
         {"verify", "BACKUP",
          "check this backup: every digest, node, checkpoint, stored "
          "message and table checksum, and the deadline index"},
         {"pubkey", "KEYFILE",
          "with --verify: check its checkpoints with the ledger's verifier "
          "key from a trusted source (as `caseledger key` prints it), not "
          "the key the backup holds"}},
        0,
        0},
       Backup},
      {{"restore",
        "restore --from BACKUP --db DIR [--pubkey KEYFILE]",
        "Restore a backup into DIR (new or empty): the backup is verified, "
        "copied, and\nthe copy verified to have the backup's size and root.",
        {{"from", "BACKUP", "the backup folder to restore"},
         {"pubkey", "KEYFILE",
          "check the backup's checkpoints with the ledger's verifier key "
          "from a trusted source (as `caseledger key` prints it), not the "
          "key the backup holds"}},
        0,
        0},
       Restore},
  };
}

}  // namespace caseledger::cli
