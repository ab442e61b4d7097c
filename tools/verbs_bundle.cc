// Verbs of evidence bundles: export and verify-bundle (domain.md §5,
// docs/bundle-format.md). Thin: flags in, projections/bundle out.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "projections/bundle/bundle.h"
#include "projections/bundle/verify.h"
#include "projections/evaluation.h"
#include "projections/policy.h"
#include "tools/cli.h"

namespace caseledger::cli {
namespace {

// Where the bundle goes: a temporary file beside `path`, opened before the
// export (so that an unwritable --out fails before anything is recorded) and
// renamed into place once complete (so that no reader sees half a bundle).
class OutputFile {
 public:
  explicit OutputFile(std::string path)
      : path_(std::move(path)), partial_(absl::StrCat(path_, ".partial")) {}
  ~OutputFile() {
    if (!done_) std::remove(partial_.c_str());
  }

  absl::Status Open() {
    out_.open(partial_, std::ios::binary | std::ios::trunc);
    if (!out_) {
      return absl::InvalidArgumentError(
          absl::StrCat("--out: cannot write ", partial_));
    }
    return absl::OkStatus();
  }

  absl::Status Commit(const std::string& bytes) {
    out_.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out_.close();
    if (!out_)
      return absl::InternalError(absl::StrCat("error writing ", partial_));
    std::error_code ec;
    std::filesystem::rename(partial_, path_, ec);
    if (ec) {
      return absl::InternalError(absl::StrCat(
          "cannot rename ", partial_, " to ", path_, ": ", ec.message()));
    }
    done_ = true;
    return absl::OkStatus();
  }

