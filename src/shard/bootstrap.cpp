#include "kinesd/shard/bootstrap.hpp"

#include <fmt/format.h>

#include <stdexcept>

#include "kinesd/api/error.hpp"
#include "kinesd/common/logging.hpp"
#include "kinesd/shard/stream_registry.hpp"

namespace kinesd {
namespace {

std::shared_ptr<spdlog::logger> logger() {
    static auto l = module_logger("shard");
    return l;
}

}  // namespace

bootstrap_report bootstrap_streams(stream_registry& streams, std::string_view account,
                                   std::string_view region, const std::vector<stream_spec>& specs) {
    bootstrap_report report;
    for (const auto& spec : specs) {
        if (auto s = streams.find(stream_key{account, region, spec.name})) {
            const auto settings = s->settings();
            const auto open = s->shards()->open.size();
            const bool on_demand = settings.mode == stream_mode::on_demand;
            if (open != spec.shards || on_demand != spec.on_demand)
                logger()->warn("bootstrap stream {} exists with {} open shards ({}); --create-streams asks "
                               "for {} ({}): left as it is",
                               spec.name, open, on_demand ? "ON_DEMAND" : "PROVISIONED", spec.shards,
                               spec.on_demand ? "ON_DEMAND" : "PROVISIONED");
            report.existing.push_back(spec.name);
            continue;
        }
        create_stream_request req;
        req.account = account;
        req.region = region;
        req.name = spec.name;
        req.shard_count = spec.shards;
        req.mode = spec.on_demand ? stream_mode::on_demand : stream_mode::provisioned;
        req.active_at_once = true;
        try {
            streams.create(req);
        } catch (const api_error& e) {
            throw std::runtime_error(
                fmt::format("cannot create stream {} of --create-streams: {}: {}", spec.name, e.type, e.what()));
        }
        report.created.push_back(spec.name);
    }
    if (!specs.empty())
        logger()->info("bootstrap streams in {}: {} created, {} already there", region, report.created.size(),
                       report.existing.size());
    return report;
}

}  // namespace kinesd
