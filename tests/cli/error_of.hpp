#pragma once
// The message of the volt::cli::Error that f throws; fails the test when it throws none.
// Shared by the cli tests, which check error texts word for word.
#include <string>

#include <catch2/catch.hpp>

#include <volt/cli/value.hpp>

namespace volt_test {

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const volt::cli::Error& e) {
    return e.what();
  }
  FAIL("no volt::cli::Error was thrown");
  return {};
}

}  // namespace volt_test
