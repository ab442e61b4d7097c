#include "ledger/internal/siphash.h"

#include <algorithm>
#include <bit>
#include <cstring>

namespace caseledger::internal {
namespace {

uint64_t LoadLittleEndian64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof(v));
  if constexpr (std::endian::native == std::endian::big) {
    v = __builtin_bswap64(v);
  }
  return v;
}

uint64_t Rotl(uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }

// The state, held in locals while data is absorbed: members written in a
// loop over input bytes, which may alias them, would stay in memory.
struct State {
  uint64_t v0, v1, v2, v3;

  void Round() {
    v0 += v1;
    v1 = Rotl(v1, 13);
    v1 ^= v0;
    v0 = Rotl(v0, 32);
    v2 += v3;
    v3 = Rotl(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = Rotl(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = Rotl(v1, 17);
    v1 ^= v2;
    v2 = Rotl(v2, 32);
  }

  void Absorb(uint64_t m) {
    v3 ^= m;
    Round();
    Round();
    v0 ^= m;
  }
};

}  // namespace

SipHasher::SipHasher(const SipHashKey& key) {
  const uint64_t k0 = LoadLittleEndian64(key.data());
  const uint64_t k1 = LoadLittleEndian64(key.data() + 8);
  v_[0] = k0 ^ 0x736f6d6570736575ULL;
  v_[1] = k1 ^ 0x646f72616e646f6dULL;
  v_[2] = k0 ^ 0x6c7967656e657261ULL;
  v_[3] = k1 ^ 0x7465646279746573ULL;
}

void SipHasher::Update(std::string_view data) {
  const auto* p = reinterpret_cast<const uint8_t*>(data.data());
  size_t n = data.size();
  length_ += n;
  State s{v_[0], v_[1], v_[2], v_[3]};
  if (pending_size_ > 0) {
    const size_t take = std::min(n, sizeof(pending_) - pending_size_);
    std::memcpy(pending_ + pending_size_, p, take);
    pending_size_ += take;
    p += take;
    n -= take;
    if (pending_size_ < sizeof(pending_)) return;
    s.Absorb(LoadLittleEndian64(pending_));
    pending_size_ = 0;
  }
  for (; n >= 8; p += 8, n -= 8) s.Absorb(LoadLittleEndian64(p));
  std::memcpy(pending_, p, n);
  pending_size_ = n;
  v_[0] = s.v0, v_[1] = s.v1, v_[2] = s.v2, v_[3] = s.v3;
}

uint64_t SipHasher::Finish() {
  State s{v_[0], v_[1], v_[2], v_[3]};
  // The last block: the remaining bytes, with the length's low byte on top.
  uint8_t last[8] = {};
  std::memcpy(last, pending_, pending_size_);
  last[7] = static_cast<uint8_t>(length_);
  s.Absorb(LoadLittleEndian64(last));
  s.v2 ^= 0xff;
  for (int i = 0; i < 4; ++i) s.Round();
  return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

uint64_t SipHash24(const SipHashKey& key, std::string_view data) {
  SipHasher hasher(key);
  hasher.Update(data);
  return hasher.Finish();
}

}  // namespace caseledger::internal
