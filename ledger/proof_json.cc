#include "ledger/proof_json.h"

#include "absl/strings/str_cat.h"
#include "ledger/base64.h"

namespace caseledger::merkle {
namespace {

std::string HashesJson(const std::vector<Hash>& hashes) {
  std::string out = "[";
  for (size_t i = 0; i < hashes.size(); ++i) {
    absl::StrAppend(&out, i ? ", " : "", "\"",
                    Base64Encode(DigestBytes(hashes[i])), "\"");
  }
  return out + "]";
}

}  // namespace

std::string InclusionProofJson(uint64_t leaf_index, uint64_t tree_size,
                               const std::vector<Hash>& hashes) {
  return absl::StrCat("{\"leaf_index\": ", leaf_index,
                      ", \"tree_size\": ", tree_size,
                      ", \"hashes\": ", HashesJson(hashes), "}\n");
}

std::string ConsistencyProofJson(uint64_t old_size, uint64_t new_size,
                                 const std::vector<Hash>& hashes) {
  return absl::StrCat("{\"old_size\": ", old_size, ", \"new_size\": ", new_size,
                      ", \"hashes\": ", HashesJson(hashes), "}\n");
}

}  // namespace caseledger::merkle
