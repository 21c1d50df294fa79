// cli/option_table.hpp: an options struct walked once into a table of typed leaves, and the
// table's operations (--help's list, YAML files, flags, YAML output) giving what the per-field
// templates give for a struct the table cannot hold.
#include <catch2/catch.hpp>

#include "error_of.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include <boost/hana/define_struct.hpp>
#include <yaml-cpp/yaml.h>

#include <volt/cli/config.hpp>
#include <volt/cli/option_table.hpp>
#include <volt/cli/options_reflection.hpp>

namespace {

// Enums of other sizes and signs than int: the table reads and writes them through their bytes.
enum class Small : std::uint8_t { a = 1, b = 200 };
enum class Wide : std::int16_t { low = -300, high = 7 };

}  // namespace

template <>
struct volt::cli::enum_names<Small> {
  static constexpr std::array values{std::pair<std::string_view, Small>{"a", Small::a},
                                     std::pair<std::string_view, Small>{"b", Small::b}};
};
template <>
struct volt::cli::enum_names<Wide> {
  static constexpr std::array values{std::pair<std::string_view, Wide>{"low", Wide::low},
                                     std::pair<std::string_view, Wide>{"high", Wide::high}};
};

namespace {

struct Leaves {
  BOOST_HANA_DEFINE_STRUCT(Leaves, (Small, small), (Wide, wide), (std::optional<float>, scale),
                           (unsigned, count), (std::optional<std::filesystem::path>, dir));
};
struct Tabled {
  BOOST_HANA_DEFINE_STRUCT(Tabled, (double, lr), (Leaves, leaves), (bool, flag));
};
struct Empty {
  BOOST_HANA_DEFINE_STRUCT(Empty);
};
// The same fields plus one the table has no type for: Config walks it with its templates.
struct Untabled {
  BOOST_HANA_DEFINE_STRUCT(Untabled, (double, lr), (Leaves, leaves), (bool, flag), (short, other));
};
struct Adam {
  static constexpr std::string_view cli_name = "Adam";
  BOOST_HANA_DEFINE_STRUCT(Adam, (double, lr));
};

static_assert(volt::cli::detail::tableable<Tabled>());
static_assert(volt::cli::detail::tableable<volt::TrainerOptions>());
static_assert(volt::cli::detail::tableable<volt::ModelCheckpoint::Options>());
static_assert(volt::cli::detail::tableable<std::optional<std::string>>());
static_assert(volt::cli::detail::tableable<Empty>());
static_assert(!volt::cli::detail::tableable<Untabled>());
static_assert(!volt::cli::detail::tableable<std::variant<Adam>>());
static_assert(!volt::cli::detail::tableable<std::optional<Small>>());

using volt_test::error_of;

}  // namespace

TEST_CASE("cli: option table: one walk lists a struct's headings and leaves depth first", "[cli][option_table]") {
  Tabled t{.lr = 0.1, .leaves = {.small = Small::b, .wide = Wide::low, .scale = 2.5f, .count = 4, .dir = {}}, .flag = true};
  volt::cli::OptionTable table;
  table.add_group("model", t);
  const auto& e = table.entries();
  REQUIRE(e.size() == 9);
  CHECK(e[0].key == "model");
  CHECK(e[0].depth == 0);
  CHECK_FALSE(e[0].leaf);
  CHECK(e[1].key == "model.lr");
  CHECK(e[2].key == "model.leaves");
  CHECK_FALSE(e[2].leaf);
  CHECK(e[3].key == "model.leaves.small");
  CHECK(e[3].name == "small");
  CHECK(e[3].depth == 2);
  CHECK(e[8].key == "model.flag");
  CHECK(e[8].depth == 1);
  CHECK(std::get<double*>(*e[1].leaf) == &t.lr);
  CHECK(table.root("model") == 0);
  CHECK(table.root("data") == e.size());
  CHECK(volt::cli::detail::leaf_text(*e[3].leaf) == "b");
  CHECK(volt::cli::detail::leaf_text(*e[4].leaf) == "low");
  CHECK(volt::cli::detail::leaf_type(*e[3].leaf) == "a|b");
  CHECK(volt::cli::detail::leaf_type(*e[5].leaf) == "float | null");
  CHECK(volt::cli::detail::leaf_takes_raw_text(*e[7].leaf));
  CHECK_FALSE(volt::cli::detail::leaf_takes_raw_text(*e[6].leaf));
}

