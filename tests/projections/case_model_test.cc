// The fold's input contract (case_model.h).
#include "projections/case_model.h"

#include <vector>

#include "gtest/gtest.h"
#include "projections/case_state.h"
#include "tests/projections/case_builder.h"

namespace caseledger::projections {
namespace {

using fixture::KaurCase;

TEST(CaseModelTest, TakesTheCaseIdOfItsFirstEvent) {
  CaseModel model;
  EXPECT_TRUE(model.empty());
  ASSERT_OK(model.Apply(KaurCase().events()[0]));
  EXPECT_EQ(model.case_id(), "C-1");
  EXPECT_EQ(model.events().size(), 1u);
}

TEST(CaseModelTest, RejectsAnEventOfAnotherCase) {
  std::vector<RecordedEvent> events = KaurCase().events();
  events[3].event.set_case_id("C-2");
  auto model = FoldCase(events);
  EXPECT_EQ(model.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(model.status().message().find("C-2"), absl::string_view::npos);
}

TEST(CaseModelTest, RejectsEventsOutOfCaseOrderAndStaysUnchanged) {
  const std::vector<RecordedEvent> events = KaurCase().events();
  CaseModel model;
  ASSERT_OK(model.Apply(events[0]));
  ASSERT_OK(model.Apply(events[2]));
  const absl::Status s = model.Apply(events[1]);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(model.events().size(), 2u);
}

TEST(CaseModelTest, AcceptsGapsInVersions) {
  const std::vector<RecordedEvent> events = KaurCase().events();
  CaseModel model;
  ASSERT_OK(model.Apply(events[0]));
  ASSERT_OK(model.Apply(events[4]));
}

TEST(CaseModelTest, FoldCaseErrorsThroughTheConvenienceOverloads) {
  std::vector<RecordedEvent> events = KaurCase().events();
  std::swap(events[1], events[2]);
  EXPECT_FALSE(CaseStateFor(events, Evaluation{}).ok());
}

// The fold that takes its events makes the same model, and refuses the
// same disorder, as the one that copies them.
TEST(CaseModelTest, ApplyingTakenEventsMakesTheSameModel) {
  const std::vector<RecordedEvent> events = KaurCase().events();
  ASSERT_OK_AND_ASSIGN(CaseModel copied, FoldCase(events));
  CaseModel taken;
  for (RecordedEvent e : events) ASSERT_OK(taken.Apply(std::move(e)));
  EXPECT_EQ(taken.case_id(), copied.case_id());
  ASSERT_EQ(taken.events().size(), copied.events().size());
  for (size_t i = 0; i < taken.events().size(); ++i) {
    const CaseEvent& t = taken.events()[i];
    const CaseEvent& c = copied.events()[i];
    EXPECT_EQ(t.position, c.position);
    EXPECT_EQ(t.case_version, c.case_version);
    EXPECT_EQ(t.occurred_at, c.occurred_at);
    EXPECT_EQ(t.recorded_at, c.recorded_at);
    EXPECT_EQ(t.event.SerializeAsString(), c.event.SerializeAsString());
    EXPECT_EQ(t.event.SerializeAsString(), events[i].event.SerializeAsString());
  }
  std::vector<RecordedEvent> disordered = events;
  std::swap(disordered[1], disordered[2]);
  const absl::Status copying = FoldCase(disordered).status();
  CaseModel refusing;
  absl::Status refused;
  for (RecordedEvent& e : disordered) {
    refused = refusing.Apply(std::move(e));
    if (!refused.ok()) break;
  }
  EXPECT_EQ(refused, copying);
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace caseledger::projections