 private:
  std::string path_, partial_;
  std::ofstream out_;
  bool done_ = false;
};

int Export(const Args& args, Io& io) {
  for (const char* flag : {"case", "purpose", "out"}) {
    if (!args.Has(flag)) {
      return UsageError(io, "export",
                        absl::StrCat("--", flag,
                                     " is required (usage: "
                                     "caseledger export --case C --purpose P "
                                     "--out FILE.zip)"));
    }
  }
  bundle::ExportRequest request;
  request.case_id = args.Get("case");
  auto purpose = bundle::ParsePurpose(args.Get("purpose"));
  if (!purpose.ok()) return Fail(io, "export", purpose.status());
  request.purpose = *purpose;
  if (args.Has("tree-size")) {
    if (!absl::SimpleAtoi(args.Get("tree-size"), &request.tree_size) ||
        request.tree_size == 0) {
      return UsageError(io, "export",
                        absl::StrCat("--tree-size: '", args.Get("tree-size"),
                                     "' is not a tree size (1 or more)"));
    }
  }
  if (args.Has("since-checkpoint")) {
    auto note = ReadInput(args.Get("since-checkpoint"), io);
    if (!note.ok()) return Fail(io, "export", note.status());
    request.since_checkpoint = *note;
  }
  if (args.Has("policy")) {
    auto text = ReadInput(args.Get("policy"), io);
    if (!text.ok()) return Fail(io, "export", text.status());
    auto policy = projections::ParsePolicy(*text);
    if (!policy.ok()) {
      return UsageError(
          io, "export",
          absl::StrCat(args.Get("policy"), ": ", policy.status().message()));
    }
    request.policy = *policy;
  }
  for (const char* flag : {"as-of", "known-at"}) {
    if (!args.Has(flag)) continue;
    auto t = projections::ParseEvaluationTime(args.Get(flag), flag);
    if (!t.ok()) return Fail(io, "export", t.status());
    (std::string(flag) == "as-of" ? request.as_of : request.known_at) = *t;
  }
  request.include_after_decision = args.Has("include-after-decision");
  const char* user = std::getenv("USER");
  request.requested_by =
      args.Get("requested-by", user != nullptr && *user ? user : "cli");
  request.source = "caseledger export";
  // "Now" is read once, here, at the edge: it dates the audit event only;
  // nothing in the bundle depends on it.
  request.now = SystemClock().Now();

  const std::string out = args.Get("out");
  OutputFile file(out);
  if (absl::Status s = file.Open(); !s.ok()) return Fail(io, "export", s);
  auto ledger = OpenForWrite(args);
  if (!ledger.ok()) return Fail(io, "export", ledger.status());
  auto result = bundle::ExportBundle(**ledger, request);
  if (!result.ok()) return Fail(io, "export", result.status());
  if (absl::Status s = file.Commit(result->bytes); !s.ok()) {
    return Fail(io, "export", s);
  }
  io.out << "exported case " << result->case_id << " for "
         << v1::BundlePurpose::Value_Name(result->purpose) << " at tree size "
         << result->tree_size << ": " << out << " (" << result->events
         << " events, " << result->members << " files, " << result->bytes.size()
         << " bytes, sha256 " << result->sha256_hex
         << "); recorded as position " << result->audit_position << "\n";
  return kExitOk;
}

int VerifyBundle(const Args& args, Io& io) {
  if (!args.Has("pubkey")) {
    return UsageError(io, "verify-bundle",
                      "--pubkey KEYFILE is required (the ledger's verifier "
                      "key, as `caseledger key` prints it)");
  }
  auto json = WantsJson(args);
  if (!json.ok()) return Fail(io, "verify-bundle", json.status());
  auto key = ReadInput(args.Get("pubkey"), io);
  if (!key.ok()) {
    return UsageError(io, "verify-bundle",
                      absl::StrCat("--pubkey: ", key.status().message()));
  }
  const std::string& file = args.positional()[0];
  std::optional<bundle::BundleVerdict> verdict;
  std::error_code ec;
  const uintmax_t size = std::filesystem::file_size(file, ec);
  if (ec) {
    verdict = bundle::UnreadableBundle(
        absl::StrCat("cannot read ", file, ": ", ec.message()));
  } else if (size > bundle::kMaxBundleBytes) {
    verdict = bundle::UnreadableBundle(
        absl::StrCat(file, " is ", size, " bytes, over the limit of ",
                     bundle::kMaxBundleBytes));
  } else {
    auto bytes = ReadInput(file, io);
    if (!bytes.ok()) {
      verdict = bundle::UnreadableBundle(std::string(bytes.status().message()));
    } else {
      auto checked = bundle::VerifyBundle(*bytes, *key);
      if (!checked.ok()) {
        return UsageError(io, "verify-bundle",
                          std::string(checked.status().message()));
      }
      verdict = *std::move(checked);
    }
  }
  io.out << (*json ? bundle::RenderVerdictJson(*verdict, file)
                   : bundle::RenderVerdictText(*verdict, file));
  return verdict->ok() ? kExitOk : kExitCheckFailed;
}

}  // namespace

std::vector<Verb> BundleVerbs() {
  return {
      {{"export",
        "export --db DIR --case C --purpose P --out FILE.zip [--tree-size N] "
        "[--since-checkpoint FILE]",
        "Write the evidence bundle of one case: a deterministic ZIP with the "
        "case's\nstored events, an inclusion proof of each against a signed "
        "checkpoint, the\nstored messages, state, deadlines, findings and a "
        "report (HTML and PDF), and\na signed manifest (docs/bundle-format.md)."
        " Then record the export as an\nevidence_bundle_exported event. The "
        "same --tree-size gives the same bytes.",
        {{"case", "C", "the case"},
         {"purpose", "P",
          "reconsideration, judicial-review or investigation (or the enum "
          "names)"},
         {"out", "FILE", "where to write the ZIP"},
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
         {"known-at", "T", "only events recorded by T (default: as --as-of)"},
         {"include-after-decision", "",
          "judicial review: also put records dated after the decision in the "
          "record"},
         {"requested-by", "NAME",
          "who asked for the bundle (default: $USER, else cli)"}},
        0,
        0},
       Export},
      {{"verify-bundle",
        "verify-bundle FILE --pubkey KEYFILE [--format json|text]",
        "Check an evidence bundle offline with nothing but the ledger's "
        "public key:\nthe manifest's signature and digests, the checkpoint's "
        "signature, every\nevent's digest and inclusion proof, the messages, "
        "and the state, deadlines\nand findings recomputed from the events. "
        "Prints a verdict per check; exit 0\nwhen all hold, 1 when any fails "
        "(corrupt or unreadable bundles included),\n2 for bad usage. Opens "
        "no ledger.",
        {{"pubkey", "KEYFILE",
          "the ledger's verifier key (one line, as `caseledger key` prints)"},
         {"format", "json|text", "output format (default: text)"}},
        1,
        1},
       VerifyBundle},
  };
}

}  // namespace caseledger::cli
