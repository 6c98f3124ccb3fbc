#include "kinesd/metrics/storage_metrics.hpp"

#include <gtest/gtest.h>

#include "kinesd/storage/counters.hpp"

namespace kinesd::metrics {
namespace {

std::uint64_t sample(const std::string& out, const std::string& series) {
    const auto at = out.find("\n" + series + " ");
    EXPECT_NE(at, std::string::npos) << series;
    if (at == std::string::npos) return ~0ull;
    return std::stoull(out.substr(at + series.size() + 2));
}

TEST(storage_metrics, every_storage_counter_is_published_and_moves) {
    auto& c = storage::counters();
    std::string before;
    render_storage_metrics(before);
    c.quarantined_segments.fetch_add(1);
    c.append_no_space.fetch_add(2);
    c.append_io_errors.fetch_add(3);
    c.sync_errors.fetch_add(4);
    c.sync_rounds.fetch_add(5);
    c.sync_waits.fetch_add(6);
    c.file_system_syncs.fetch_add(7);
    c.journal_writes.fetch_add(8);
    c.journal_checkpoints.fetch_add(9);
    std::string after;
    render_storage_metrics(after);
    const std::pair<const char*, std::uint64_t> moved[] = {
        {"kinesd_storage_quarantined_segments_total", 1},
        {R"(kinesd_storage_append_failures_total{reason="no_space"})", 2},
        {R"(kinesd_storage_append_failures_total{reason="io_error"})", 3},
        {"kinesd_storage_fsync_failures_total", 4},
        {"kinesd_storage_fsync_rounds_total", 5},
        {"kinesd_storage_fsync_waits_total", 6},
        {"kinesd_storage_file_system_syncs_total", 7},
        {"kinesd_storage_journal_writes_total", 8},
        {"kinesd_storage_journal_checkpoints_total", 9},
    };
    for (const auto& [series, by] : moved) EXPECT_EQ(sample(after, series) - sample(before, series), by) << series;
    EXPECT_NE(after.find("# TYPE kinesd_storage_fsync_rounds_total counter\n"), std::string::npos);
}

}  // namespace
}  // namespace kinesd::metrics
