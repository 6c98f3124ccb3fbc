#pragma once
// One spdlog logger per module ("http", "api", "shard", "storage", ...), all writing to the sinks
// of the default logger and following its level. Never log record payloads.
#include <spdlog/spdlog.h>

#include <memory>
#include <string>

namespace kinesd {

// Returns the logger of a module, creating it on first use. Thread-safe.
std::shared_ptr<spdlog::logger> module_logger(const std::string& name);

// Sets up the default logger (stderr, the given level) for the whole process.
void init_logging(const std::string& level);

}  // namespace kinesd
