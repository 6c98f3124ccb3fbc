#pragma once
// Writing the Prometheus text exposition format, version 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/): one # HELP and # TYPE line per
// family, then its samples. Label values are escaped (\\, \", \n).
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace kinesd::metrics {

inline constexpr std::string_view exposition_content_type = "text/plain; version=0.0.4; charset=utf-8";

using label = std::pair<std::string_view, std::string_view>;

// "# HELP name help\n# TYPE name type\n"; type is counter, gauge or histogram.
void write_family(std::string& out, std::string_view name, std::string_view type, std::string_view help);

// "name{k="v",...} value\n" (no braces without labels).
void write_sample(std::string& out, std::string_view name, std::initializer_list<label> labels,
                  std::uint64_t value);
void write_sample(std::string& out, std::string_view name, std::initializer_list<label> labels,
                  std::int64_t value);
void write_sample(std::string& out, std::string_view name, std::initializer_list<label> labels,
                  double value);

// Appends `value` escaped for use inside a quoted label value.
void append_label_value(std::string& out, std::string_view value);

}  // namespace kinesd::metrics
