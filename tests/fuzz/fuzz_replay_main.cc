// Runs a fuzz target without libFuzzer, for the default (g++) build: every
// file of the given corpus folders, then mutations of them and random
// inputs. ctest runs it with label `fuzz` (tests/fuzz/CMakeLists.txt); a
// property failure aborts, a clean run exits 0.
//
//   <target>_replay [--random N] [--seed S] [--max-len L] DIR|FILE...
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

std::string Slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void Run(const std::string& input) {
  // A copy in its own allocation, so that reads past the end are caught by
  // sanitizers as they would be under libFuzzer.
  std::vector<uint8_t> bytes(input.begin(), input.end());
  LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
}

// One random edit of the kinds libFuzzer makes: flip, insert, erase, copy.
std::string Mutate(std::string s, std::mt19937_64& rng, size_t max_len) {
  int edits = 1 + static_cast<int>(rng() % 4);
  for (int e = 0; e < edits; ++e) {
    switch (rng() % 5) {
      case 0:
        if (!s.empty())
          s[rng() % s.size()] ^= static_cast<char>(1 << (rng() % 8));
        break;
      case 1:
        if (s.size() < max_len) {
          s.insert(s.begin() + static_cast<long>(rng() % (s.size() + 1)),
                   static_cast<char>(rng()));
        }
        break;
      case 2:
        if (!s.empty()) s.erase(rng() % s.size(), 1 + rng() % 8);
        break;
      case 3:
        if (!s.empty()) s.resize(rng() % s.size());
        break;
      case 4:
        if (!s.empty() && s.size() < max_len) {
          size_t from = rng() % s.size();
          size_t n = std::min<size_t>(1 + rng() % 16, s.size() - from);
          s.insert(rng() % (s.size() + 1), s.substr(from, n));
        }
        break;
    }
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t random = 0, seed = 1;
  size_t max_len = 4096;
  std::vector<std::string> corpus;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if ((a == "--random" || a == "--seed" || a == "--max-len") &&
        i + 1 < argc) {
      uint64_t v = std::strtoull(argv[++i], nullptr, 10);
      (a == "--random" ? random : a == "--seed" ? seed : max_len) = v;
      continue;
    }
    std::filesystem::path p(a);
    if (std::filesystem::is_directory(p)) {
      for (const auto& f : std::filesystem::recursive_directory_iterator(p)) {
        if (f.is_regular_file()) corpus.push_back(Slurp(f.path()));
      }
    } else {
      corpus.push_back(Slurp(p));
    }
  }
  for (const std::string& input : corpus) Run(input);
  std::mt19937_64 rng(seed);
  for (uint64_t i = 0; i < random; ++i) {
    if (!corpus.empty() && i % 4 != 0) {
      Run(Mutate(corpus[rng() % corpus.size()], rng, max_len));
    } else {
      std::string s(rng() % 256, '\0');
      for (char& c : s) c = static_cast<char>(rng());
      Run(s);
    }
  }
  std::printf("replayed %zu corpus inputs and %llu generated inputs\n",
              corpus.size(), static_cast<unsigned long long>(random));
  return 0;
}
