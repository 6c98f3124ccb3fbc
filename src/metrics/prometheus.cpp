#include "kinesd/metrics/prometheus.hpp"

#include <fmt/format.h>

#include <cmath>

namespace kinesd::metrics {
namespace {

void write_name_and_labels(std::string& out, std::string_view name, std::initializer_list<label> labels) {
    out += name;
    if (labels.size() == 0) return;
    out.push_back('{');
    bool first = true;
    for (const auto& [key, value] : labels) {
        if (!first) out.push_back(',');
        first = false;
        out += key;
        out += "=\"";
        append_label_value(out, value);
        out.push_back('"');
    }
    out.push_back('}');
}

}  // namespace

void append_label_value(std::string& out, std::string_view value) {
    for (char c : value) {
        switch (c) {
            case '\\': out += "\\\\"; break;
            case '"': out += "\\\""; break;
            case '\n': out += "\\n"; break;
            default: out.push_back(c);
        }
    }
}

void write_family(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
    fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

void write_sample(std::string& out, std::string_view name, std::initializer_list<label> labels,
                  std::uint64_t value) {
    write_name_and_labels(out, name, labels);
    fmt::format_to(std::back_inserter(out), " {}\n", value);
}

void write_sample(std::string& out, std::string_view name, std::initializer_list<label> labels,
                  std::int64_t value) {
    write_name_and_labels(out, name, labels);
    fmt::format_to(std::back_inserter(out), " {}\n", value);
}

void write_sample(std::string& out, std::string_view name, std::initializer_list<label> labels,
                  double value) {
    write_name_and_labels(out, name, labels);
    if (std::isinf(value)) {
        out += value > 0 ? " +Inf\n" : " -Inf\n";
    } else if (std::isnan(value)) {
        out += " NaN\n";
    } else {
        fmt::format_to(std::back_inserter(out), " {}\n", value);
    }
}

}  // namespace kinesd::metrics
