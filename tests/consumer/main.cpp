// The consumer tests' program: it only has to compile against the umbrella header, link and
// exit with 0. Replace the body with real API use freely.
#include <volt/volt.hpp>

#include <iostream>

int main() {
  std::cout << volt::to_string(volt::Stage::fit) << '\n';
  return 0;
}
