// Verbs of tamper evidence: key, checkpoint, prove, verify.
#include <algorithm>
#include <filesystem>
#include <optional>

#include "absl/strings/str_cat.h"
#include "ledger/base64.h"
#include "ledger/checkpoint.h"
#include "ledger/proof_json.h"
#include "ledger/sha256.h"
#include "ledger/string_view.h"
#include "projections/deadline_index.h"
#include "tools/cli.h"
#include "tools/output.h"
#include "tools/server/access_log.h"

namespace caseledger::cli {
namespace {

int Key(const Args& args, Io& io) {
  // The public key is derived from the private one: this reader needs it.
  LedgerOptions options;
  options.require_key = true;
  auto ledger = OpenForRead(args, options);
  if (!ledger.ok()) return Fail(io, "key", ledger.status());
  auto key = (*ledger)->VerifierKeyText();
  if (!key.ok()) return Fail(io, "key", key.status());
  io.out << *key << "\n";
  return kExitOk;
}

int Checkpoint(const Args& args, Io& io) {
  auto ledger = OpenForWrite(args, io);
  if (!ledger.ok()) return Fail(io, "checkpoint", ledger.status());
  auto note = (*ledger)->SignCheckpoint();
  if (!note.ok()) return Fail(io, "checkpoint", note.status());
  io.out << *note;  // exactly the signed note, nothing else
  return kExitOk;
}

int Prove(const Args& args, Io& io) {
  if (absl::Status flags_ok = CheckProveFlags(args); !flags_ok.ok()) {
    return UsageError(io, "prove", std::string(flags_ok.message()));
  }
  auto ledger = OpenForRead(args);
  if (!ledger.ok()) return Fail(io, "prove", ledger.status());
  auto given_size = ProofSizeFlag(args);
  if (!given_size.ok()) return Fail(io, "prove", given_size.status());
  const uint64_t size = *given_size == 0 ? (*ledger)->Size() : *given_size;
  if (args.Has("position")) {
    auto position = CountFlag(args, "position", std::nullopt);
    if (!position.ok()) return Fail(io, "prove", position.status());
    auto proof = (*ledger)->InclusionProof(*position, size);
    if (!proof.ok()) return Fail(io, "prove", proof.status());
    io.out << merkle::InclusionProofJson(*position - 1, size, *proof);
    return kExitOk;
  }
  auto from = CountFlag(args, "from-size", std::nullopt);
  if (!from.ok()) return Fail(io, "prove", from.status());
  auto proof = (*ledger)->ConsistencyProof(*from, size);
  if (!proof.ok()) return Fail(io, "prove", proof.status());
  io.out << merkle::ConsistencyProofJson(*from, size, *proof);
  return kExitOk;
}

// The checkpoint --checkpoint names, signed with --pubkey's key, else with
// the ledger's own, and of this ledger.
absl::StatusOr<caseledger::Checkpoint> TrustedCheckpoint(
    const Args& args, const std::optional<VerifierKey>& pubkey,
    const Ledger& ledger, Io& io) {
  auto note = ReadInput(args.Get("checkpoint"), io);
  if (!note.ok()) return note.status();
  std::optional<VerifierKey> key = pubkey;
  if (!key) {
    auto own = ledger.VerifierKeyText();
    if (!own.ok()) {
      return absl::FailedPreconditionError(
          "no key to check its signature with: the ledger's key file is "
          "unusable; give --pubkey KEYFILE");
    }
    auto parsed = ParseVerifierKey(*own);
    if (!parsed.ok()) return parsed.status();
    key = *parsed;
  }
  auto checkpoint = CheckpointSignedBy(*note, *key);
  if (!checkpoint.ok()) return checkpoint.status();
  // One of another ledger is a failed check too, as one the key did not
  // sign.
  if (checkpoint->origin != ledger.origin()) {
    return absl::DataLossError(
        absl::StrCat("a checkpoint of ", checkpoint->origin,
                     ", not of this ledger (", ledger.origin(), ")"));
  }
  return checkpoint;
}

// OK when `given` (--access-log) is a regular file; the usage error
// naming it otherwise.
absl::Status AccessLogIsAFile(const std::string& given) {
  std::error_code ec;
  const auto type = std::filesystem::status(given, ec).type();
  if (type == std::filesystem::file_type::regular) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("--access-log: cannot read the access log ", given, ": ",
                   type == std::filesystem::file_type::not_found
                       ? "No such file or directory"
                       : "it is not a regular file"));
}

int Verify(const Args& args, Io& io) {
  // A key obtained out of band is the auditor's check that the checkpoints
  // were signed by the ledger they trust, not by whoever holds this folder.
  auto given = PubkeyFlagIfGiven(args, io);
  if (!given.ok()) {
    return UsageError(io, "verify", std::string(given.status().message()));
  }
  const std::optional<VerifierKey>& pubkey = *given;
  // A mistyped --access-log is told before the walk (it was told after it,
  // 2.3 s for 550,056 entries; found by an audit); the log's chain is
  // checked after the ledger, whose own failures come first.
  if (args.Has("access-log")) {
    if (absl::Status given = AccessLogIsAFile(args.Get("access-log"));
        !given.ok()) {
      return UsageError(io, "verify", std::string(given.message()));
    }
  }
  auto ledger = OpenForRead(args);
  if (!ledger.ok()) {
    // A ledger whose tail fails the open-time check is a failed check too.
    return Fail(io, "verify", ledger.status());
  }
  // A checkpoint kept outside the ledger (an auditor's copy, a published
  // one): the checkpoints the ledger stores say nothing of a store rolled
  // back to an earlier state with its later checkpoints deleted.
  std::optional<caseledger::Checkpoint> trusted;
  if (args.Has("checkpoint")) {
    auto read = TrustedCheckpoint(args, pubkey, **ledger, io);
    if (absl::IsDataLoss(read.status())) {
      // The ledger cannot tell which side is wrong.
      io.out << "FAIL --checkpoint: " << read.status().message()
             << ": the checkpoint is another ledger's or was altered"
             << (pubkey ? ""
                        : ", or this ledger's signing key was replaced "
                          "(check with --pubkey KEYFILE, a key you "
                          "trust)")
             << "\n";
      return kExitCheckFailed;
    }
    if (!read.ok()) {
      return UsageError(
          io, "verify",
          absl::StrCat("--checkpoint: ", read.status().message()));
    }
    trusted = *read;
  }
  // A trusted checkpoint past the ledger's end fails before the walk, as
  // after it (the walk may find fewer entries still).
  auto fewer_than_trusted = [&](uint64_t entries) {
    io.out << "FAIL position " << entries + 1
           << ": missing: the trusted checkpoint of size " << trusted->tree_size
           << " was signed but the ledger has only " << entries
           << " entries; entries were removed or the store was rolled back\n";
    return kExitCheckFailed;
  };
  if (trusted && trusted->tree_size > (*ledger)->Size()) {
    return fewer_than_trusted((*ledger)->Size());
  }
  auto progress = [&](uint64_t done, uint64_t total) {
    io.err << "verify: " << done << "/" << total << " entries\n";
  };
  auto report = pubkey ? (*ledger)->Verify(*pubkey, progress)
                       : (*ledger)->Verify(progress);
  if (!report.ok()) {
    io.out << "FAIL " << report.status().message() << "\n";
    return kExitCheckFailed;
  }
  // The walk reads the log's families only; damage in a block it does not
  // read (a stored message, a projection, a stale version) shows here.
  if (absl::Status files = (*ledger)->VerifyFiles(); !files.ok()) {
    io.out << "FAIL " << files.message() << "\n";
    return kExitCheckFailed;
  }
  // The stored nodes now agree with the log, so the root they give at the
  // trusted size is the log's.
  if (trusted && trusted->tree_size > report->entries) {
    return fewer_than_trusted(report->entries);
  }
  if (trusted) {
    auto root = (*ledger)->RootAt(trusted->tree_size);
    if (!root.ok()) return Fail(io, "verify", root.status());
    if (*root != trusted->root_hash) {
      io.out << "FAIL the ledger's entries give root " << ToHex(*root)
             << " at tree size " << trusted->tree_size
             << ", but the trusted checkpoint signs "
             << ToHex(trusted->root_hash) << ": its first "
             << trusted->tree_size
             << " entries were rewritten or the store was rolled back\n";
      return kExitCheckFailed;
    }
  }
  // Signatures are what the store cannot make by itself: a key given out of
  // band and no checkpoint it signed shows nothing (another ledger's store,
  // or this one's with its checkpoints deleted, passed; found by an audit).
  if (pubkey && report->entries > 0 && report->checkpoints == 0 &&
      report->kept_signed_size == 0) {
    io.out << "FAIL no stored checkpoint is signed by " << pubkey->name
           << ": nothing shows that these " << report->entries
           << " entries are the ledger that key signs (its checkpoints were "
              "deleted, or it never signed one); a checkpoint kept "
              "elsewhere (--checkpoint FILE) can tell\n";
    return kExitCheckFailed;
  }
  std::string deadlines;
  if (int code = CheckDeadlineIndex(**ledger, "verify", io, &deadlines);
      code != kExitOk) {
    return code;
  }
  std::string access_log;
  if (int code = CheckAccessLog(DbDir(args), args.Get("access-log"), "verify",
                                io, &access_log);
      code != kExitOk) {
    return code;
  }
  io.out << "OK " << Counted(report->entries, "entry", "entries") << ", "
         << Counted(report->cases, "case", "cases") << ", "
         << Counted(report->nodes, "Merkle node", "Merkle nodes") << ", "
         << Counted(report->messages, "stored message", "stored messages")
         << ", ";
  if (report->signatures_checked) {
    io.out << Counted(report->checkpoints, "checkpoint", "checkpoints")
           << " verified\n";
  } else {
    io.out << Counted(report->checkpoints, "checkpoint root",
                      "checkpoint roots")
           << " verified; signatures NOT checked (no usable signing-key.pem: "
              "give --pubkey KEYFILE)\n";
  }
  // Signed beyond the stored checkpoints (the writer keeps the entries it
  // has not stored a checkpoint for signed in the file): said, since the
  // count above does not include it.
  if (report->kept_signed_size > report->last_signed_size) {
    io.out << "OK the kept checkpoint (latest-checkpoint) signs "
           << Counted(report->kept_signed_size, "entry", "entries") << "\n";
  }
  if (trusted) {
    io.out << "OK extends the trusted checkpoint of size " << trusted->tree_size
           << "\n";
  }
  // What no check here can see: anyone who can write the store can rewrite
  // what no signature covers, and delete checkpoints (docs/reliability.md
  // §7). Said, so that OK is not read as more than it is.
  const uint64_t covered =
      std::max({report->last_signed_size, report->kept_signed_size,
                trusted ? trusted->tree_size : 0});
  if (covered < report->entries) {
    io.out << UnsignedEntriesNote(covered, report->entries)
           << ": only the store vouches for them, and for any checkpoint "
              "deleted from it; a checkpoint kept elsewhere (--checkpoint "
              "FILE) shows whether they were rewritten\n";
  }
  io.out << deadlines << access_log << UnfinishedCopyNote(DbDir(args));
  return kExitOk;
}

}  // namespace

