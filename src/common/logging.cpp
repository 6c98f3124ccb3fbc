#include "kinesd/common/logging.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <mutex>

namespace kinesd {

std::shared_ptr<spdlog::logger> module_logger(const std::string& name) {
    static std::mutex mu;
    std::lock_guard lock(mu);
    if (auto existing = spdlog::get(name)) return existing;
    auto base = spdlog::default_logger();
    auto logger = std::make_shared<spdlog::logger>(name, base->sinks().begin(), base->sinks().end());
    logger->set_level(base->level());
    spdlog::register_logger(logger);
    return logger;
}

void init_logging(const std::string& level) {
    auto logger = spdlog::stderr_color_mt("kinesd");
    spdlog::set_default_logger(logger);
    spdlog::set_level(spdlog::level::from_str(level));
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ [%n] %v", spdlog::pattern_time_type::utc);
}

}  // namespace kinesd
