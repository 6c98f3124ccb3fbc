#pragma once
// Crash-safe file replacement: write a temp file, fsync it, rename it over the target, fsync the
// directory. After a crash the target holds either the old or the new contents, never a mix.
#include <filesystem>
#include <string_view>
#include <system_error>

namespace kinesd {

// `mode`: the permission bits of the new file (before the umask); 0600 for secrets, which are
// never readable by others, not even while the file is being written.
std::error_code write_file_atomically(const std::filesystem::path& path, std::string_view contents,
                                      unsigned mode = 0644);

// write_file_atomically, keeping the contents it replaces as `path` + ".prev" (a hard link made
// before the rename), so that a reader that finds `path` damaged can fall back to the previous
// version (stream_registry's recovery does).
std::error_code write_file_keeping_previous(const std::filesystem::path& path,
                                            std::string_view contents);

// fsync of a directory, so that a rename or unlink in it is durable.
std::error_code sync_directory(const std::filesystem::path& dir);

}  // namespace kinesd