int CheckDeadlineIndex(const Ledger& ledger, const std::string& verb, Io& io,
                       std::string* ok_line) {
  // The one stored projection: a deadline missing from it would hide its
  // case from the overdue list, though the log is intact.
  auto deadlines = projections::DeadlineIndex::Verify(
      ledger, [&](uint64_t done, uint64_t total) {
        io.err << verb << ": deadline index " << done << "/" << total
               << " events\n";
      });
  if (!deadlines.ok()) {
    if (!absl::IsDataLoss(deadlines.status())) {
      return Fail(io, verb, deadlines.status());
    }
    io.out << "FAIL " << deadlines.status().message() << "\n";
    return kExitCheckFailed;
  }
  ok_line->clear();
  if (deadlines->position > 0) {
    *ok_line =
        absl::StrCat("OK the deadline index holds the ",
                     Counted(deadlines->deadlines, "deadline", "deadlines"),
                     " set up to position ", deadlines->position, "\n");
  }
  // Behind the log (an import killed before its catch-up, a server's
  // appends between its catch-ups), it was passed over in silence (found by
  // an outside reading). Readers fold in what it lacks, so this is no FAIL.
  if (const uint64_t size = ledger.Size(); deadlines->position < size) {
    absl::StrAppend(ok_line, "NOTE the deadline index has taken up ",
                    deadlines->position, " of the ", size,
                    " entries: readers fold in the others as they read; the "
                    "ledger's writer takes them up (a server every "
                    "--index-every seconds, a local write as it ends; "
                    "'caseledger rebuild' when none holds the ledger)\n");
  }
  return kExitOk;
}

