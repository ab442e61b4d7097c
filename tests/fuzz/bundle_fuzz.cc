// Fuzz target: the offline bundle verifier (projections/bundle/verify.h) and
// its strict ZIP reader (projections/bundle/internal/zip.h): a bundle is the
// one input a stranger hands us. The first input byte picks the mode:
//   0: the rest is a bundle; VerifyBundle must give a verdict (never an
//      error: the key is valid) and render it as text and JSON;
//   1: the rest is an archive for ReadZip; one it accepts with every CRC
//      right must be canonical: WriteZip of its members gives the same bytes;
//   2: the rest is a list of (name, data) members; WriteZip builds the
//      archive and VerifyBundle must give a verdict, so the fuzzer reaches
//      the manifest and file checks without having to find ZIP's layout.
// The fixed key signed the seed bundles in corpus/bundle_fuzz/.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "google/protobuf/stubs/logging.h"
#include "projections/bundle/internal/zip.h"
#include "projections/bundle/verify.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

// The verifier key of tests/fuzz/checkpoint_fuzz.cc's fixed test key, named
// after the ledger the seed bundles came from.
constexpr char kKey[] =
    "fuzz.example/log+a66b13c6+AZqJD9y0S5CzwYAOxE+Jnvl2/v/+7H0pcFvsuT0kHtpS";

void Verify(std::string_view bundle) {
  auto verdict = caseledger::bundle::VerifyBundle(bundle, kKey);
  FUZZ_CHECK(verdict.ok(), verdict.status().ToString());
  bool failed = false;
  for (const auto& c : verdict->checks) {
    failed |= c.status == caseledger::bundle::BundleCheck::Status::kFail;
    if (c.status == caseledger::bundle::BundleCheck::Status::kFail) {
      FUZZ_CHECK(!c.problems.empty(),
                 absl::StrCat("check ", c.name, " failed naming no problem"));
    }
  }
  FUZZ_CHECK(!(verdict->ok() && failed), "an OK verdict with a failed check");
  (void)caseledger::bundle::RenderVerdictText(*verdict, "fuzz.zip");
  (void)caseledger::bundle::RenderVerdictJson(*verdict, "fuzz.zip");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Events with invalid UTF-8 fail to parse, which protobuf also logs: quiet
  // (the logging slowed the fuzzer and interleaved with its status lines).
  static const bool quiet = [] {
    google::protobuf::SetLogHandler(nullptr);
    return true;
  }();
  (void)quiet;
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1,
                              size - 1);
  switch (data[0] % 3) {
    case 0:
      Verify(rest);
      break;
    case 1: {
      auto members = caseledger::bundle::internal::ReadZip(rest);
      if (!members.ok()) break;
      std::map<std::string, std::string> by_name;
      bool crc_ok = true;
      for (const auto& m : *members) {
        FUZZ_CHECK(caseledger::bundle::internal::IsValidMemberName(m.name),
                   absl::StrCat("accepted member name ", m.name));
        FUZZ_CHECK(by_name.emplace(m.name, std::string(m.data)).second,
                   absl::StrCat("accepted a duplicate member ", m.name));
        crc_ok &= m.crc_ok;
      }
      if (!crc_ok) break;
      auto written = caseledger::bundle::internal::WriteZip(by_name);
      FUZZ_CHECK(written.ok(), written.status().ToString());
      FUZZ_CHECK(*written == rest,
                 "ReadZip accepted an archive WriteZip would not write");
      break;
    }
    default: {
      // Members: a length byte and that many name bytes, two length bytes
      // and that many data bytes, repeated.
      std::map<std::string, std::string> members;
      std::string_view in = rest;
      while (in.size() >= 3 && members.size() < 64) {
        size_t name_size = static_cast<uint8_t>(in[0]);
        in.remove_prefix(1);
        std::string name(in.substr(0, name_size));
        in.remove_prefix(std::min(name_size, in.size()));
        if (in.size() < 2) break;
        size_t data_size =
            static_cast<uint8_t>(in[0]) << 8 | static_cast<uint8_t>(in[1]);
        in.remove_prefix(2);
        members[name] = std::string(in.substr(0, data_size));
        in.remove_prefix(std::min(data_size, in.size()));
      }
      auto archive = caseledger::bundle::internal::WriteZip(members);
      if (archive.ok()) Verify(*archive);
      break;
    }
  }
  return 0;
}
