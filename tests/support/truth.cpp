#include "support/truth.h"

namespace obscura::test {

std::string data_path(const std::string& name) { return std::string(OBSCURA_TEST_DATA) + "/" + name; }
std::string dng_path(const std::string& name) { return std::string(OBSCURA_TEST_DNGS) + "/" + name; }

}  // namespace obscura::test