std::string AccessLogFailLine(std::string_view problem) {
  return absl::StrCat("FAIL ", AbslView(problem),
                      ": a record was edited, removed or moved\n");
}

int CheckAccessLog(const std::string& dir, const std::string& given,
                   const std::string& verb, Io& io, std::string* ok_line) {
  ok_line->clear();
  const std::string path =
      !given.empty()
          ? given
          : (std::filesystem::path(dir) / server::kAccessLogFile).string();
  std::error_code ec;
  const auto type = std::filesystem::status(path, ec).type();
  if (type == std::filesystem::file_type::not_found && given.empty()) {
    return kExitOk;
  }
  if (!given.empty()) {
    if (absl::Status file = AccessLogIsAFile(given); !file.ok()) {
      return UsageError(io, verb, std::string(file.message()));
    }
  }
  // In the ledger folder, something else in its place is damage to the
  // record, not a mistyped flag.
  if (type != std::filesystem::file_type::regular) {
    io.out << "FAIL access log " << path
           << " is not a regular file: the server writes its records there\n";
    return kExitCheckFailed;
  }
  auto checked = server::VerifyAccessLog(path);
  if (absl::IsDataLoss(checked.status())) {
    io.out << AccessLogFailLine(std::string(checked.status().message()));
    return kExitCheckFailed;
  }
  if (!checked.ok()) return Fail(io, verb, checked.status());
  *ok_line = absl::StrCat("OK access log ", path, ": ",
                          Counted(checked->records, "record", "records"),
                          ", each chained to the one before\n");
  // Said, so that bytes no check covers are not read as checked.
  if (checked->unfinished_bytes > 0) {
    absl::StrAppend(ok_line, "NOTE access log ", path, " ends with ",
                    Counted(checked->unfinished_bytes, "byte", "bytes"),
                    " after its last whole record: a record being written, "
                    "or one a crash cut short, which the server cuts off when "
                    "it starts; not checked\n");
  }
  return kExitOk;
}

