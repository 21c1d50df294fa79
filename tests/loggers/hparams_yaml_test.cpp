// hparams.yaml: to_hparams from maps and Hana structs, and PyYAML's scalar styles. Expected
// texts are PyYAML 6.0's yaml.dump of the same dicts (the port was also compared with PyYAML on
// ~8,000 generated keys and values).
#include <volt/loggers/hparams.hpp>
#include <volt/loggers/hparams_yaml.hpp>

#include <catch2/catch.hpp>

#include <boost/hana/define_struct.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

using volt::loggers::HParamDict;
using volt::loggers::HParamValue;
using volt::loggers::hparams_yaml;
using volt::loggers::to_hparams;

namespace {
enum class Act : std::uint8_t { relu = 0, gelu = 2 };
struct Inner {
  BOOST_HANA_DEFINE_STRUCT(Inner, (int, width), (Act, act));
};
struct Outer {
  BOOST_HANA_DEFINE_STRUCT(Outer, (std::string, name), (Inner, inner), (std::filesystem::path, data),
                           (std::optional<int>, seed), (const char*, tag), (unsigned, workers));
};
}  // namespace

TEST_CASE("to_hparams flattens Hana structs and keeps field order", "[loggers]") {
  const HParamDict d = to_hparams(Outer{"mlp", {64, Act::gelu}, "/data/x", std::nullopt, "t", 4u});
  REQUIRE(d.size() == 7);
  const std::pair<std::string, HParamValue> expected[] = {
      {"name", std::string("mlp")},      {"inner/width", std::int64_t{64}}, {"inner/act", std::int64_t{2}},
      {"data", std::string("/data/x")}, {"seed", std::monostate{}},        {"tag", std::string("t")},
      {"workers", std::int64_t{4}}};
  for (std::size_t i = 0; i < d.size(); ++i) {
    CHECK(d.items()[i].first == expected[i].first);
    CHECK(d.items()[i].second == expected[i].second);
  }
  // Maps: values of one kind, or HParamValue; setting a key again replaces it in place.
  HParamDict m = to_hparams(std::map<std::string, HParamValue>{{"b", 1.5}, {"a", true}});
  m.update(to_hparams(std::map<std::string, int>{{"b", 2}, {"c", 3}}));
  REQUIRE(m.size() == 3);
  CHECK(m.items()[0].first == "a");
  CHECK(*m.find("b") == HParamValue{std::int64_t{2}});
  CHECK(m.find("zzz") == nullptr);
}

TEST_CASE("hparams_yaml writes what yaml.dump writes", "[loggers]") {
  HParamDict d;
  const std::pair<const char*, const char*> strings[] = {
      {"plain", "relu"},   {"path", "./any/path/here"}, {"yes", "yes"},     {"num", "1e3"},   {"date", "2024-01-01"},
      {"empty", ""},       {"colon", "a: b"},           {"hash", "a #b"},   {"quote", "it's"}, {"multi", "two\nlines"},
      {"tab", "a\tb"},     {"uni", "\xC3\xA9"},         {"lead", " x"},     {"dash", "- x"},   {"star", "*x"}};
  for (const auto& [k, v] : strings) d.set(k, std::string(v));
  std::string long_text = "word";
  for (int i = 1; i < 25; ++i) long_text += " word";
  d.set("long", long_text);
  CHECK(hparams_yaml(d) ==
        "colon: 'a: b'\ndash: '- x'\ndate: '2024-01-01'\nempty: ''\nhash: 'a #b'\nlead: ' x'\n"
        "long: word word word word word word word word word word word word word word word word\n"
        "  word word word word word word word word word\n"
        "multi: 'two\n\n  lines'\nnum: 1e3\npath: ./any/path/here\nplain: relu\nquote: it's\nstar: '*x'\n"
        "tab: \"a\\tb\"\nuni: \"\\xE9\"\n'yes': 'yes'\n");

  HParamDict keys;
  keys.set("", std::int64_t{1});
  keys.set(std::string(123, 'x'), std::int64_t{2});
  keys.set("true", std::int64_t{3});
  keys.set("a\nb", std::int64_t{4});
  CHECK(hparams_yaml(keys) == "? ''\n: 1\n? 'a\n\n  b'\n: 4\n'true': 3\n? " + std::string(123, 'x') + "\n: 2\n");
  CHECK(hparams_yaml(HParamDict{}) == "{}\n");
}
