//===- Flags.h - `--flag value` / `--flag=value` command lines -----*- C++ -*-===//
#ifndef VITC_RUN_FLAGS_H
#define VITC_RUN_FLAGS_H

#include <string>

namespace vitc::run {

/// One command-line argument: a flag with an inline `=value`, or anything
/// else (a flag whose value may follow, or a positional argument).
struct Flag {
  explicit Flag(std::string arg) : name(std::move(arg)) {
    size_t eq = name.find('=');
    if (name.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
      inlineValue = true;
    }
  }

  /// The flag's value: its `=value`, else the next argument (argv[++i]);
  /// `fail` (which must not return) reports a missing one.
  template <typename Fail>
  std::string takeValue(int argc, char **argv, int &i, Fail fail) const {
    if (inlineValue)
      return value;
    if (i + 1 >= argc)
      fail("missing value for " + name);
    return argv[++i];
  }

  std::string name, value;
  bool inlineValue = false;
};

} // namespace vitc::run

#endif // VITC_RUN_FLAGS_H
