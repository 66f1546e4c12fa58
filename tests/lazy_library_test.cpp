// LazyLibrary (src/core/lazy_library.h): a library opened at its first use
// gives working functions; a missing library or symbol is an error naming it.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <thread>
#include <vector>

#include "core/lazy_library.h"
#include "obscura/error.h"

namespace obscura {
namespace {

TEST(LazyLibrary, OpensAtFirstUseAndItsFunctionsWork) {
    LazyLibrary libm("libm.so.6");
    // Typed by the declaration, as OBSCURA_LAZY does.
    auto cosine = OBSCURA_LAZY(libm, cos);
    EXPECT_EQ(cosine(0.0), 1.0);
    EXPECT_DOUBLE_EQ(cosine(M_PI), -1.0);
    // Opened once, from any thread.
    std::vector<std::thread> threads;
    std::vector<void*> seen(4);
    for (size_t i = 0; i < seen.size(); ++i) threads.emplace_back([&, i] { seen[i] = libm.symbol("sqrt"); });
    for (auto& t : threads) t.join();
    for (void* s : seen) EXPECT_EQ(s, seen[0]);
}

TEST(LazyLibrary, AMissingLibraryOrSymbolIsAnErrorNamingIt) {
    LazyLibrary missing("libobscura-no-such-library.so.0");
    try {
        missing.symbol("anything");
        ADD_FAILURE() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("libobscura-no-such-library.so.0 cannot be loaded"), std::string::npos) << e.what();
    }
    // (And again: the failure is remembered, not retried into a crash.)
    EXPECT_THROW(missing.symbol("anything"), Error);
    // What a caller checks first, to name the file it was opened for.
    EXPECT_FALSE(missing.available());
    EXPECT_EQ(missing.problem().rfind("libobscura-no-such-library.so.0 cannot be loaded", 0), 0u) << missing.problem();
    LazyLibrary libm("libm.so.6");
    EXPECT_TRUE(libm.available());
    EXPECT_TRUE(libm.problem().empty());
    try {
        libm.symbol("obscura_no_such_function");
        ADD_FAILURE() << "no error";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()), "libm.so.6 has no obscura_no_such_function");
    }
}

}  // namespace
}  // namespace obscura