std::vector<Verb> EvidenceVerbs() {
  return {
      {{"key",
        "key --db DIR",
        "Print the ledger's public verifier key (C2SP verifier-key text):\n"
        "<name>+<hex key id>+<base64 key>.",
        {},
        0,
        0},
       Key},
      {{"checkpoint",
        "checkpoint --db DIR",
        "Sign, store and print a checkpoint of the current tree: exactly the "
        "C2SP\nsigned-note bytes.",
        {},
        0,
        0},
       Checkpoint},
      {{"prove",
        "prove --db DIR (--position P | --from-size A) [--size N] "
        "[--format json]",
        "Print an inclusion proof of the entry at position P, or a "
        "consistency proof\nfrom tree size A, against tree size N (default: "
        "the current size), as JSON.",
        {{"position", "P", "the entry to prove included (1-based)"},
         {"from-size", "A", "the older tree size to prove consistent"},
         {"size", "N", "the tree size to prove against (default: current)"},
         {"format", "json",
          "the only output format (accepted for scripts "
          "that pass --format to every verb)"}},
        0,
        0},
       Prove},
      {{"verify",
        "verify --db DIR [--pubkey KEYFILE] [--checkpoint FILE] "
        "[--access-log FILE]",
        "Check the whole ledger: every digest, leaf, Merkle node and "
        "checkpoint\nsignature, dense positions and versions, the "
        "indexes, every stored message's\nSHA-256, the deadline index "
        "against the events, and the checksum of every\nblock of every "
        "table file. Exit 1 naming the first problem "
        "(position,\nmessage or file); 0 when intact. Signatures are "
        "checked with --pubkey, else\nwith the ledger's own key; "
        "without either the output says they were not\nchecked. With "
        "--pubkey, a ledger none of whose checkpoints that key "
        "signed\nfails. With --checkpoint, the ledger must also extend "
        "that checkpoint, kept\noutside it: a store rolled back or "
        "rewritten before it fails. The\ncheckpoint kept beside the store "
        "(latest-checkpoint) is checked too, and\nnamed when it signs more "
        "than the stored ones. A NOTE line names the\nentries no signature "
        "covers yet: anyone who can write the store could\nhave rewritten "
        "them, and only a checkpoint kept elsewhere can tell.\nThe "
        "server's access log, when there is one, must be a "
        "chain of records none\nof which was edited, removed or moved (its "
        "last record can be changed, and\nits last records removed, without "
        "trace: keep copies elsewhere, or\n'chattr +a' it).",
        {{"pubkey", "KEYFILE",
          "the ledger's verifier key from a trusted source (as `caseledger "
          "key` prints it)"},
         {"checkpoint", "FILE",
          "a checkpoint of this ledger kept elsewhere (as `caseledger "
          "checkpoint` prints it)"},
         {"access-log", "FILE",
          "the access log of a server started with --access-log FILE "
          "(default: DIR/access-log.jsonl, when there is one)"}},
        0,
        0},
       Verify},
  };
}

}  // namespace caseledger::cli
