#pragma once
// Cryptographically secure random bytes from the kernel (getrandom(2)), for keys and ids.
// Not OpenSSL's RAND_bytes: seeding its DRBG (and reading openssl.cnf) was half the instructions
// of starting kinesd on an empty data dir.
#include <cstddef>

namespace kinesd {

// Fills `size` bytes at `out`. Blocks only until the kernel's pool is initialized at boot.
// Throws std::system_error if the kernel refuses.
void fill_random(void* out, std::size_t size);

}  // namespace kinesd
