// Tampering done through raw writes to the ledger's store is found, naming
// the position; proofs built by the ledger check against its checkpoints.
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ledger/event_json.h"
#include "ledger/internal/ledger_impl.h"
#include "ledger/internal/store.h"
#include "ledger/ledger.h"
#include "ledger/sha256.h"
#include "tests/testing/storage_format.h"
#include "tests/testing/test_util.h"

namespace caseledger {
namespace {

using internal::EncodeU64;
using internal::Family;
using ::testing::HasSubstr;

class TamperTest : public ::testing::Test {
 protected:
  static constexpr uint64_t kSize = 30;
  static constexpr uint64_t kCheckpointed = 20;

  void SetUp() override {
    LedgerOptions options;
    options.clock = &clock_;
    options.checkpoint_every_entries = 0;  // explicit checkpoints only
    options.checkpoint_every = absl::ZeroDuration();
    auto ledger = Ledger::Create(Dir(), "tamper.example/log", options);
    ASSERT_OK(ledger);
    for (int c = 0; c < 3; ++c) {
      std::vector<v1::Event> events;
      for (int i = 0; i < 10; ++i) {
        events.push_back(Event(absl::StrCat("CASE-", c), i));
      }
      ASSERT_OK((*ledger)->Append(events));
      if ((c + 1) * 10 == kCheckpointed) ASSERT_OK((*ledger)->SignCheckpoint());
    }
    // Closing signs the final checkpoint (size 30).
  }

  std::string Dir() const { return dir_.Sub("ledger"); }

  static v1::Event Event(const std::string& c, int i) {
    std::string payload =
        i == 0 ? R"("case_opened": {"office_id": "VO-1"})"
               : absl::StrCat(R"("officer_note_added": {"text": "note )", i,
                              "\"}");
    auto e = ParseEventJson(absl::StrCat(
        R"({"case_id": ")", c, R"(", "occurred_at": "2011-01-10T10:00:00Z", )",
        R"("actor": {"kind": "OFFICER", "id": "o"}, )", payload, "}"));
    EXPECT_OK(e);
    return *e;
  }

  // Applies `mutate` to the raw store with the ledger closed.
  void Tamper(
      const std::function<void(internal::Store&, internal::Batch&)>& mutate) {
    ASSERT_OK(testing::AlterStore(Dir() + "/store", mutate));
  }

  // Readers and the writer alike refuse the ledger, naming `problem`.
  void ExpectEveryOpenFails(const std::string& problem) {
    for (bool read_only : {false, true}) {
      LedgerOptions options;
      options.read_only = read_only;
      auto opened = Ledger::Open(Dir(), options);
      EXPECT_EQ(opened.status().code(), absl::StatusCode::kDataLoss)
          << read_only;
      EXPECT_THAT(std::string(opened.status().message()), HasSubstr(problem));
    }
  }

  std::string Get(Family f, const std::string& key) {
    auto store = internal::Store::Open(
        Dir() + "/store",
        {.create_if_missing = false, .read_only = true, .faults = nullptr});
    EXPECT_OK(store);
    auto value = (*store)->Get(f, key);
    EXPECT_OK(value);
    EXPECT_TRUE(value->has_value());
    return value->value_or("");
  }

  // The case-index key of `case_id` version `version`.
  static std::string CaseKey(const std::string& case_id, uint64_t version) {
    return case_id + '\0' + EncodeU64(version);
  }

  // A reader's ReadCase of `case_id` fails with kDataLoss saying `what`.
  void ExpectReadCaseRefused(const std::string& case_id,
                             const std::string& what) {
    LedgerOptions options;
    options.read_only = true;
    ASSERT_OK_AND_ASSIGN(auto ledger, Ledger::Open(Dir(), options));
    auto events = ledger->ReadCase(case_id);
    EXPECT_EQ(events.status().code(), absl::StatusCode::kDataLoss)
        << events.status();
    EXPECT_THAT(std::string(events.status().message()), HasSubstr(what));
  }

  // The ledger as storage format 1 left it (testing::RewriteAsFormatOne).
  void MakeFormatOne(size_t keep_copies = 0) {
    ASSERT_OK(testing::RewriteAsFormatOne(Dir() + "/store", keep_copies));
  }

  // Each event of `case_id` as ReadCase gives it: position, entry bytes,
  // salt and event bytes.
  std::vector<std::string> CaseAsRead(const std::string& case_id,
                                      bool read_only = true) {
    LedgerOptions options;
    options.read_only = read_only;
    auto ledger = Ledger::Open(Dir(), options);
    EXPECT_OK(ledger);
    if (!ledger.ok()) return {};
    auto events = (*ledger)->ReadCase(case_id);
    EXPECT_OK(events);
    std::vector<std::string> out;
    if (!events.ok()) return out;
    for (const RecordedEvent& e : *events) {
      out.push_back(absl::StrCat(e.position, "|", e.entry_bytes, "|", e.salt,
                                 "|", e.event_bytes));
    }
    return out;
  }

  std::string EventIdAt(uint64_t position) {
    LedgerOptions options;
    options.read_only = true;
    auto ledger = Ledger::Open(Dir(), options);
    EXPECT_OK(ledger);
    auto events = (*ledger)->ReadAll(position, 1);
    EXPECT_OK(events);
    return (*events)[0].event.event_id();
  }

  // What a reader finds: the open-time tail check, then the full verify.
  absl::Status Problem() {
    LedgerOptions options;
    options.read_only = true;
    auto ledger = Ledger::Open(Dir(), options);
    if (!ledger.ok()) return ledger.status();
    return (*ledger)->Verify().status();
  }

  void ExpectFound(const std::string& what) {
    absl::Status s = Problem();
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
    EXPECT_THAT(std::string(s.message()), HasSubstr(what)) << s;
  }

  // An append of `events` to the ledger, reopened as the writer, is
  // refused with kDataLoss saying `what`, and writes nothing.
  void ExpectAppendRefused(const std::vector<v1::Event>& events,
                           const std::string& what) {
    ASSERT_OK_AND_ASSIGN(auto ledger, Ledger::Open(Dir()));
    auto appended = ledger->Append(events);
    EXPECT_EQ(appended.status().code(), absl::StatusCode::kDataLoss)
        << appended.status();
    EXPECT_THAT(std::string(appended.status().message()), HasSubstr(what));
    EXPECT_EQ(ledger->Size(), kSize);
  }

  // A note of `size` and `root` signed with this ledger's own key.
  std::string SignedByTheLedger(uint64_t size, const merkle::Hash& root) {
    auto key = SigningKey::FromPrivateKeyText(
        "tamper.example/log",
        testing::FileContents(Dir() + "/signing-key.pem"));
    EXPECT_OK(key);
    auto note = SignCheckpoint({"tamper.example/log", size, root}, *key);
    EXPECT_OK(note);
    return note.value_or("");
  }

