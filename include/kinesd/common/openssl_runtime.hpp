#pragma once
// kinesd loads OpenSSL (libssl and the libcrypto it needs) when it first calls it, not when the
// process starts. Mapping and relocating libcrypto at exec was about 4 ms of CPU (BIND_NOW,
// 21,000 relocations, 4,000 symbol lookups): a fifth of an empty start, and an empty start
// answers its first ListStreams without OpenSSL. MD5 (partition keys), HMAC (shard iterators)
// and TLS reach it through forwarders with OpenSSL's own names and signatures, compiled into the
// `kinesd` executable only (src/common/openssl_runtime.cpp); the tests and the benchmark link
// OpenSSL as usual.
//
// Adding a call to an OpenSSL function kinesd does not call yet fails the link of `kinesd` with
// an undefined reference: add the function to the list in openssl_runtime.cpp.

namespace kinesd::openssl_runtime {

// Loads the library and resolves every function kinesd calls, once per process; later calls
// return at once. Thread-safe. The first forwarded call does the same, so nothing needs to call
// this: the first request that hashes a partition key, signs an iterator or shakes hands over
// TLS waits the ~4 ms once. (Loading it on a spare thread once the listener was up made the
// first ListStreams 1.5-2 ms slower on 2 cores, and a low-priority thread could hold up every
// put waiting for it on a busy machine.) If the library or a function is missing (a broken
// installation), logs why and ends the process with exit status 1, as the dynamic loader would
// have refused to start it.
void load();

}  // namespace kinesd::openssl_runtime
