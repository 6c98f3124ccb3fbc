// Every operation of the API model is dispatched: a gap in the table cannot hide.
#include "kinesd/api/dispatch.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "kinesd/api/model.hpp"

using namespace kinesd;

namespace {

// Operations not dispatched yet, each with the work that will add it. Remove an entry when its
// handler lands; the test also fails when a listed operation is dispatched.
const std::set<std::string> known_gaps = {};

TEST(dispatch, every_model_operation_has_a_handler) {
    const auto names = api::api_model::instance().operation_names();
    EXPECT_EQ(names.size(), 39u);
    for (const auto& op : names) {
        if (known_gaps.count(op)) continue;
        EXPECT_NE(api::find_handler(op), nullptr)
            << op << " is in the API model but not dispatched";
    }
}

TEST(dispatch, known_gaps_are_real_model_operations_still_missing) {
    const auto& model = api::api_model::instance();
    for (const auto& op : known_gaps) {
        EXPECT_TRUE(model.has_operation(op)) << op;
        EXPECT_EQ(api::find_handler(op), nullptr)
            << op << " is dispatched now: remove it from known_gaps";
    }
}

TEST(dispatch, operations_outside_the_model_are_unknown) {
    EXPECT_EQ(api::find_handler("NoSuchOperation"), nullptr);
}

}  // namespace