  FakeClock clock_{absl::FromUnixSeconds(1700000000)};
  testing::TempFolder dir_;
};

TEST_F(TamperTest, IntactLedgerVerifies) {
  LedgerOptions options;
  options.read_only = true;
  ASSERT_OK_AND_ASSIGN(auto ledger, Ledger::Open(Dir(), options));
  ASSERT_OK_AND_ASSIGN(auto report, ledger->Verify());
  EXPECT_EQ(report.entries, kSize);
  EXPECT_EQ(report.cases, 3u);
  EXPECT_EQ(report.checkpoints, 2u);
  EXPECT_EQ(report.nodes, 2 * kSize - 4);  // 2n - popcount(30)
  EXPECT_TRUE(report.signatures_checked);
}

// Each case is counted once, by its first event, a case of one event too.
TEST_F(TamperTest, VerifyCountsACaseOfOneEvent) {
  {
    ASSERT_OK_AND_ASSIGN(auto writer, Ledger::Open(Dir()));
    ASSERT_OK(writer->Append({Event("CASE-3", 0)}));
  }
  LedgerOptions options;
  options.read_only = true;
  ASSERT_OK_AND_ASSIGN(auto ledger, Ledger::Open(Dir(), options));
  ASSERT_OK_AND_ASSIGN(auto report, ledger->Verify());
  EXPECT_EQ(report.entries, kSize + 1);
  EXPECT_EQ(report.cases, 4u);
}

// The positions and case ids ForEachOf(payloads) visits, or its error.
std::string Walk(const Ledger& ledger,
                 absl::Span<const v1::Event::PayloadCase> payloads) {
  std::string walked;
  absl::Status s = ledger.ForEachOf(payloads, 1, [&](const RecordedEvent& e) {
    absl::StrAppend(&walked, e.position, ":", e.event.case_id(), " ");
    return absl::OkStatus();
  });
  return s.ok() ? walked : s.ToString();
}

TEST_F(TamperTest, AWalkOfSomeKindsOfEventVisitsThoseAlone) {
  LedgerOptions options;
  options.read_only = true;
  ASSERT_OK_AND_ASSIGN(auto ledger, Ledger::Open(Dir(), options));
  EXPECT_EQ(Walk(*ledger, {v1::Event::kCaseOpened}),
            "1:CASE-0 11:CASE-1 21:CASE-2 ");
  EXPECT_EQ(Walk(*ledger, {v1::Event::kDocumentRequestSent}), "");
  std::string all = Walk(*ledger, {});
  EXPECT_EQ(std::count(all.begin(), all.end(), ' '), kSize) << all;
}

// The events a walk passes over unparsed still have their gaps and
// unreadable bytes reported.
TEST_F(TamperTest, AWalkOfSomeKindsOfEventFindsWhatItPassesOver) {
  const std::string key = EncodeU64(5);
  const std::string value = Get(Family::kEvents, key);
  // A salt, then no protobuf: a field tag whose varint never ends.
  Tamper([&](auto&, auto& b) {
    b.Put(Family::kEvents, key, value.substr(0, 16) + "\xff\xff\xff");
  });
  LedgerOptions options;
  options.read_only = true;
  {
    ASSERT_OK_AND_ASSIGN(auto ledger, Ledger::Open(Dir(), options));
    EXPECT_THAT(Walk(*ledger, {v1::Event::kCaseOpened}),
                HasSubstr("DATA_LOSS: stored event at position 5 does not "
                          "parse"));
  }
  Tamper([&](auto&, auto& b) {
    b.Delete(Family::kEntries, key);
    b.Delete(Family::kEvents, key);
  });
  ASSERT_OK_AND_ASSIGN(auto ledger, Ledger::Open(Dir(), options));
  EXPECT_EQ(Walk(*ledger, {v1::Event::kCaseOpened}),
            "DATA_LOSS: expected position 5, found 6");
}

// The positions and case ids ForEachEntry visits from `from`, or its error.
std::string EntryWalk(const std::string& dir, uint64_t from) {
  LedgerOptions options;
  options.read_only = true;
  auto ledger = Ledger::Open(dir, options);
  if (!ledger.ok()) return ledger.status().ToString();
  std::string walked;
  absl::Status s =
      (*ledger)->ForEachEntry(from, [&](const v1::LedgerEntry& entry) {
        absl::StrAppend(&walked, entry.position(), ":", entry.case_id(), " ");
        return absl::OkStatus();
      });
  return s.ok() ? walked : s.ToString();
}

TEST_F(TamperTest, AWalkOfTheEntriesFindsGapsAndUnreadableEntries) {
  EXPECT_EQ(EntryWalk(Dir(), 28), "28:CASE-2 29:CASE-2 30:CASE-2 ");
  const std::string key = EncodeU64(5);
  Tamper([&](auto&, auto& b) { b.Put(Family::kEntries, key, "\xff\xff"); });
  EXPECT_EQ(EntryWalk(Dir(), 4),
            "DATA_LOSS: position 5: the stored entry does not parse");
  Tamper([&](auto&, auto& b) { b.Delete(Family::kEntries, key); });
  EXPECT_EQ(EntryWalk(Dir(), 4), "DATA_LOSS: expected position 5, found 6");
}

TEST_F(TamperTest, AlteredEventBytesAreFound) {
  std::string key = EncodeU64(7);
  std::string value = Get(Family::kEvents, key);
  value[value.size() - 2] ^= 0x20;
  Tamper([&](auto&, auto& b) { b.Put(Family::kEvents, key, value); });
  ExpectFound("position 7:");
}

TEST_F(TamperTest, AnEventAlteredTogetherWithItsCopyIsFound) {
  // Position 7 is CASE-0 version 7. The copy in the case index ends with
  // the event's stored value, so both change alike and still agree: only
  // the digest the entry commits to can tell (verify takes it from the
  // copy).
  const std::string key = EncodeU64(7);
  std::string value = Get(Family::kEvents, key);
  std::string copy = Get(Family::kCaseIndex, CaseKey("CASE-0", 7));
  ASSERT_TRUE(copy.ends_with(value));
  value[value.size() - 2] ^= 0x20;
  copy[copy.size() - 2] ^= 0x20;
  Tamper([&](auto&, auto& b) {
    b.Put(Family::kEvents, key, value);
    b.Put(Family::kCaseIndex, CaseKey("CASE-0", 7), copy);
  });
  ExpectFound("position 7: SHA-256(salt || event bytes) is");
}

TEST_F(TamperTest, AlteredEventBytesAfterTheLastCheckpointAreFoundAtOpen) {
  // Nothing covers the tail but the open-time check.
  Tamper([&](auto&, auto& b) {
    b.Delete(Family::kCheckpoints, EncodeU64(kSize));
  });
  std::string key = EncodeU64(25);
  std::string value = Get(Family::kEvents, key);
  value[20] ^= 1;
  Tamper([&](auto&, auto& b) { b.Put(Family::kEvents, key, value); });
  LedgerOptions options;
  options.read_only = true;
  auto opened = Ledger::Open(Dir(), options);
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(opened.status().message()), HasSubstr("position 25"));
}

// The nodes over the unsigned tail are what a writer's tree goes on from
// and what its next checkpoint signs: each is recomputed at open, so the
// ledger never signs a root its entries do not give.
TEST_F(TamperTest, AnAlteredMerkleNodeOverTheUnsignedTailIsFoundAtOpen) {
  Tamper([&](auto&, auto& b) {
    b.Delete(Family::kCheckpoints, EncodeU64(kSize));
    // Leaves 28 and 29, a peak of the tree of 30.
    b.Put(Family::kMerkle, std::string(1, '\1') + EncodeU64(14),
          std::string(32, 'X'));
  });
  ExpectEveryOpenFails(
      "position 30: the stored Merkle node (level 1, index 14) does not match "
      "the entries");
}

// A node the tree at a checkpoint ends in is read at every open: one removed
// stopped every verb with kNotFound, which the CLI gives exit 2, bad usage,
// naming no position (found by an audit).
TEST_F(TamperTest, ARemovedMerkleNodeOfASignedTreeIsDataLoss) {
  // The tree of 30 ends in the nodes over leaves 1-16, 17-24, 25-28, 29-30.
  Tamper([&](auto&, auto& b) {
    b.Delete(Family::kMerkle, std::string(1, '\4') + EncodeU64(0));
  });
  ExpectEveryOpenFails(
      "position 16: the stored Merkle node (level 4, index 0) is missing");
}

TEST_F(TamperTest, AlteredEntryIsFound) {
  std::string key = EncodeU64(5);
  std::string value = Get(Family::kEntries, key);
  value.back() ^= 0x01;  // last byte of the event digest
  Tamper([&](auto&, auto& b) { b.Put(Family::kEntries, key, value); });
  ExpectFound("position 5:");
}

// An entry altered to say another case or type than its event is named by
// that check, before the tree its changed bytes no longer give.
TEST_F(TamperTest, AnEntryOfAnotherCaseOrTypeThanItsEventIsNamed) {
  const std::string key = EncodeU64(5);
  const std::string stored = Get(Family::kEntries, key);
  for (bool other_case : {false, true}) {
    v1::LedgerEntry entry;
    ASSERT_TRUE(entry.ParseFromString(stored));
    if (other_case) {
      entry.set_case_id("CASE-1");
    } else {
      entry.set_event_type("case_opened");
    }
    Tamper([&](auto&, auto& b) {
      b.Put(Family::kEntries, key, entry.SerializeAsString());
    });
    ExpectFound("position 5: the event's case or type differs from its entry");
  }
}

// An entry whose recorded_at goes back is named by that check.
TEST_F(TamperTest, ARecordedAtThatGoesBackIsNamed) {
  const std::string key = EncodeU64(5);
  v1::LedgerEntry entry;
  ASSERT_TRUE(entry.ParseFromString(Get(Family::kEntries, key)));
  entry.mutable_recorded_at()->set_seconds(entry.recorded_at().seconds() - 1);
  Tamper([&](auto&, auto& b) {
    b.Put(Family::kEntries, key, entry.SerializeAsString());
  });
  ExpectFound("position 5: recorded_at decreases");
}

TEST_F(TamperTest, DeletedEventIsFound) {
  Tamper([&](auto&, auto& b) {
    b.Delete(Family::kEntries, EncodeU64(6));
    b.Delete(Family::kEvents, EncodeU64(6));
  });
  ExpectFound("position 6:");
}

TEST_F(TamperTest, SwappedEventsAreFound) {
  std::string e3 = Get(Family::kEvents, EncodeU64(3));
  std::string e4 = Get(Family::kEvents, EncodeU64(4));
  Tamper([&](auto&, auto& b) {
    b.Put(Family::kEvents, EncodeU64(3), e4);
    b.Put(Family::kEvents, EncodeU64(4), e3);
  });
  ExpectFound("position 3:");
}

