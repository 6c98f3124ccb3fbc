// append_signal: wakers registered, called on notify(), never after remove().
#include "kinesd/shard/append_signal.hpp"

#include <gtest/gtest.h>

using namespace kinesd;

TEST(append_signal, notify_calls_every_registered_waker_until_removed) {
    append_signal sig;
    sig.notify();  // nobody watches: nothing to call
    int a = 0, b = 0;
    const auto ida = sig.add([&] { ++a; });
    const auto idb = sig.add([&] { ++b; });
    EXPECT_EQ(sig.watchers(), 2u);
    sig.notify();
    EXPECT_EQ(a, 1);
    EXPECT_EQ(b, 1);
    sig.remove(ida);
    sig.notify();
    EXPECT_EQ(a, 1);
    EXPECT_EQ(b, 2);
    sig.remove(ida);  // twice: ignored
    sig.remove(idb);
    EXPECT_EQ(sig.watchers(), 0u);
    sig.notify();
    EXPECT_EQ(b, 2);
}
