// A cap on the calls of one kind in flight at once. Streams (reads,
// subscriptions, exports, attached messages) hold a server thread for as
// long as their client keeps them open, and projections for as long as
// their work lasts, so each kind is capped below the server's threads:
// together they never take every thread, and an Append still finds one
// (docs/service.md, "Limits").
#ifndef CASELEDGER_TOOLS_SERVER_CALL_LIMIT_H_
#define CASELEDGER_TOOLS_SERVER_CALL_LIMIT_H_

#include <atomic>
#include <string>
#include <utility>

namespace caseledger::server {

class CallLimit {
 public:
  // `name`, plural, names the calls in the refusal ("reads").
  CallLimit(std::string name, int most) : name_(std::move(name)), most_(most) {}

  // One call's place, given back when it is destroyed; empty when `most`
  // calls held one already.
  class Place {
   public:
    Place() = default;
    Place(Place&& other) noexcept : limit_(other.limit_) {
      other.limit_ = nullptr;
    }
    Place& operator=(Place&&) = delete;
    ~Place() {
      if (limit_ != nullptr) limit_->in_flight_.fetch_sub(1);
    }
    explicit operator bool() const { return limit_ != nullptr; }

   private:
    friend class CallLimit;
    explicit Place(CallLimit* limit) : limit_(limit) {}
    CallLimit* limit_ = nullptr;
  };

  Place Take() {
    if (in_flight_.fetch_add(1) >= most_) {
      in_flight_.fetch_sub(1);
      return Place();
    }
    return Place(this);
  }

  // Why a call found no place: "too many streaming reads at once (at most
  // 64)", beginning with kNoPlace.
  std::string Refusal() const {
    // Said, so that a client that gave up retrying knows it may try again
    // and that nothing was recorded (found by an adversarial test).
    return kNoPlace + name_ + " at once (at most " + std::to_string(most_) +
           "); nothing of this call was done: try again once one has ended";
  }
  static constexpr char kNoPlace[] = "too many ";

 private:
  const std::string name_;
  const int most_;
  std::atomic<int> in_flight_{0};
};

}  // namespace caseledger::server

#endif  // CASELEDGER_TOOLS_SERVER_CALL_LIMIT_H_