// The last two entries and events swapped: the last one parses, and was
// called "unreadable" (found by an adversarial reading); every open names
// the move.
TEST_F(TamperTest, ALastEntryMovedIsNamedAsMoved) {
  Tamper([&](internal::Store& store, internal::Batch& batch) {
    for (Family family : {Family::kEntries, Family::kEvents}) {
      auto last = store.Get(family, EncodeU64(kSize));
      auto before = store.Get(family, EncodeU64(kSize - 1));
      ASSERT_OK(last);
      ASSERT_OK(before);
      batch.Put(family, EncodeU64(kSize), **before);
      batch.Put(family, EncodeU64(kSize - 1), **last);
    }
  });
  ExpectEveryOpenFails(absl::StrCat("the last entry, stored at position ",
                                    kSize, ", says position ", kSize - 1,
                                    ": entries were moved or replaced"));
}

TEST_F(TamperTest, TruncatedTailIsFound) {
  Tamper([&](internal::Store&, internal::Batch& b) {
    for (uint64_t p = 28; p <= kSize; ++p) {
      b.Delete(Family::kEntries, EncodeU64(p));
      b.Delete(Family::kEvents, EncodeU64(p));
    }
  });
  // The whole finding, at its first lost position: "removed" alone is said
  // by three different checks.
  ExpectFound(absl::StrCat("position 28: missing: a checkpoint of size ", kSize,
                           " was signed but the ledger has 27 "
                           "entries; entries were removed"));
}

// Event bytes with no entry after the last one are named as such.
TEST_F(TamperTest, EventBytesBeyondTheLastEntryAreFound) {
  const std::string value = Get(Family::kEvents, EncodeU64(kSize));
  Tamper([&](auto&, auto& b) {
    b.Put(Family::kEvents, EncodeU64(kSize + 1), value);
  });
  ExpectFound(absl::StrCat("position ", kSize + 1,
                           ": event bytes stored beyond the last entry"));
}

TEST_F(TamperTest, AlteredCheckpointSignatureIsFound) {
  std::string note = Get(Family::kCheckpoints, EncodeU64(kCheckpointed));
  note[note.size() - 6] = note[note.size() - 6] == 'A' ? 'B' : 'A';
  Tamper([&](auto&, auto& b) {
    b.Put(Family::kCheckpoints, EncodeU64(kCheckpointed), note);
  });
  ExpectFound(absl::StrCat("checkpoint of size ", kCheckpointed));
}

// The last checkpoint, signed with the ledger's key over the right root
// but for another origin, is refused by every open.
TEST_F(TamperTest, ALastCheckpointOfAnotherOriginIsRefusedAtOpen) {
  const std::string note = Get(Family::kCheckpoints, EncodeU64(kSize));
  ASSERT_OK_AND_ASSIGN(Checkpoint c, ParseCheckpointBody(note));
  ASSERT_OK_AND_ASSIGN(SigningKey key,
                       SigningKey::FromPrivateKeyText(
                           "tamper.example/log",
                           testing::FileContents(Dir() + "/signing-key.pem")));
  ASSERT_OK_AND_ASSIGN(
      std::string other,
      SignCheckpoint({"other.example/log", kSize, c.root_hash}, key));
  Tamper([&](auto&, auto& b) {
    b.Put(Family::kCheckpoints, EncodeU64(kSize), other);
  });
  ExpectEveryOpenFails(absl::StrCat("checkpoint stored under size ", kSize,
                                    " says size ", kSize,
                                    " and origin other.example/log"));
}

// Every stored checkpoint is compared with the root at its size as the
// walk reaches it, not only the last (which the open compares too).
TEST_F(TamperTest, AnEarlierCheckpointOfAnotherTreeIsFound) {
  Tamper([&](auto&, auto& b) {
    b.Put(Family::kCheckpoints, EncodeU64(10),
          SignedByTheLedger(10, merkle::Hash{}));
  });
  ExpectFound(absl::StrCat("checkpoint of size 10 signs root ",
                           std::string(64, '0'), " but the entries give "));
}

TEST_F(TamperTest, ACheckpointFiledUnderAnotherSizeIsFound) {
  const std::string note = Get(Family::kCheckpoints, EncodeU64(kCheckpointed));
  Tamper([&](auto&, auto& b) {
    b.Put(Family::kCheckpoints, EncodeU64(10), note);
  });
  ExpectFound(
      "checkpoint stored under size 10 is for size 20 of tamper.example/log");
}

TEST_F(TamperTest, TheFirstCheckpointThatFailsIsNamed) {
  std::string note = Get(Family::kCheckpoints, EncodeU64(kCheckpointed));
  note[note.size() - 6] = note[note.size() - 6] == 'A' ? 'B' : 'A';
  Tamper([&](auto&, auto& b) {
    b.Put(Family::kCheckpoints, EncodeU64(kCheckpointed), note);
    b.Put(Family::kCheckpoints, EncodeU64(10),
          SignedByTheLedger(10, merkle::Hash{}));
  });
  ExpectFound("checkpoint of size 10 signs root ");
}

// A checkpoint key that is no size is named before damage the walk finds
// in the log, however far along it is.
TEST_F(TamperTest, ACheckpointKeyThatIsNoSizeIsNamedFirst) {
  Tamper([&](auto&, auto& b) {
    b.Put(Family::kCheckpoints, std::string(7, '\0'), "x");
    b.Put(Family::kEntries, EncodeU64(25), "garbage");
  });
  ExpectFound("bytes of big-endian integer, got 7");
}

// Size 0 comes before any entry the walk reaches: its root is the empty
// tree's (no key signs another root for it).
TEST_F(TamperTest, ACheckpointOfTheEmptyTreeIsChecked) {
  Tamper([&](auto&, auto& b) {
    b.Put(Family::kCheckpoints, EncodeU64(0),
          SignedByTheLedger(0, merkle::EmptyRoot()));
  });
  LedgerOptions options;
  options.read_only = true;
  {
    ASSERT_OK_AND_ASSIGN(auto ledger, Ledger::Open(Dir(), options));
    ASSERT_OK_AND_ASSIGN(Ledger::VerifyReport report, ledger->Verify());
    EXPECT_EQ(report.checkpoints, 3u);
    EXPECT_EQ(report.last_signed_size, kSize);
  }
  const std::string note = Get(Family::kCheckpoints, EncodeU64(kCheckpointed));
  Tamper(
      [&](auto&, auto& b) { b.Put(Family::kCheckpoints, EncodeU64(0), note); });
  ExpectFound(
      "checkpoint stored under size 0 is for size 20 of tamper.example/log");
}

TEST_F(TamperTest, ReadCaseRefusesACopyMovedToAnotherPosition) {
  // Case-index copies of CASE-0 version 3 (position 3) filed under version
  // 4 with position 4: a read of the case must not return position 3 twice.
  const std::string moved =
      EncodeU64(4) + Get(Family::kCaseIndex, CaseKey("CASE-0", 3)).substr(8);
  Tamper([&](auto&, auto& b) {
    b.Put(Family::kCaseIndex, CaseKey("CASE-0", 4), moved);
  });
  ExpectReadCaseRefused("CASE-0",
                        "position 4: the stored entry names position 3");
}

// A long case's events are parsed on two threads; the error is still the
// first damaged copy's, whichever thread met it.
TEST_F(TamperTest, ALongCaseReadNamesItsFirstDamagedCopy) {
  {
    LedgerOptions options;
    options.clock = &clock_;
    ASSERT_OK_AND_ASSIGN(auto ledger, Ledger::Open(Dir(), options));
    std::vector<v1::Event> events;
    for (int i = 0; i < 200; ++i) events.push_back(Event("LONG", i));
    ASSERT_OK(ledger->Append(events));
  }
  // LONG version v is at position 30 + v.
  const std::vector<std::string> read = CaseAsRead("LONG");
  ASSERT_EQ(read.size(), 200u);
  for (size_t v = 1; v <= read.size(); ++v) {
    EXPECT_TRUE(absl::StartsWith(read[v - 1], absl::StrCat(30 + v, "|"))) << v;
  }
  Tamper([&](auto&, auto& b) {
    for (uint64_t version : {190, 120, 150}) {
      b.Put(
          Family::kCaseIndex, CaseKey("LONG", version),
          EncodeU64(30 + version) +
              Get(Family::kCaseIndex, CaseKey("LONG", version - 1)).substr(8));
    }
  });
  ExpectReadCaseRefused("LONG",
                        "position 150: the stored entry names position 149");
}

