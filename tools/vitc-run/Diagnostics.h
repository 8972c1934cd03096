//===- Diagnostics.h - vitc-run's error and warning lines -------*- C++ -*-===//
#ifndef VITC_RUN_DIAGNOSTICS_H
#define VITC_RUN_DIAGNOSTICS_H

#include <cstdio>
#include <cstdlib>
#include <string>

namespace vitc::run {

/// Prints "vitc-run: error: <message>" and exits with status 1. Standard
/// output is flushed first, so the line comes after what was printed.
[[noreturn]] inline void fatal(const std::string &message) {
  std::fflush(stdout);
  std::fprintf(stderr, "vitc-run: error: %s\n", message.c_str());
  std::exit(1);
}

/// Prints "vitc-run: warning: <message>" to stderr.
inline void warn(const std::string &message) {
  std::fflush(stdout);
  std::fprintf(stderr, "vitc-run: warning: %s\n", message.c_str());
}

} // namespace vitc::run

#endif // VITC_RUN_DIAGNOSTICS_H
