// docs/configuration.md cannot drift from the option table: every option has its row, with its
// environment variable and default, and every row is an option.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>

#include "kinesd/config/config.hpp"

using namespace kinesd;

namespace {

std::string read_doc() {
    std::ifstream in(std::string(KINESD_SOURCE_DIR) + "/docs/configuration.md");
    return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string expected_row_start(const option_spec& opt) {
    const std::string def = opt.default_text.empty() ? "(none)" : "`" + opt.default_text + "`";
    return "| `--" + opt.name + "` | `" + opt.env_name() + "` | " + def + " | ";
}

}  // namespace

TEST(configuration_doc, every_option_has_its_row_with_environment_variable_and_default) {
    const auto doc = read_doc();
    ASSERT_FALSE(doc.empty()) << "docs/configuration.md is missing";
    for (const auto& opt : option_table()) {
        EXPECT_NE(doc.find("\n" + expected_row_start(opt)), std::string::npos)
            << "docs/configuration.md lacks the row of --" << opt.name << "; add:\n"
            << expected_row_start(opt) << opt.help << " |";
    }
}

TEST(configuration_doc, every_row_is_an_option) {
    const auto doc = read_doc();
    std::set<std::string> known;
    for (const auto& opt : option_table()) known.insert(opt.name);
    const std::regex row(R"(\n\| `--([a-z0-9-]+)` \|)");
    std::size_t rows = 0;
    for (auto it = std::sregex_iterator(doc.begin(), doc.end(), row); it != std::sregex_iterator(); ++it) {
        ++rows;
        EXPECT_TRUE(known.count((*it)[1].str())) << "docs/configuration.md documents unknown option --" << (*it)[1];
    }
    EXPECT_EQ(rows, option_table().size());
}
