#include "kinesd/config/config.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

using namespace kinesd;

namespace {

struct fake_env {
    std::map<std::string, std::string> vars;
    std::function<const char*(const char*)> fn() {
        return [this](const char* name) -> const char* {
            auto it = vars.find(name);
            return it == vars.end() ? nullptr : it->second.c_str();
        };
    }
};

parsed_command_line load(std::vector<const char*> args, fake_env env = {}) {
    args.insert(args.begin(), "kinesd");
    return load_config(static_cast<int>(args.size()), args.data(), env.fn());
}

}  // namespace

TEST(config, defaults_match_the_documented_ones) {
    auto cmd = load({});
    EXPECT_EQ(cmd.cfg.port, 4567);
    EXPECT_EQ(cmd.cfg.host, "0.0.0.0");
    EXPECT_EQ(cmd.cfg.data_dir, "./data");
    EXPECT_EQ(cmd.cfg.region, "us-east-1");
    EXPECT_EQ(cmd.cfg.account_id, "000000000000");
    EXPECT_EQ(cmd.cfg.shard_limit, 500u);
    EXPECT_EQ(cmd.cfg.create_stream_ms, 0);
}

TEST(config, flags_accept_space_and_equals_forms) {
    auto cmd = load({"--port", "1234", "--data-dir=/tmp/x", "--create-stream-ms", "500"});
    EXPECT_EQ(cmd.cfg.port, 1234);
    EXPECT_EQ(cmd.cfg.data_dir, "/tmp/x");
    EXPECT_EQ(cmd.cfg.create_stream_ms, 500);
}

TEST(config, flag_beats_environment_beats_file) {
    auto path = std::filesystem::temp_directory_path() / "kinesd_config_test.json";
    {
        std::ofstream out(path);
        out << R"({"port": 1111, "region": "eu-west-1", "shard-limit": 7})";
    }
    fake_env env;
    env.vars["KINESD_PORT"] = "2222";
    env.vars["KINESD_REGION"] = "ap-south-1";
    auto cmd = load({"--config", path.c_str(), "--port", "3333"}, env);
    EXPECT_EQ(cmd.cfg.port, 3333);           // flag
    EXPECT_EQ(cmd.cfg.region, "ap-south-1"); // environment
    EXPECT_EQ(cmd.cfg.shard_limit, 7u);      // file
    std::filesystem::remove(path);
}

TEST(config, bad_values_are_one_line_errors) {
    EXPECT_THROW(load({"--port", "70000"}), config_error);
    EXPECT_THROW(load({"--port", "abc"}), config_error);
    EXPECT_THROW(load({"--no-such-flag", "1"}), config_error);
    EXPECT_THROW(load({"--port"}), config_error);
    EXPECT_THROW(load({"--account-id", "123"}), config_error);
    EXPECT_THROW(load({"--log-level", "loud"}), config_error);
    fake_env env;
    env.vars["KINESD_SHARD_LIMIT"] = "-1";
    EXPECT_THROW(load({}, env), config_error);
    try {
        load({"--port", "abc"});
    } catch (const config_error& e) {
        EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
    }
}

TEST(config, unknown_key_in_file_is_an_error) {
    auto path = std::filesystem::temp_directory_path() / "kinesd_config_test_bad.json";
    {
        std::ofstream out(path);
        out << R"({"prot": 1})";
    }
    EXPECT_THROW(load({"--config", path.c_str()}), config_error);
    std::filesystem::remove(path);
}

TEST(config, help_lists_every_option_with_its_environment_variable) {
    auto help = help_text();
    for (const auto& opt : option_table()) {
        EXPECT_NE(help.find("--" + opt.name), std::string::npos) << opt.name;
        EXPECT_NE(help.find(opt.env_name()), std::string::npos) << opt.name;
    }
    EXPECT_EQ(option_table().front().env_name(), "KINESD_HOST");
}

// Every flag, however long, is followed by at least two spaces before its description, and
// the descriptions start in one column.
TEST(config, help_aligns_every_description_after_its_flag) {
    std::istringstream lines(help_text());
    std::size_t column = 0;
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind("  --", 0) != 0) continue;
        const auto gap = line.find("  ", 2);
        ASSERT_NE(gap, std::string::npos) << line;
        const auto text = line.find_first_not_of(' ', gap);
        if (column == 0) column = text;
        EXPECT_EQ(text, column) << line;
    }
    EXPECT_GT(column, 0u);
}

namespace {
std::string read_source_file(const char* relative) {
    std::ifstream in(std::string(KINESD_SOURCE_DIR) + "/" + relative);
    return std::string(std::istreambuf_iterator<char>(in), {});
}
}  // namespace

TEST(config, worker_threads_default_to_half_the_cores_whatever_the_fsync_policy) {
    config cfg;
    EXPECT_EQ(worker_threads(cfg, 2), 1u);
    EXPECT_EQ(worker_threads(cfg, 8), 4u);
    EXPECT_EQ(worker_threads(cfg, 1), 1u);
    EXPECT_EQ(worker_threads(cfg, 0), 1u);  // unknown core count
    // A put waiting for its fsync holds no thread (it used to take 32 threads).
    cfg.fsync = storage::fsync_policy::always;
    EXPECT_EQ(worker_threads(cfg, 2), 1u);
    EXPECT_EQ(worker_threads(cfg, 64), 32u);
    cfg.threads = 3;  // an explicit --threads wins
    EXPECT_EQ(worker_threads(cfg, 2), 3u);
}

// The documented configuration cannot drift from the code: every option appears in
// config/kinesd.json with its default and in the README's table, and the file loads.
TEST(config, every_option_is_documented_with_its_default) {
    const auto file = read_source_file("config/kinesd.json");
    const auto readme = read_source_file("README.md");
    ASSERT_FALSE(file.empty());
    auto doc = nlohmann::json::parse(file, nullptr, true, /*ignore_comments=*/true);
    for (const auto& opt : option_table()) {
        ASSERT_TRUE(doc.contains(opt.name)) << opt.name << " missing from config/kinesd.json";
        const auto& v = doc[opt.name];
        EXPECT_EQ(v.is_string() ? v.get<std::string>() : v.dump(), opt.default_text) << opt.name;
        EXPECT_NE(readme.find("`--" + opt.name + "`"), std::string::npos) << opt.name << " missing from README";
    }
    EXPECT_EQ(doc.size(), option_table().size()) << "config/kinesd.json documents an unknown key";
    const auto path = std::string(KINESD_SOURCE_DIR) + "/config/kinesd.json";
    const char* args[] = {"kinesd", "--config", path.c_str()};
    EXPECT_NO_THROW(load_config(3, args, [](const char*) -> const char* { return nullptr; }));
}
