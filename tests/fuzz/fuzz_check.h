// A property check for fuzz targets: on failure prints what broke and
// aborts, which libFuzzer (and the replay driver) report as a crash with the
// input that caused it.
#ifndef CASELEDGER_TESTS_FUZZ_FUZZ_CHECK_H_
#define CASELEDGER_TESTS_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>
#include <string>

#define FUZZ_CHECK(condition, message)                                         \
  do {                                                                         \
    if (!(condition)) {                                                        \
      std::fprintf(stderr, "FUZZ_CHECK failed at %s:%d: %s\n  %s\n", __FILE__, \
                   __LINE__, #condition, std::string(message).c_str());        \
      std::abort();                                                            \
    }                                                                          \
  } while (false)

#endif  // CASELEDGER_TESTS_FUZZ_FUZZ_CHECK_H_