TEST_F(TamperTest, ReadCaseRefusesACopyFiledUnderAnotherVersion) {
  // CASE-0 version 3's whole value, position included, under version 4.
  const std::string value = Get(Family::kCaseIndex, CaseKey("CASE-0", 3));
  Tamper([&](auto&, auto& b) {
    b.Put(Family::kCaseIndex, CaseKey("CASE-0", 4), value);
  });
  ExpectReadCaseRefused("CASE-0",
                        "position 3: the case index files it as case CASE-0 "
                        "version 4 but its entry is case CASE-0 version 3");
  ExpectFound(
      "position 4: the case index entry for case CASE-0 version 4 "
      "differs");
}

TEST_F(TamperTest, ReadCaseRefusesATruncatedCopy) {
  const std::string value = Get(Family::kCaseIndex, CaseKey("CASE-2", 2));
  Tamper([&](auto&, auto& b) {
    b.Put(Family::kCaseIndex, CaseKey("CASE-2", 2),
          value.substr(0, value.size() / 2));
  });
  ExpectReadCaseRefused("CASE-2",
                        "is too short for its position, entry and event");
  ExpectFound(
      "position 22: the case index entry for case CASE-2 version 2 "
      "differs");
}

TEST_F(TamperTest, AnAlteredByteOfACopyIsFound) {
  // CASE-1 version 4 is position 14; the log itself stays intact.
  const std::string key = CaseKey("CASE-1", 4);
  const std::string intact = Get(Family::kCaseIndex, key);
  // The copy's first entry byte (after position and entry length), and the
  // last byte of its event.
  for (size_t at : {size_t{12}, intact.size() - 1}) {
    SCOPED_TRACE(at);
    std::string altered = intact;
    altered[at] ^= 0x01;
    Tamper([&](auto&, auto& b) { b.Put(Family::kCaseIndex, key, altered); });
    ExpectFound(
        "position 14: the case index entry for case CASE-1 version 4 "
        "differs");
    Tamper([&](auto&, auto& b) { b.Put(Family::kCaseIndex, key, intact); });
    EXPECT_OK(Problem());
  }
}

TEST_F(TamperTest, FormatOneReadCaseRefusesAnEntryMovedToAnotherPosition) {
  // A format-1 ledger reads a case from the entries and events families.
  // Position 3's entry copied over position 4's: a read of the case that
  // holds both must not return position 3 twice.
  MakeFormatOne();
  std::string entry = Get(Family::kEntries, EncodeU64(3));
  Tamper([&](auto&, auto& b) { b.Put(Family::kEntries, EncodeU64(4), entry); });
  ExpectReadCaseRefused("CASE-0",
                        "position 4: the stored entry names position 3");
}

// A format-1 read took the position from the case index and returned the
// event there, of another case (found by an audit, on a format-2 ledger
// whose format version was set back to 1).
TEST_F(TamperTest, FormatOneReadCaseRefusesAnotherCasesEvent) {
  MakeFormatOne();
  Tamper([&](auto&, auto& b) {
    b.Put(Family::kCaseIndex, CaseKey("CASE-0", 5), EncodeU64(15));
  });
  ExpectReadCaseRefused("CASE-0",
                        "position 15: the case index files it as case CASE-0 "
                        "version 5 but its entry is case CASE-1 version 5");
}

// state, timeline and findings showed a case whose index lost a row in the
// middle, its event silently gone (found by an audit).
TEST_F(TamperTest, ReadCaseRefusesACaseWithAVersionMissing) {
  Tamper([&](auto&, auto& b) {
    b.Delete(Family::kCaseIndex, CaseKey("CASE-0", 4));
  });
  const std::string missing =
      "case CASE-0: the case index gives version 5 where version 4 belongs";
  ExpectReadCaseRefused("CASE-0", missing);
  MakeFormatOne();
  ExpectReadCaseRefused("CASE-0", missing);
  // The other cases read as before.
  EXPECT_EQ(CaseAsRead("CASE-1").size(), 10u);
}

TEST_F(TamperTest, AlteredCaseIndexIsFound) {
  // CASE-1 version 4 now claims to be at position 2; in format 1 too, where
  // verify compares only the position.
  for (bool format_one : {false, true}) {
    SCOPED_TRACE(format_one ? "format 1" : "format 2");
    if (format_one) MakeFormatOne();
    Tamper([&](auto&, auto& b) {
      b.Put(Family::kCaseIndex, CaseKey("CASE-1", 4), EncodeU64(2));
    });
    ExpectFound(
        "position 14: the case index entry for case CASE-1 version 4 "
        "differs");
  }
}

// Rows of a case deleted, then an append to it: the writer gives the lost
// versions again, and the signed log holds one version twice. verify said
// the index entry "differs", as for derived data rebuild mends (found by an
// adversarial reading); it names the two positions.
TEST_F(TamperTest, AVersionGivenTwiceIsNamedAsSuch) {
  Tamper([&](auto&, auto& b) {
    for (uint64_t v = 2; v <= 10; ++v) {
      b.Delete(Family::kCaseIndex, CaseKey("CASE-0", v));
    }
  });
  {
    LedgerOptions options;
    options.clock = &clock_;
    ASSERT_OK_AND_ASSIGN(auto writer, Ledger::Open(Dir(), options));
    ASSERT_OK_AND_ASSIGN(auto appended, writer->Append({Event("CASE-0", 11)}));
    ASSERT_EQ(appended.events[0].case_version, 2u);  // given again
    ASSERT_EQ(appended.events[0].position, 31u);
  }
  ExpectFound(
      "position 2: the case index entry for case CASE-0 version 2 gives "
      "position 31, which holds that version of the case too: the log holds "
      "it twice");
}

// Another entry's bytes copied to the position the index points at do not
// make a version held twice: that entry says it stands elsewhere (found by
// a review).
TEST_F(TamperTest, ACopiedEntryIsNotAVersionHeldTwice) {
  Tamper([&](auto&, auto& b) {
    b.Put(Family::kEntries, EncodeU64(5), Get(Family::kEntries, EncodeU64(2)));
    b.Put(
        Family::kCaseIndex, CaseKey("CASE-0", 2),
        EncodeU64(5) + Get(Family::kCaseIndex, CaseKey("CASE-0", 2)).substr(8));
  });
  ExpectFound(
      "position 2: the case index entry for case CASE-0 version 2 differs");
}

// Only the positions swapped: each value keeps the rest of its bytes (in
// format 2 the copies of its entry and event), so the swap is what verify
// must see, not a value cut short (found by a mutation audit: the old test's
// position-only values failed format 2's copy check first).
TEST_F(TamperTest, SwappedCaseIndexPositionsAreFound) {
  const std::string v2 = CaseKey("CASE-0", 2);
  const std::string v3 = CaseKey("CASE-0", 3);
  for (bool format_one : {false, true}) {
    SCOPED_TRACE(format_one ? "format 1" : "format 2");
    if (format_one) MakeFormatOne();
    const std::string at_v2 = Get(Family::kCaseIndex, v2);
    const std::string at_v3 = Get(Family::kCaseIndex, v3);
    Tamper([&](auto&, auto& b) {
      b.Put(Family::kCaseIndex, v2, at_v3.substr(0, 8) + at_v2.substr(8));
      b.Put(Family::kCaseIndex, v3, at_v2.substr(0, 8) + at_v3.substr(8));
    });
    ExpectFound(
        "position 2: the case index entry for case CASE-0 version 2 "
        "differs");
    Tamper([&](auto&, auto& b) {
      b.Put(Family::kCaseIndex, v2, at_v2);
      b.Put(Family::kCaseIndex, v3, at_v3);
    });
    ASSERT_OK(Problem());
  }
}

TEST_F(TamperTest, AFormatOneLedgerIsReadAndVerifiedAsItIs) {
  const std::vector<std::string> before = CaseAsRead("CASE-1");
  ASSERT_EQ(before.size(), 10u);
  MakeFormatOne();
  EXPECT_EQ(CaseAsRead("CASE-1"), before);
  EXPECT_OK(Problem());
  // Reading changed nothing: still format 1, positions only.
  EXPECT_EQ(Get(Family::kMeta, "format_version"), "1");
  EXPECT_EQ(Get(Family::kCaseIndex, CaseKey("CASE-1", 4)), EncodeU64(14));
}

TEST_F(TamperTest, AWritableOpenUpgradesAFormatOneLedger) {
  const std::string key = CaseKey("CASE-1", 4);
  const std::string clustered = Get(Family::kCaseIndex, key);
  const std::vector<std::string> before = CaseAsRead("CASE-1");
  MakeFormatOne();
  ASSERT_EQ(Get(Family::kCaseIndex, key), EncodeU64(14));
  EXPECT_EQ(CaseAsRead("CASE-1", /*read_only=*/false), before);
  EXPECT_EQ(Get(Family::kMeta, "format_version"), "2");
  EXPECT_EQ(Get(Family::kCaseIndex, key), clustered);
  EXPECT_OK(Problem());
  // And it appends as any format-2 ledger does.
  {
    ASSERT_OK_AND_ASSIGN(auto ledger, Ledger::Open(Dir()));
    ASSERT_OK(ledger->Append({Event("CASE-1", 10)}));
  }
  EXPECT_EQ(CaseAsRead("CASE-1").size(), 11u);
  EXPECT_OK(Problem());
}

