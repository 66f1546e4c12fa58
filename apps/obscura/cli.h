// Shared by the obscura commands: exit codes, a stopwatch, argument reading.
#pragma once
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "obscura/stopwatch.h"

namespace obscura::cli {

constexpr int kExitFailed = 1;  // a file could not be read or written
constexpr int kExitUsage = 2;   // the command line was wrong

using obscura::Stopwatch;  // (obscura/stopwatch.h)

struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// The items of a comma-separated option value ("a,b,c"), empty ones kept
// (so "a,", ",b" and "" each hold an empty item for the caller to refuse).
inline std::vector<std::string> comma_items(const std::string& list) {
    std::vector<std::string> items;
    for (size_t at = 0; at <= list.size();) {
        const size_t comma = std::min(list.find(',', at), list.size());
        items.push_back(list.substr(at, comma - at));
        at = comma + 1;
    }
    return items;
}

// A small argument reader: flags with values, switches, positional args.
class Args {
public:
    Args(int argc, char** argv, int first) {
        for (int i = first; i < argc; ++i) items_.emplace_back(argv[i]);
    }
    bool flag(const std::string& name) {
        for (size_t i = 0; i < items_.size(); ++i)
            if (items_[i] == name) {
                items_.erase(items_.begin() + long(i));
                return true;
            }
        return false;
    }
    std::optional<std::string> value(const std::string& name, const std::string& alt = "") {
        for (size_t i = 0; i < items_.size(); ++i) {
            if (items_[i] == name || (!alt.empty() && items_[i] == alt)) {
                if (i + 1 >= items_.size()) throw UsageError(name + " needs a value");
                std::string v = items_[i + 1];
                items_.erase(items_.begin() + long(i), items_.begin() + long(i) + 2);
                return v;
            }
            if (items_[i].rfind(name + "=", 0) == 0) {
                std::string v = items_[i].substr(name.size() + 1);
                items_.erase(items_.begin() + long(i));
                return v;
            }
        }
        return std::nullopt;
    }
    // A switch that may take one of `choices`: "--name" alone, "--name=X",
    // or "--name X" when X is not an option nor an existing file (so a
    // mistyped choice is reported, not read as an input). Empty when absent.
    std::optional<std::string> switch_or_choice(const std::string& name, const std::vector<std::string>& choices) {
        for (size_t i = 0; i < items_.size(); ++i) {
            if (items_[i].rfind(name + "=", 0) == 0) {
                std::string v = items_[i].substr(name.size() + 1);
                items_.erase(items_.begin() + long(i));
                return check_choice(name, v, choices);
            }
            if (items_[i] != name) continue;
            std::error_code ec;
            if (i + 1 < items_.size() && items_[i + 1][0] != '-' && !std::filesystem::exists(items_[i + 1], ec)) {
                std::string v = items_[i + 1];
                items_.erase(items_.begin() + long(i), items_.begin() + long(i) + 2);
                return check_choice(name, v, choices);
            }
            items_.erase(items_.begin() + long(i));
            return std::string();
        }
        return std::nullopt;
    }
    std::vector<std::string> positional() {
        for (const auto& a : items_)
            if (a.size() > 1 && a[0] == '-') throw UsageError("unknown option " + a);
        return items_;
    }

private:
    static std::string check_choice(const std::string& name, const std::string& v, const std::vector<std::string>& choices) {
        std::string known;
        for (const auto& c : choices) {
            if (c == v) return v;
            known += (known.empty() ? "" : ", ") + c;
        }
        throw UsageError(name + " must be one of " + known + ", not '" + v + "'");
    }
    std::vector<std::string> items_;
};

// `obscura bench ...`
int cmd_bench(Args args);

}  // namespace obscura::cli
