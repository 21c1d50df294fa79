// expect: static assertion failed: volt: cli: this options field's type cannot be read from the command line.*cli_cannot_read_field<.*Options, volt::cli::detail::fixed_string<9>{"schedule"}
//
// An options struct with a field the CLI cannot parse (a std::function): the program does not
// compile, and the note names the struct and the field. The twin holds a double there.
#include <functional>

#include <boost/hana/define_struct.hpp>

#include <volt/cli/config.hpp>

namespace {

#ifdef VOLT_COMPILE_FAIL
using Schedule = std::function<double(int)>;  // the mistake: no command-line spelling
#else
using Schedule = double;
#endif

struct Options {
  BOOST_HANA_DEFINE_STRUCT(Options, (double, lr), (Schedule, schedule));
};

}  // namespace

int main() {
  Options options{};
  volt::cli::Config config(volt::cli::Named<Options>{"model", options});
  return config.options().size() == 2 ? 0 : 1;
}