// A new ledger says its event ids are in lower case, so its writer never
// looks an id up twice; a ledger that does not say is looked over at its
// first writable open, once (docs/storage.md, "Event ids written before
// 2026-12-01"). A planted upper-case key stands for an id stored as given.
TEST_F(TamperTest, AWritableOpenLearnsHowTheEventIdsAreSpelledOnce) {
  EXPECT_EQ(Get(Family::kMeta, "event_id_spelling"), "lower");
  auto forget = [](internal::Store&, internal::Batch& batch) {
    batch.Delete(Family::kMeta, "event_id_spelling");
  };
  Tamper(forget);
  LedgerOptions reader;
  reader.read_only = true;
  { ASSERT_OK(Ledger::Open(Dir(), reader).status()); }
  Tamper([](internal::Store& store, internal::Batch&) {
    auto value = store.Get(Family::kMeta, "event_id_spelling");
    ASSERT_OK(value);
    EXPECT_FALSE(value->has_value()) << "a reader wrote it";
  });
  { ASSERT_OK(Ledger::Open(Dir()).status()); }
  EXPECT_EQ(Get(Family::kMeta, "event_id_spelling"), "lower");

  Tamper(forget);
  Tamper([](internal::Store&, internal::Batch& batch) {
    batch.Put(Family::kEventIds, "0B6F8D52-6A1C-4E1B-9C0D-3F2A1B4C5D6E",
              std::string(40, '\0'));
  });
  { ASSERT_OK(Ledger::Open(Dir()).status()); }
  EXPECT_EQ(Get(Family::kMeta, "event_id_spelling"), "as-given");
}

TEST_F(TamperTest, AnUpgradeReportsItsProgressOnce) {
  MakeFormatOne();
  std::vector<std::pair<uint64_t, uint64_t>> calls;
  LedgerOptions options;
  options.upgrade_progress = [&](uint64_t done, uint64_t total) {
    calls.emplace_back(done, total);
  };
  { ASSERT_OK(Ledger::Open(Dir(), options).status()); }
  EXPECT_EQ(calls, (std::vector<std::pair<uint64_t, uint64_t>>{
                       {0, kSize}, {kSize, kSize}}));
  calls.clear();
  { ASSERT_OK(Ledger::Open(Dir(), options).status()); }
  EXPECT_TRUE(calls.empty());  // format 2 now: nothing to upgrade
}

TEST_F(TamperTest, AnUpgradeStoppedPartWayReadsAsFormatOneThenFinishes) {
  const std::vector<std::string> before = CaseAsRead("CASE-0");
  // The first 15 keys (CASE-0 and half of CASE-1) already rewritten.
  MakeFormatOne(/*keep_copies=*/15);
  EXPECT_EQ(CaseAsRead("CASE-0"), before);
  EXPECT_OK(Problem());
  EXPECT_EQ(CaseAsRead("CASE-0", /*read_only=*/false), before);
  EXPECT_EQ(Get(Family::kMeta, "format_version"), "2");
  EXPECT_OK(Problem());
}

// A format 2 set back to 1 reads as an upgrade stopped before its last
// batch, which it is indistinguishable from; the copies a format-1 read
// ignores must still be the log's (they were not looked at: a changed copy
// passed verify; found by an adversarial reading).
TEST_F(TamperTest, ACopyChangedUnderAFormatSetBackToOneIsFound) {
  Tamper([](internal::Store&, internal::Batch& batch) {
    batch.Put(Family::kMeta, "format_version", "1");
  });
  EXPECT_OK(Problem());
  const std::string key = CaseKey("CASE-1", 4);
  std::string changed = Get(Family::kCaseIndex, key);
  changed.back() ^= 1;
  Tamper([&](internal::Store&, internal::Batch& batch) {
    batch.Put(Family::kCaseIndex, key, changed);
  });
  ExpectFound(
      "position 14: the case index entry for case CASE-1 version 4 holds "
      "copies of the entry and event that differ from the log's");
}

// The upgrade copies only what the digests vouch for. It named the key after
// a missing entry, and copied an event cut short or an entry replaced into
// the case index, where every later case read blamed the index (found by an
// audit). Each damage below lies before the last, so each is the first the
// upgrade meets.
TEST_F(TamperTest, AnUpgradeThatCannotReadTheLogChangesNothing) {
  MakeFormatOne();
  const std::vector<
      std::pair<std::function<void(internal::Batch&)>, std::string>>
      damages = {
          {[](internal::Batch& b) {
             b.Put(Family::kEvents, EncodeU64(20), std::string(1, '\0'));
           },
           "position 20: the event bytes do not match the entry's digest"},
          {[](internal::Batch& b) {
             b.Put(Family::kEntries, EncodeU64(15), std::string("\x08\x0f"));
           },
           "position 15: the event bytes do not match the entry's digest"},
          {[](internal::Batch& b) {
             b.Put(Family::kEntries, EncodeU64(12), std::string("\x08\x03"));
           },
           "position 12: the entry says position 3"},
          {[](internal::Batch& b) { b.Delete(Family::kEvents, EncodeU64(7)); },
           "position 7: the event bytes are missing"},
          {[](internal::Batch& b) { b.Delete(Family::kEntries, EncodeU64(4)); },
           "position 4: the entry is missing"},
      };
  for (const auto& [damage, named] : damages) {
    // Through a reference: clang 14 does not capture a structured binding.
    const auto& apply_damage = damage;
    Tamper([&](auto&, auto& b) { apply_damage(b); });
    auto ledger = Ledger::Open(Dir());
    EXPECT_EQ(ledger.status().code(), absl::StatusCode::kDataLoss)
        << ledger.status();
    EXPECT_THAT(
        std::string(ledger.status().message()),
        HasSubstr("cannot upgrade the case index to format 2: " + named));
    EXPECT_EQ(Get(Family::kMeta, "format_version"), "1");
    EXPECT_EQ(Get(Family::kCaseIndex, CaseKey("CASE-0", 7)), EncodeU64(7));
  }
}

TEST_F(TamperTest, AnAddedCaseVersionIsFound) {
  // Every real key is intact; one more claims a position already taken.
  std::string key = CaseKey("CASE-1", 11);
  Tamper([&](auto&, auto& b) { b.Put(Family::kCaseIndex, key, EncodeU64(5)); });
  ExpectFound("case CASE-1 version 11 at position 5 after version 10");
}

TEST_F(TamperTest, AnAddedEventIdIsFound) {
  std::string id_record = EncodeU64(7) + std::string(32, '\x11');
  Tamper([&](auto&, auto& b) {
    b.Put(Family::kEventIds, "an-event-never-appended", id_record);
  });
  ExpectFound("the event-id index holds 31 keys where the log accounts for 30");
}

// The writer decides on the indexes' word: a key planted in one (by anyone
// who can write the disk, no key needed) made an append skip a new event as
// a repeat, take a request never sent as sent, or skip a case version
// (found by an audit). Each answer is now checked against the event the
// index names, and the append refused.
TEST_F(TamperTest, APlantedEventIdDoesNotMakeAnAppendSkipItsEvent) {
  auto note = ParseEventJson(
      R"({"case_id": "CASE-0", "event_id": "6f1c2a9e-5b0d-4c3e-9a7f-2d8e1b4c6a01", )"
      R"("occurred_at": "2011-01-11T10:00:00Z", )"
      R"("actor": {"kind": "OFFICER", "id": "o"}, )"
      R"("officer_note_added": {"text": "never to be lost"}})");
  ASSERT_OK(note);
  // The record an append of `note` would write, made in another ledger.
  std::string content;
  {
    ASSERT_OK_AND_ASSIGN(auto scratch,
                         Ledger::Create(dir_.Sub("scratch"), "scratch/log"));
    ASSERT_OK(scratch->Append({Event("CASE-0", 0), *note}));
    ASSERT_OK_AND_ASSIGN(auto stored, scratch->ReadAll(2, 1));
    content = DigestBytes(Sha256(stored[0].event_bytes));
  }
  Tamper([&](auto&, auto& b) {
    b.Put(Family::kEventIds, "6f1c2a9e-5b0d-4c3e-9a7f-2d8e1b4c6a01",
          EncodeU64(4) + content);
  });
  ExpectAppendRefused({*note},
                      "the event-id index puts event "
                      "6f1c2a9e-5b0d-4c3e-9a7f-2d8e1b4c6a01 at position 4, but "
                      "the event there is");
}