TEST_CASE("cli: option table: enums of any size are read and written through their bytes", "[cli][option_table]") {
  Leaves l{};
  volt::cli::OptionTable table;
  table.add_group("l", l);
  std::map<std::string, std::string> provenance;
  const std::vector<volt::cli::OptionInfo> options;
  table.apply_text(0, "l.small", "small", "b", {}, options, provenance);
  table.apply_text(0, "l.wide", "wide", "low", {}, options, provenance);
  CHECK(l.small == Small::b);
  CHECK(l.wide == Wide::low);
  CHECK(volt::cli::detail::enum_integer(std::get<volt::cli::detail::EnumLeaf>(*table.entries()[2].leaf)) == -300);
  table.apply_text(0, "l.wide", "wide", "high", {}, options, provenance);
  CHECK(l.wide == Wide::high);
  CHECK(provenance.at("l.wide") == "command line");
  l.small = static_cast<Small>(3);  // not one of the names
  std::string out;
  table.emit(0, out, 0);
  CHECK(out == "l:\n  small: null\n  wide: high\n  scale: null\n  count: 0\n  dir: null\n");
}

TEST_CASE("cli: option table: a tabled group gives what the templates give", "[cli][option_table]") {
  using volt::cli::Named;
  Tabled t{.lr = 0.1, .leaves = {.small = Small::b, .wide = Wide::low, .scale = 2.5f, .count = 4, .dir = {}}, .flag = true};
  Untabled u{.lr = 0.1, .leaves = t.leaves, .flag = true, .other = 5};
  Empty e{};
  auto tabled = volt::cli::Config(Named<Tabled>{"m", t}, Named<Empty>{"e", e});
  auto templated = volt::cli::Config(Named<Untabled>{"m", u}, Named<Empty>{"e", e});

  // --help's list: the same, less the extra field.
  auto listed = templated.options();
  listed.erase(listed.end() - 1);
  REQUIRE(tabled.options().size() == listed.size());
  for (std::size_t i = 0; i < listed.size(); ++i) {
    CHECK(tabled.options()[i].key == listed[i].key);
    CHECK(tabled.options()[i].type == listed[i].type);
    CHECK(tabled.options()[i].value == listed[i].value);
  }

  // The same files, flags and errors.
  const auto both = [&](auto&& f) {
    f(tabled);
    f(templated);
  };
  both([](auto& c) {
    c.apply_file(YAML::Load("m:\n  lr: 0.5\n  leaves:\n    wide: high\n    scale: null\ne: null\n"), "c.yaml");
    c.apply_text("m.leaves.count", "9", {"command line --m.leaves.count"});
    c.apply_text("m.leaves", "{small: a, dir: some dir}", {"command line --m.leaves"});
    c.apply_text("m.leaves.dir", "other dir", {"command line --m.leaves.dir"});
  });
  CHECK(t.lr == 0.5);
  CHECK(t.leaves.wide == Wide::high);
  CHECK(t.leaves.small == Small::a);
  CHECK(t.leaves.count == 9);
  CHECK_FALSE(t.leaves.scale);
  CHECK(t.leaves.dir == std::filesystem::path("other dir"));
  CHECK(tabled.provenance() == templated.provenance());
  const std::string yaml = tabled.yaml();
  CHECK(yaml ==
        "m:\n  lr: 0.5\n  leaves:\n    small: a\n    wide: high\n    scale: null\n    count: 9\n    dir: other dir\n"
        "  flag: true\ne: {}\n");
  CHECK(templated.yaml() == "m:\n  lr: 0.5\n  leaves:\n    small: a\n    wide: high\n    scale: null\n    count: 9\n"
                            "    dir: other dir\n  flag: true\n  other: 5\ne: {}\n");

  const auto same_error = [&](auto&& f) {
    const std::string a = error_of([&] { f(tabled); });
    CHECK(a == error_of([&] { f(templated); }));
    return a;
  };
  CHECK(same_error([](auto& c) { c.apply_text("m.leaves.wide", "middle", {}); }) ==
        "volt: cli: command line: key \"m.leaves.wide\": expected one of low, high, got \"middle\".");
  CHECK(same_error([](auto& c) { c.apply_text("m.leaves.cont", "1", {}); }).find("\"m.leaves.count\"") !=
        std::string::npos);
  same_error([](auto& c) { c.apply_text("m.lr.x", "1", {}); });
  same_error([](auto& c) { c.apply_text("m.leaves.count", "-1", {}); });
  same_error([](auto& c) { c.apply_text("m", "3", {}); });
  same_error([](auto& c) { c.apply_file(YAML::Load("m:\n  leaves:\n    smal: a\n"), "d.yaml"); });
  same_error([](auto& c) { c.apply_file(YAML::Load("m:\n  flag: maybe\n"), "d.yaml"); });
  same_error([](auto& c) { c.apply_file(YAML::Load("m:\n  leaves: 3\n"), "d.yaml"); });
  same_error([](auto& c) { c.apply_file(YAML::Load("e:\n  x: 1\n"), "d.yaml"); });
}
