// Errors a user can act on: what went wrong, naming the file.
#pragma once
#include <stdexcept>
#include <string>

namespace obscura {

// Thrown by every stage for bad input or impossible requests. The message is
// one line, already prefixed with the file it concerns where there is one.
class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// "path: message" — the one shape every user-facing error takes.
inline Error file_error(const std::string& path, const std::string& message) {
    return Error(path + ": " + message);
}

}  // namespace obscura
