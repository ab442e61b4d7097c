// Verbs of evidence bundles: export and verify-bundle (domain.md §5,
// docs/bundle-format.md). Thin: flags in, projections/bundle out.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "ledger/status_macros.h"
#include "projections/bundle/bundle.h"
#include "projections/bundle/verify.h"
#include "tools/cli.h"
#include "tools/output.h"
#include "tools/server/wire.h"

namespace caseledger::cli {
namespace {

// The words of a stop signal while the bundle is built, and once it is
// (StopSignals::SayWhenCaught).
constexpr char kStoppingTheBuild[] =
    "stopping the export: its bundle is not built yet, and nothing is "
    "recorded until it is";
constexpr char kNothingRecorded[] = "nothing was recorded";
constexpr char kFinishingTheExport[] =
    "finishing the export first (a second signal ends it at once)";

int RecordAndWriteBundle(const Args& args, Io& io, StopSignals& stop) {
  std::string policy_text;
  auto flags = ReadExportFlags(args, io, &policy_text);
  if (!flags.ok()) return Fail(io, "export", flags.status());
  bundle::ExportRequest& request = *flags;
  const char* user = std::getenv("USER");
  request.requested_by =
      args.Get("requested-by", user != nullptr && *user ? user : "cli");
  request.source = "caseledger export";
  // "Now" is read once, here, at the edge: it dates the audit event only;
  // nothing in the bundle depends on it.
  request.now = SystemClock().Now();
  request.progress = [&io](std::string_view step) { TellExportStep(io, step); };
  request.still_wanted = [&stop] {
    return stop.received() == 0 ? absl::OkStatus()
                                : absl::CancelledError("a stop signal came");
  };

  const std::string out = args.Get("out");
  if (absl::Status outside = Ledger::CheckOutsideLedger(
          out, DbDir(args),
          "a bundle there could be taken for one of its files, and is lost "
          "with it");
      !outside.ok()) {
    return Fail(
        io, "export",
        absl::InvalidArgumentError(absl::StrCat("--out: ", outside.message())));
  }
  OutputFile file(out);
  if (absl::Status s = file.Open(); !s.ok()) return Fail(io, "export", s);
  auto ledger = OpenForWrite(args, io);
  if (!ledger.ok()) return Fail(io, "export", ledger.status());
  // The bundle is built: from here on it is recorded, then written, and a
  // signal waits for both. A signal that came before is heeded.
  auto recording = [&](const bundle::ExportResult& built) -> absl::Status {
    CASELEDGER_RETURN_IF_ERROR(request.still_wanted());
    stop.SayWhenCaught("export", kFinishingTheExport, kExportLeftUnknown);
    return file.Reserve(built.bytes.size());
  };
  auto result = bundle::ExportBundle(**ledger, request, recording);
  if (absl::IsCancelled(result.status()) && stop.received() != 0) {
    io.err << "caseledger export: " << stop.received_name()
           << " received while the bundle was built; the export stopped: "
              "nothing was recorded or written\n";
    return stop.exit_code();
  }
  if (!result.ok()) return Fail(io, "export", result.status());
  file.Write(result->bytes);
  if (absl::Status s = file.Commit(); !s.ok()) {
    return Fail(io, "export", s);
  }
  // Printed at once: a second stop signal while the ledger closes ends the
  // process, and the outcome must not be lost with it.
  io.out << ExportedLine(server::ToWire(*result), out) << std::flush;
  // Its audit event is in the log: as append does, so that verify finds the
  // index level with the log after an export.
  CatchUpDeadlineIndex(**ledger, "export", io);
  return kExitOk;
}

// A stop signal while the bundle is built (most of an export: 28 s for a
// case of 20,000 events) stops it, with nothing recorded or written; it was
// held off to the end (found by an audit). Once the bundle is built, the
// export is recorded, then written, and a signal waits for it: between the
// two it would leave a disclosure on record and no bundle.
int Export(const Args& args, Io& io) {
  StopSignals stop;
  stop.HoldUntilExit();
  stop.SayWhenCaught("export", kStoppingTheBuild, kNothingRecorded);
  const int code = RecordAndWriteBundle(args, io, stop);
  if (code == kExitOk) SayFinishedFirst(io, "export", "exporting", stop);
  return code;
}

// A file whose first or last bytes are no bundle's, refused before the
// rest is read: its first as standard input's are (CheckBundleStart), so
// that the same bytes get the same words, then its last. An archive
// comment is at most 65,535 bytes, so the end record, if any, lies in the
// last 65,557.
std::optional<bundle::BundleVerdict> FileRefusedUnread(const std::string& file,
                                                       uint64_t size,
                                                       bool kept_given) {
  std::ifstream in(file, std::ios::binary);
  std::string head(std::min<uint64_t>(size, bundle::kBundleStartBytes), '\0');
  if (!in.read(head.data(), static_cast<std::streamsize>(head.size()))) {
    // Read as a whole below, which reports what is wrong.
    return std::nullopt;
  }
  if (absl::Status start = bundle::CheckBundleStart(head); !start.ok()) {
    return bundle::UnreadableBundle(std::string(start.message()), kept_given);
  }
  const uint64_t tail_size = std::min<uint64_t>(size, 0xffff + 22);
  std::string tail(tail_size, '\0');
  if (!in.seekg(static_cast<std::streamoff>(size - tail_size)) ||
      !in.read(tail.data(), static_cast<std::streamsize>(tail_size))) {
    return std::nullopt;
  }
  return bundle::RefusedByItsEnd(tail, size, kept_given);
}

int VerifyBundle(const Args& args, Io& io) {
  if (!args.Has("pubkey")) {
    return UsageError(io, "verify-bundle",
                      "--pubkey KEYFILE is required (the ledger's verifier "
                      "key, as `caseledger key` prints it)");
  }
  auto json = WantsJson(args);
  if (!json.ok()) return Fail(io, "verify-bundle", json.status());
  // Bad usage before the bundle is read: a missing bundle read "FAIL
  // archive" (exit 1) before a bad key was named (found by an outside
  // reading).
  auto key = PubkeyFlag(args, io);
  if (!key.ok()) {
    return UsageError(io, "verify-bundle", std::string(key.status().message()));
  }
  // A checkpoint the reader kept, checked before the bundle is read: bad
  // usage when it is no signed note; a failed check, after the bundle's own,
  // when the key did not sign it, as in verify (it said bad usage, exit 2,
  // where verify said FAIL for the same file; found by an outside reading).
  std::optional<Checkpoint> kept;
  std::optional<std::string> kept_refused;
  if (args.Has("checkpoint")) {
    auto note = ReadFlagFile(args, "checkpoint", io);
    if (!note.ok()) {
      return UsageError(io, "verify-bundle",
                        std::string(note.status().message()));
    }
    auto checked = CheckpointSignedBy(*note, *key);
    if (checked.ok()) {
      kept = *std::move(checked);
    } else {
      const std::string named =
          absl::StrCat("--checkpoint ", args.Get("checkpoint"), ": ",
                       checked.status().message());
      if (absl::IsInvalidArgument(checked.status())) {
        return UsageError(io, "verify-bundle", named);
      }
      kept_refused = absl::StrCat(
          named,
          ": it is another ledger's, or was altered, or --pubkey is not the "
          "key of the ledger it was kept from");
    }
  }
  const bool kept_given = kept.has_value();
  // "-" is standard input, as for append: a bundle fetched by another
  // program is checked without a file (curl ... | caseledger verify-bundle -).
  const std::string& file = args.positional()[0];
  const bool from_stdin = file == "-";
  std::optional<bundle::BundleVerdict> verdict;
  // A file over the limit is refused unread. A pipe (<(curl ...), a named
  // one) has no size to ask: its first bytes are checked, then it is read
  // up to the limit, as standard input is (it failed as "Operation not
  // supported"; found by an outside reading).
  std::error_code ec;
  if (!from_stdin && std::filesystem::is_regular_file(file, ec)) {
    const uintmax_t size = std::filesystem::file_size(file, ec);
    if (ec) {
      verdict = bundle::UnreadableBundle(
          absl::StrCat("cannot read ", file, ": ", ec.message()), kept_given);
    } else if (size > bundle::kMaxBundleBytes) {
      verdict = bundle::UnreadableBundle(
          absl::StrCat(file, " is ", size, " bytes, over the limit of ",
                       bundle::kMaxBundleBytes),
          kept_given);
    } else {
      verdict = FileRefusedUnread(file, size, kept_given);
    }
  }
  if (!verdict) {
    auto bytes = ReadInput(
        file, io, bundle::kMaxBundleBytes, ", over the limit of a bundle",
        {bundle::kBundleStartBytes, bundle::CheckBundleStart});
    if (!bytes.ok()) {
      verdict = bundle::UnreadableBundle(std::string(bytes.status().message()),
                                         kept_given);
    } else {
      verdict = bundle::VerifyBundle(*bytes, *key, kept ? &*kept : nullptr);
    }
  }
  if (kept_refused) bundle::FailKeptCheckpoint(*verdict, *kept_refused);
  const std::string shown = from_stdin ? "standard input" : file;
  io.out << (*json ? bundle::RenderVerdictJson(*verdict, shown)
                   : bundle::RenderVerdictText(*verdict, shown));
  return verdict->ok() ? kExitOk : kExitCheckFailed;
}

}  // namespace

std::vector<Verb> BundleVerbs() {
  return {
      {{"export",
        "export --db DIR --case C --purpose P --out FILE.zip [--tree-size N] "
        "[--since-checkpoint FILE] [--policy FILE] [--as-of T] [--known-at T] "
        "[--include-after-decision] [--requested-by NAME]",
        "Write the evidence bundle of one case: a deterministic ZIP with the "
        "case's\nstored events, an inclusion proof of each against a signed "
        "checkpoint, the\nstored messages, state, deadlines, findings and a "
        "report (HTML and PDF), and\na signed manifest (docs/bundle-format.md)."
        " Then record the export as an\nevidence_bundle_exported event. The "
        "same --tree-size gives the same bytes.\nSIGINT or SIGTERM while the "
        "bundle is built stops a local export, nothing\nrecorded (exit 130 or "
        "143); once it is built, or in client mode, the export\nfinishes "
        "first.",
        {{"case", "C", "the case"},
         {"purpose", "P",
          "reconsideration, judicial-review or investigation (or the enum "
          "names)"},
         {"out", "FILE",
          "where to write the ZIP: a new file, outside the ledger folder "
          "(nothing is overwritten)",
          /*written=*/true},
         {"tree-size", "N",
          "export as of this earlier checkpointed size (default: sign a "
          "checkpoint of the current tree)"},
         {"since-checkpoint", "FILE",
          "an earlier signed checkpoint; the bundle proves the tree extends "
          "it"},
         {"policy", "FILE", "deadline policy JSON (default: built in)"},
         {"as-of", "T",
          "evaluate projections as of T (default: the recorded_at of the "
          "last entry of the tree size)"},
         {"known-at", "T",
          "only events recorded by T (default: the recorded_at of the last "
          "entry of the tree size)"},
         {"include-after-decision", "",
          "judicial review: also put records dated after the decision in the "
          "record"},
         {"requested-by", "NAME",
          "who asked for the bundle (default: $USER, else cli)"}},
        0,
        0},
       Export},
      {{"verify-bundle",
        "verify-bundle FILE|- --pubkey KEYFILE [--checkpoint FILE] "
        "[--format json|text]",
        "Check an evidence bundle offline with nothing but the ledger's "
        "public key:\nthe manifest's signature and digests, the checkpoint's "
        "signature, every\nevent's digest and inclusion proof, the messages, "
        "and the state, deadlines\nand findings recomputed from the events. "
        "Prints a verdict per check; exit 0\nwhen all hold, 1 when any fails "
        "(corrupt or unreadable bundles included),\n2 for bad usage. Opens "
        "no ledger. '-' reads the bundle from standard input.\nWith "
        "--checkpoint, a checkpoint you kept, it also checks that the "
        "bundle is\nno older than it and of the same tree (a last check, "
        "kept-checkpoint).",
        {{"pubkey", "KEYFILE",
          "the ledger's verifier key (one line, as `caseledger key` prints)"},
         {"checkpoint", "FILE",
          "a checkpoint of the ledger you kept (as `caseledger checkpoint` "
          "prints): the bundle must be at it, or prove its tree extends it "
          "(an export with --since-checkpoint of it)"},
         {"format", "json|text", "output format (default: text)"}},
        1,
        1,
        "a bundle is checked against --pubkey alone, not against a ledger "
        "folder (`caseledger key --db DIR` prints that ledger's key)"},
       VerifyBundle},
  };
}

}  // namespace caseledger::cli
