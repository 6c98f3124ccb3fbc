#include "kinesd/common/random.hpp"

#include <sys/random.h>

#include <cerrno>
#include <system_error>

namespace kinesd {

void fill_random(void* out, std::size_t size) {
    auto* p = static_cast<unsigned char*>(out);
    while (size > 0) {
        const ssize_t n = ::getrandom(p, size, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw std::system_error(errno, std::generic_category(), "getrandom");
        }
        p += n;
        size -= static_cast<std::size_t>(n);
    }
}

}  // namespace kinesd