TEST_F(TamperTest, APlantedRequestKeyIsNotTakenForASend) {
  Tamper([&](auto&, auto& b) {
    b.Put(Family::kRequests, internal::RequestKey("CASE-0", "DOC-7"),
          EncodeU64(3));
  });
  auto event = [](const std::string& payload) {
    auto e = ParseEventJson(absl::StrCat(
        R"({"case_id": "CASE-0", "occurred_at": "2011-01-11T10:00:00Z", )",
        R"("actor": {"kind": "OFFICER", "id": "o"}, )", payload, "}"));
    EXPECT_OK(e);
    return *e;
  };
  const std::string says =
      "the request index says request DOC-7 of case CASE-0 was sent at "
      "position 3, but the event there is officer_note_added";
  // Documents for a request never sent were taken.
  ExpectAppendRefused({event(R"("documents_received": {"request_id": "DOC-7", )"
                             R"("complete": true})")},
                      says);
  // The real send was refused as a repeat.
  ExpectAppendRefused(
      {event(R"("document_request_sent": {"request_id": "DOC-7", )"
             R"("channel": "EMAIL", "to": ["a@mail.example"], )"
             R"("deadline": "2011-03-01T00:00:00Z"})")},
      says);
}

TEST_F(TamperTest, APlantedCaseVersionDoesNotMakeTheWriterSkipOne) {
  const std::string tenth = Get(Family::kCaseIndex, CaseKey("CASE-0", 10));
  Tamper([&](auto&, auto& b) {
    b.Put(Family::kCaseIndex, CaseKey("CASE-0", 11), tenth);
  });
  ExpectAppendRefused({Event("CASE-0", 11)},
                      "the case index gives case CASE-0 version 11 as its "
                      "last at position 10, but the entry there is case "
                      "CASE-0 version 10");
}

TEST_F(TamperTest, AnEventIdRecordWithAnotherDigestIsFound) {
  std::string id = EventIdAt(12);
  std::string record = Get(Family::kEventIds, id);
  record[20] ^= 0x01;  // in the digest half; the position half is intact
  Tamper([&](auto&, auto& b) { b.Put(Family::kEventIds, id, record); });
  ExpectFound(absl::StrCat("position 12: the event-id index entry for ", id,
                           " differs"));
}

TEST_F(TamperTest, EventIdRecordsWithSwappedPositionsAreFound) {
  // Each record keeps its own digest; only the positions trade places.
  std::string a = EventIdAt(4), b = EventIdAt(5);
  std::string record_a = Get(Family::kEventIds, a);
  std::string record_b = Get(Family::kEventIds, b);
  std::swap_ranges(record_a.begin(), record_a.begin() + 8, record_b.begin());
  Tamper([&](auto&, auto& batch) {
    batch.Put(Family::kEventIds, a, record_a);
    batch.Put(Family::kEventIds, b, record_b);
  });
  ExpectFound(absl::StrCat("position 4: the event-id index entry for ", a));
}

TEST_F(TamperTest, TheFirstProblemIsNamedWhenALaterOneStopsTheWalk) {
  // A salt byte changed at 3 (the event still parses; only its digest
  // shows it) and an entry removed at 20 (the walk itself stops there).
  std::string event = Get(Family::kEvents, EncodeU64(3));
  event[0] ^= 0x01;
  Tamper([&](auto&, auto& b) {
    b.Put(Family::kEvents, EncodeU64(3), event);
    b.Delete(Family::kEntries, EncodeU64(20));
  });
  LedgerOptions options;
  options.read_only = true;
  ASSERT_OK_AND_ASSIGN(auto ledger, Ledger::Open(Dir(), options));
  absl::Status s = ledger->Verify().status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("position 3: SHA-256(salt || event bytes)"))
      << s;
}

TEST_F(TamperTest, AnAddedMerkleNodeIsFound) {
  std::string key = std::string(1, '\5') + EncodeU64(0);  // a 32-leaf subtree
  Tamper([&](auto&, auto& b) {
    b.Put(Family::kMerkle, key, std::string(32, '\x22'));
  });
  ExpectFound("the Merkle node family holds");
}

// Stores `bytes` as a message, as `attach` does; returns its SHA-256 hex.
std::string StoreMessage(const std::string& dir, const std::string& bytes) {
  auto ledger = Ledger::Open(dir);
  EXPECT_OK(ledger);
  if (!ledger.ok()) return "";
  auto sha = (*ledger)->StoreMessage(bytes);
  EXPECT_OK(sha);
  return sha.value_or("");
}

TEST_F(TamperTest, StoredMessagesAreRehashed) {
  StoreMessage(Dir(), "Subject: request 1\r\n\r\nPlease send it.\r\n");
  StoreMessage(Dir(), "Subject: request 2\r\n\r\nPlease send it.\r\n");
  LedgerOptions options;
  options.read_only = true;
  ASSERT_OK_AND_ASSIGN(auto ledger, Ledger::Open(Dir(), options));
  ASSERT_OK_AND_ASSIGN(auto report, ledger->Verify());
  EXPECT_EQ(report.messages, 2u);
}

TEST_F(TamperTest, AnAlteredStoredMessageIsFound) {
  std::string sha = StoreMessage(Dir(), "Subject: request\r\n\r\nSend it.\r\n");
  ASSERT_OK_AND_ASSIGN(Sha256Digest digest, DigestFromHex(sha, "sha256"));
  // The bytes a court would be shown as sent, changed under their name.
  Tamper([&](auto&, auto& b) {
    b.Put(Family::kBlobs, DigestBytes(digest),
          "Subject: request\r\n\r\nSend it by Friday.\r\n");
  });
  ExpectFound(absl::StrCat("stored message ", sha,
                           " (40 bytes) no longer has that SHA-256"));
}

TEST_F(TamperTest, AStoredMessageUnderAKeyThatIsNoDigestIsFound) {
  Tamper([&](auto&, auto& b) { b.Put(Family::kBlobs, "short", "bytes"); });
  ExpectFound(
      "a stored message is kept under a key of 5 bytes, not a SHA-256: "
      "73686f7274");
}

TEST_F(TamperTest, WithoutAKeySignaturesAreReportedUnchecked) {
  std::string pubkey;
  {
    ASSERT_OK_AND_ASSIGN(auto ledger, Ledger::Open(Dir()));
    ASSERT_OK_AND_ASSIGN(pubkey, ledger->VerifierKeyText());
  }
  std::filesystem::remove(Dir() + "/signing-key.pem");
  LedgerOptions options;
  options.read_only = true;
  ASSERT_OK_AND_ASSIGN(auto ledger, Ledger::Open(Dir(), options));
  ASSERT_OK_AND_ASSIGN(auto unchecked, ledger->Verify());
  EXPECT_FALSE(unchecked.signatures_checked);
  EXPECT_EQ(unchecked.checkpoints, 2u);

  ASSERT_OK_AND_ASSIGN(VerifierKey key, ParseVerifierKey(pubkey));
  ASSERT_OK_AND_ASSIGN(auto checked, ledger->Verify(key));
  EXPECT_TRUE(checked.signatures_checked);

  ASSERT_OK_AND_ASSIGN(SigningKey other,
                       SigningKey::Generate("tamper.example/log"));
  ASSERT_OK_AND_ASSIGN(VerifierKey other_key,
                       ParseVerifierKey(other.VerifierKey()));
  absl::Status wrong = ledger->Verify(other_key).status();
  EXPECT_EQ(wrong.code(), absl::StatusCode::kDataLoss) << wrong;
  EXPECT_THAT(std::string(wrong.message()), HasSubstr("checkpoint of size"));
}

TEST_F(TamperTest, AlteredMerkleNodeIsFound) {
  std::string key = std::string(1, '\2') + EncodeU64(1);  // leaves 4..7
  std::string value = Get(Family::kMerkle, key);
  value[0] ^= 0x80;
  Tamper([&](auto&, auto& b) { b.Put(Family::kMerkle, key, value); });
  ExpectFound("position 8: the stored Merkle node (level 2, index 1) differs");
}

