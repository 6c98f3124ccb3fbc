#include "kinesd/storage/counters.hpp"

namespace kinesd::storage {

storage_counters& counters() {
    static storage_counters c;
    return c;
}

}  // namespace kinesd::storage
