#pragma once
// The fsync wait an append leaves to its caller with --fsync always (shard::append with a
// commit ticket): the transport answers the request once the wait ends, so that no thread
// blocks in it (docs/durability.md).
#include <cstdint>
#include <memory>

#include "kinesd/storage/shard_log.hpp"

namespace kinesd {

class shard;
struct shard_table;

struct pending_commit {
    std::shared_ptr<const shard_table> keep_alive;  // a table holding `target`
    shard* target = nullptr;
    std::uint64_t ticket = 0;  // from shard::append
};

// Calls done(error) once the appends up to c.ticket are fsynced (or failed to be): on a thread
// of the commit pipeline, or before returning when there is nothing to wait for. `done` must not
// block. Any thread.
void commit_async(const pending_commit& c, storage::commit_callback done);

}  // namespace kinesd