// `prove` printed, and export signed into a bundle, a proof that failed in
// the verifier's hands when a node under the signed root was altered (found
// by an audit): the ledger now checks each proof before giving it.
TEST_F(TamperTest, AProofOverAnAlteredNodeIsRefusedNotGiven) {
  const std::string key = internal::MerkleKey(0, 0);  // the leaf of position 1
  std::string value = Get(Family::kMerkle, key);
  value[0] ^= 0x80;
  Tamper([&](auto&, auto& b) { b.Put(Family::kMerkle, key, value); });
  LedgerOptions options;
  options.read_only = true;
  ASSERT_OK_AND_ASSIGN(auto ledger, Ledger::Open(Dir(), options));
  auto inclusion = ledger->InclusionProof(2, kSize);
  EXPECT_EQ(inclusion.status().code(), absl::StatusCode::kDataLoss)
      << inclusion.status();
  EXPECT_THAT(std::string(inclusion.status().message()),
              HasSubstr("the inclusion proof of position 2 at tree size 30 "
                        "that the stored tree gives does not hold"));
  auto consistency = ledger->ConsistencyProof(1, kSize);
  EXPECT_EQ(consistency.status().code(), absl::StatusCode::kDataLoss)
      << consistency.status();
  // Proofs that do not pass through the node are still given.
  EXPECT_OK(ledger->InclusionProof(20, kSize));
  EXPECT_OK(ledger->ConsistencyProof(16, kSize));
}

// A signature line added to a stored checkpoint (a "witness" that never
// signed) was printed by `checkpoint` and shipped in bundles as the
// ledger's (found by an audit).
TEST_F(TamperTest, AStoredCheckpointWithAnAddedSignatureLineIsRefused) {
  const std::string key = EncodeU64(kCheckpointed);
  const std::string note = Get(Family::kCheckpoints, key);
  Tamper([&](auto&, auto& b) {
    b.Put(Family::kCheckpoints, key,
          note + "\u2014 witness.example/w AAAAAAAAAAAAAAAA\n");
  });
  ExpectFound(
      "checkpoint of size 20 holds 2 signature lines; the ledger "
      "signs and stores one");
  LedgerOptions options;
  options.read_only = true;
  ASSERT_OK_AND_ASSIGN(auto ledger, Ledger::Open(Dir(), options));
  EXPECT_EQ(ledger->CheckpointAt(kCheckpointed).status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_OK(ledger->CheckpointAt(kSize));
}

TEST_F(TamperTest, RemovedEventIdIndexEntryIsFound) {
  LedgerOptions options;
  options.read_only = true;
  std::string id;
  {
    ASSERT_OK_AND_ASSIGN(auto ledger, Ledger::Open(Dir(), options));
    ASSERT_OK_AND_ASSIGN(auto events, ledger->ReadAll(9, 1));
    id = events[0].event.event_id();
  }
  Tamper([&](auto&, auto& b) { b.Delete(Family::kEventIds, id); });
  ExpectFound(absl::StrCat("position 9: the event-id index entry for ", id,
                           " is missing"));
}

TEST_F(TamperTest, WriterRefusesToOpenOverAnInconsistentTree) {
  // The root of leaves 0..15, which every root of a larger tree uses.
  std::string key = std::string(1, '\4') + EncodeU64(0);
  std::string value = Get(Family::kMerkle, key);
  value[5] ^= 1;
  Tamper([&](auto&, auto& b) { b.Put(Family::kMerkle, key, value); });
  auto opened = Ledger::Open(Dir());
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kDataLoss);
}

// Named by the open-time check that finds it, for readers and the writer:
// the stored tree of the last checkpoint's size gives another root than the
// one that checkpoint signs.
TEST_F(TamperTest, AnInconsistentTreeIsNamedByTheRootItGivesAtOpen) {
  const std::string key = std::string(1, '\4') + EncodeU64(0);
  std::string value = Get(Family::kMerkle, key);
  value[5] ^= 1;
  Tamper([&](auto&, auto& b) { b.Put(Family::kMerkle, key, value); });
  ExpectEveryOpenFails(
      absl::StrCat("the stored tree of size ", kSize, " has root "));
}

// The checkpoint kept beside the store (ledger/internal/kept_checkpoint.h).
class KeptCheckpointTest : public TamperTest {
 protected:
  std::string Kept() const { return Dir() + "/latest-checkpoint"; }

  // The kept file once it signs `size`, or after 10 s: the sequencer keeps
  // it by itself.
  std::string KeptOnceItSigns(uint64_t size) const {
    const std::string line = absl::StrCat("\n", size, "\n");
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (!absl::StrContains(testing::FileContents(Kept()), line) &&
           absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(20));
    }
    return testing::FileContents(Kept());
  }

  void Keep(const std::string& note) {
    std::ofstream(Kept(), std::ios::binary | std::ios::trunc) << note;
  }
};

TEST_F(KeptCheckpointTest, TheLatestCheckpointIsKeptBesideTheStore) {
  EXPECT_EQ(testing::FileContents(Kept()),
            Get(Family::kCheckpoints, EncodeU64(kSize)));
  EXPECT_OK(Problem());
}

// The store rolled back to its checkpoint of size 20, the later one deleted
// with the entries it signed, is a consistent smaller ledger: only a
// checkpoint kept outside the store shows what it held.
TEST_F(KeptCheckpointTest, AStoreRolledBackPastItIsFound) {
  Tamper([&](internal::Store&, internal::Batch& b) {
    for (uint64_t p = kCheckpointed + 1; p <= kSize; ++p) {
      b.Delete(Family::kEntries, EncodeU64(p));
      b.Delete(Family::kEvents, EncodeU64(p));
    }
    b.Delete(Family::kCheckpoints, EncodeU64(kSize));
  });
  ExpectFound(absl::StrCat("position ", kCheckpointed + 1,
                           ": missing: the store holds ", kCheckpointed,
                           " entries, but the checkpoint kept in ", Kept(),
                           " signs ", kSize));
  ExpectFound(absl::StrCat("and with it entries ", kCheckpointed + 1, " to ",
                           kSize, " (and any appended after ", kSize, ")"));
  auto writer = Ledger::Open(Dir());
  EXPECT_EQ(writer.status().code(), absl::StatusCode::kDataLoss);
  // One entry is named as one.
  Keep(SignedByTheLedger(kCheckpointed + 1, merkle::Hash{}));
  ExpectFound(absl::StrCat("and with it entry ", kCheckpointed + 1,
                           " (and any appended after ", kCheckpointed + 1,
                           ")"));
}

TEST_F(KeptCheckpointTest, AnAlteredOneIsRefusedNamingItsFile) {
  std::string note = testing::FileContents(Kept());
  note[note.size() - 6] = note[note.size() - 6] == 'A' ? 'B' : 'A';
  Keep(note);
  ExpectFound(absl::StrCat("the checkpoint kept in ", Kept(),
                           " does not verify with the ledger's key"));
  Keep("not a checkpoint\n");
  ExpectFound(
      absl::StrCat("the checkpoint kept in ", Kept(), " does not parse"));
}

// Signed by the ledger's own key, over a root its store does not have.
TEST_F(KeptCheckpointTest, OneOfAnotherTreeIsRefused) {
  Keep(SignedByTheLedger(kCheckpointed, merkle::Hash{}));
  ExpectFound(absl::StrCat("the checkpoint kept in ", Kept(), " says root ",
                           std::string(64, '0'), " for size ", kCheckpointed,
                           ", but the stored tree has "));
}

// A ledger written before the file existed opens as it is; its writer
// keeps its latest checkpoint at once.
TEST_F(KeptCheckpointTest, ALedgerWithoutOneOpensAndItsWriterKeepsOne) {
  std::filesystem::remove(Kept());
  EXPECT_OK(Problem());
  EXPECT_FALSE(std::filesystem::exists(Kept()));
  { ASSERT_OK(Ledger::Open(Dir())); }
  EXPECT_EQ(testing::FileContents(Kept()),
            Get(Family::kCheckpoints, EncodeU64(kSize)));
}

// After a power loss the store may hold the entries of an automatic
// checkpoint but not its note, which was not synced yet; the kept one is
// then the last signed, and the writer stores it again (it was left out,
// and the entries it signs were reported as signed by nothing: found by a
// review).
TEST_F(KeptCheckpointTest, OneNewerThanTheStoresOwnIsStoredAgain) {
  const std::string kept = testing::FileContents(Kept());
  Tamper([&](internal::Store&, internal::Batch& b) {
    b.Delete(Family::kCheckpoints, EncodeU64(kSize));
  });
  EXPECT_OK(Problem());
  {
    ASSERT_OK_AND_ASSIGN(auto ledger, Ledger::Open(Dir()));
    auto stored = ledger->CheckpointAt(kSize);
    ASSERT_OK(stored);
    EXPECT_EQ(*stored, kept);
  }
  LedgerOptions options;
  options.read_only = true;
  ASSERT_OK_AND_ASSIGN(auto reader, Ledger::Open(Dir(), options));
  ASSERT_OK_AND_ASSIGN(Ledger::VerifyReport report, reader->Verify());
  EXPECT_EQ(report.last_signed_size, kSize);
}

