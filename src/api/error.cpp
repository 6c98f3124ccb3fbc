#include "kinesd/api/error.hpp"

#include "kinesd/storage/shard_log.hpp"

namespace kinesd {

api_error to_api_error(std::error_code ec) {
    if (ec.category() == storage::storage_category()) {
        switch (static_cast<storage::storage_errc>(ec.value())) {
            case storage::storage_errc::io_error:
            case storage::storage_errc::no_space:
            case storage::storage_errc::corrupt_segment:
            case storage::storage_errc::closed:
                return api_error::internal_failure();
        }
    }
    return api_error::internal_failure();
}

}  // namespace kinesd