// While appends pause, the file was left behind an automatic checkpoint
// until the next one (a served ledger's stayed 2,000 entries behind for
// minutes, and a log cut back to it passed: found by a review).
TEST_F(KeptCheckpointTest, AnAutomaticCheckpointIsKeptOnceAppendsPause) {
  LedgerOptions options;
  options.clock = &clock_;  // it does not move: only the pause counts
  options.checkpoint_every_entries = 5;
  options.checkpoint_every = absl::ZeroDuration();
  options.keep_signed_within = absl::ZeroDuration();
  ASSERT_OK_AND_ASSIGN(auto ledger, Ledger::Open(Dir(), options));
  for (int c = 0; c < 2; ++c) {
    std::vector<v1::Event> events;
    for (int i = 0; i < 5; ++i) {
      events.push_back(Event(absl::StrCat("LATE-", c), i));
    }
    ASSERT_OK(ledger->Append(events));
  }
  EXPECT_THAT(KeptOnceItSigns(kSize + 10),
              HasSubstr(absl::StrCat("\n", kSize + 10, "\n")));
}

// Appends no automatic checkpoint was due for (fewer than 1,000 entries,
// less than a minute) were signed by nothing, and the kept file did not
// cover them: a log cut or zeroed back past them opened as a ledger that
// never had them (found by a sweep of zeroed pages: a server's first
// appends after its start, lost with the log's one page). They are signed
// in the kept file within keep_signed_within, and the store gains no note.
TEST_F(KeptCheckpointTest, AppendsAreSignedInTheKeptFileAlone) {
  LedgerOptions options;
  options.clock = &clock_;  // it does not move: the real clock counts
  options.keep_signed_within = absl::Milliseconds(100);
  ASSERT_OK_AND_ASSIGN(auto ledger, Ledger::Open(Dir(), options));
  std::vector<v1::Event> events;
  for (int i = 0; i < 3; ++i) events.push_back(Event("PAUSED", i));
  ASSERT_OK(ledger->Append(events));
  const std::string kept = KeptOnceItSigns(kSize + 3);
  EXPECT_THAT(kept, HasSubstr(absl::StrCat("\n", kSize + 3, "\n")));
  ASSERT_OK_AND_ASSIGN(std::vector<uint64_t> stored, ledger->CheckpointSizes());
  EXPECT_EQ(stored.back(), kSize);
  // Signed once: the file is not written again while nothing is appended.
  struct stat before, after;
  ASSERT_EQ(::stat(Kept().c_str(), &before), 0);
  absl::SleepFor(absl::Milliseconds(350));
  ASSERT_EQ(::stat(Kept().c_str(), &after), 0);
  EXPECT_EQ(before.st_ino, after.st_ino);
  // A reader beside the writer takes the kept note for the last signed
  // checkpoint, and verify counts it.
  LedgerOptions reading;
  reading.read_only = true;
  ASSERT_OK_AND_ASSIGN(auto reader, Ledger::Open(Dir(), reading));
  ASSERT_OK_AND_ASSIGN(Ledger::VerifyReport report, reader->Verify());
  EXPECT_EQ(report.kept_signed_size, kSize + 3);
}

// While appends go on without a pause, the kept file signs them too, at
// most keep_signed_within after they were made: an appender sequencing its
// own appends wakes the sequencer thread for it.
TEST_F(KeptCheckpointTest, AppendsThatGoOnAreSignedInTheKeptFile) {
  LedgerOptions options;
  options.clock = &clock_;
  options.checkpoint_every_entries = 0;  // no automatic checkpoint to keep
  options.keep_signed_within = absl::Milliseconds(100);
  ASSERT_OK_AND_ASSIGN(auto ledger, Ledger::Open(Dir(), options));
  const std::string signed_then = testing::FileContents(Kept());
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  int appends = 0;
  while (testing::FileContents(Kept()) == signed_then &&
         absl::Now() < deadline) {
    ASSERT_OK(ledger->Append({Event("GOING-ON", appends++)}));
  }
  ASSERT_OK_AND_ASSIGN(Checkpoint kept,
                       ParseCheckpointBody(testing::FileContents(Kept())));
  EXPECT_GT(kept.tree_size, kSize);
  EXPECT_LE(kept.tree_size, kSize + appends);
}

// By default the kept file signs appends within a second, at most once a
// second (LedgerOptions::keep_signed_within, docs/reliability.md): the tests
// above set 10-100 ms. The first appends of a session are signed at the
// sequencer's next pass; the next append waits out the second since. The
// wait's upper side is bounded loosely, a loaded machine being slow to
// wake; the default itself is held exactly.
TEST_F(KeptCheckpointTest,
       ByDefaultAppendsAreSignedInTheKeptFileWithinASecond) {
  EXPECT_EQ(LedgerOptions().keep_signed_within, absl::Seconds(1));
  LedgerOptions options;
  options.clock = &clock_;  // it does not move: the real clock counts
  ASSERT_OK_AND_ASSIGN(auto ledger, Ledger::Open(Dir(), options));
  ASSERT_OK(ledger->Append({Event("DEFAULT", 0)}));
  ASSERT_THAT(KeptOnceItSigns(kSize + 1),
              HasSubstr(absl::StrCat("\n", kSize + 1, "\n")));
  const absl::Time first_kept = absl::Now();
  ASSERT_OK(ledger->Append({Event("DEFAULT", 1)}));
  ASSERT_THAT(KeptOnceItSigns(kSize + 2),
              HasSubstr(absl::StrCat("\n", kSize + 2, "\n")));
  const absl::Duration between = absl::Now() - first_kept;
  EXPECT_GE(between, absl::Milliseconds(700)) << between;
  EXPECT_LE(between, absl::Seconds(5)) << between;
}

// Without the key the file's signature cannot be checked: a file of
// another ledger of the same name is not taken for proof of a loss.
TEST_F(KeptCheckpointTest, WithoutTheKeyALossIsReportedAsUnchecked) {
  Keep(SignedByTheLedger(kSize + 5, merkle::Hash{}));
  std::filesystem::remove(Dir() + "/signing-key.pem");
  ExpectFound(
      "(its signature was not checked: without the ledger's key it may be "
      "another ledger's file)");
}

TEST_F(TamperTest, ProofsCheckAgainstTheSignedCheckpoint) {
  LedgerOptions options;
  options.read_only = true;
  ASSERT_OK_AND_ASSIGN(auto ledger, Ledger::Open(Dir(), options));
  ASSERT_OK_AND_ASSIGN(std::string key_text, ledger->VerifierKeyText());
  ASSERT_OK_AND_ASSIGN(VerifierKey key, ParseVerifierKey(key_text));
  ASSERT_OK_AND_ASSIGN(std::string old_note,
                       ledger->CheckpointAt(kCheckpointed));
  ASSERT_OK_AND_ASSIGN(std::string new_note, ledger->LatestCheckpoint());
  ASSERT_OK_AND_ASSIGN(Checkpoint old_cp, VerifyCheckpoint(old_note, key));
  ASSERT_OK_AND_ASSIGN(Checkpoint new_cp, VerifyCheckpoint(new_note, key));
  EXPECT_EQ(new_cp.tree_size, kSize);
  ASSERT_OK_AND_ASSIGN(auto all, ledger->ReadAll(1, 0));
  for (const RecordedEvent& e : all) {
    ASSERT_OK_AND_ASSIGN(auto proof, ledger->InclusionProof(e.position, kSize));
    EXPECT_OK(merkle::VerifyInclusion(merkle::LeafHash(e.entry_bytes),
                                      e.position - 1, kSize, proof,
                                      new_cp.root_hash));
  }
  ASSERT_OK_AND_ASSIGN(auto consistency,
                       ledger->ConsistencyProof(kCheckpointed, kSize));
  EXPECT_OK(merkle::VerifyConsistency(kCheckpointed, kSize, old_cp.root_hash,
                                      new_cp.root_hash, consistency));
  EXPECT_EQ(ledger->InclusionProof(31, kSize).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(TamperTest, SignedNotesOfOtherStatementsAreNotCheckpoints) {
  LedgerOptions options;
  options.read_only = true;
  ASSERT_OK_AND_ASSIGN(auto ledger, Ledger::Open(Dir(), options));
  ASSERT_OK_AND_ASSIGN(VerifierKey key,
                       ParseVerifierKey(*ledger->VerifierKeyText()));
  std::string body = "caseledger-bundle/v1 statement\nabc\n";
  ASSERT_OK_AND_ASSIGN(std::string note, ledger->SignNote(body));
  ASSERT_OK_AND_ASSIGN(std::string back, VerifyNote(note, key));
  EXPECT_EQ(back, body);
  EXPECT_FALSE(VerifyCheckpoint(note, key).ok());
  std::string forged = note;
  forged[3] = 'X';
  EXPECT_EQ(VerifyNote(forged, key).status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_FALSE(ledger->SignNote("no newline").ok());
}

}  // namespace
}  // namespace caseledger
