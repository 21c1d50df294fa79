// hparams.yaml: to_hparams from maps and Hana structs, and PyYAML's scalar styles. Expected
// texts are PyYAML 6.0's yaml.dump of the same dicts (the port was also compared with PyYAML on
// ~8,000 generated keys and values).
#include <volt/reflect/hparams.hpp>
#include <volt/reflect/hparams_yaml.hpp>

#include <catch2/catch.hpp>

#include <boost/hana/adapt_struct.hpp>
#include <boost/hana/define_struct.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <regex>
#include <string>
#include <vector>

using volt::reflect::HParamDict;
using volt::reflect::HParamValue;
using volt::reflect::hparams_yaml;
using volt::reflect::to_hparams;

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

// Lightning's GAN: `def __init__(self, latent_dim=100, lr=0.0002, b1=0.5, b2=0.999)`. In C++ the
// defaults are default member initializers, which BOOST_HANA_DEFINE_STRUCT cannot carry;
// BOOST_HANA_ADAPT_STRUCT (at global scope) reflects such a struct as it is.
struct GanHParams {
  std::int64_t latent_dim = 100;
  double lr = 0.0002;
  double b1 = 0.5;
  double b2 = 0.999;
  std::optional<std::string> note{};
};
BOOST_HANA_ADAPT_STRUCT(GanHParams, latent_dim, lr, b1, b2, note);

TEST_CASE("hyper-parameter structs with default member initializers reflect through BOOST_HANA_ADAPT_STRUCT", "[loggers][reflect]") {
  const GanHParams defaults;  // the defaults, as Python's keyword defaults
  const HParamDict dict = to_hparams(defaults);
  CHECK(hparams_yaml(dict) == "b1: 0.5\nb2: 0.999\nlatent_dim: 100\nlr: 0.0002\nnote: null\n");
  const GanHParams custom{.latent_dim = 64, .lr = 1e-3};  // designated initializers keep the other defaults
  const auto back = volt::reflect::from_hparams<GanHParams>(to_hparams(custom));
  CHECK(back.latent_dim == 64);
  CHECK(back.lr == 1e-3);
  CHECK(back.b1 == 0.5);
  CHECK(back.b2 == 0.999);
  CHECK_FALSE(back.note.has_value());
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

// resolves_to_non_string is a hand-written scan of PyYAML's implicit resolvers (std::regex cost
// every TU that included the header). Here it is compared with those regular expressions, as
// the header used them before, on every short string over the characters they care about and on
// random strings built from the tokens the patterns are made of.
TEST_CASE("resolves_to_non_string agrees with PyYAML's resolver patterns", "[loggers]") {
  const std::regex pyyaml(
      "yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF"
      "|[-+]?(?:[0-9][0-9_]*)\\.[0-9_]*(?:[eE][-+][0-9]+)?|\\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?"
      "|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\\.[0-9_]*|[-+]?\\.(?:inf|Inf|INF)|\\.(?:nan|NaN|NAN)"
      "|[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+"
      "|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+"
      "|<<|~|null|Null|NULL|="
      "|[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"
      "|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \\t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9]"
      "(?:\\.[0-9]*)?(?:[ \\t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?");
  const auto regex_says = [&](const std::string& s) { return s.empty() || std::regex_match(s, pyyaml); };
  std::size_t checked = 0, non_strings = 0;
  const auto agree = [&](const std::string& s) {
    const bool expected = regex_says(s);
    if (volt::reflect::detail::yaml::resolves_to_non_string(s) != expected) {
      FAIL_CHECK("\"" << s << "\": the regex says " << expected);
    }
    ++checked;
    non_strings += expected ? 1 : 0;
  };
  // Every string of up to 4 characters over these 14.
  const std::string alphabet = "0169_.:-+eExbZ";
  std::vector<std::string> frontier{""};
  for (int length = 0; length < 4; ++length) {
    std::vector<std::string> next;
    for (const auto& s : frontier)
      for (char c : alphabet) next.push_back(s + c);
    for (const auto& s : next) agree(s);
    frontier = std::move(next);
  }
  // Random strings of 1..8 tokens.
  const std::vector<std::string> tokens = {
      "0",  "1",  "5",   "6",   "9",   "00",  "12",  "59",  "60",  "2024", "_",    ".",    ":",   "-",   "+",
      "e",  "E",  "e+",  "e-3", "0x",  "0b",  "0o",  "ff",  "G",   "inf",  ".inf", ".nan", "NaN", ".Inf", "T",
      "t",  " ",  "\t", "Z",   "yes", "No",  "ON",  "off", "~",   "<<",   "=",    "null", "x",   "1_0",
      "2001-12-14", "21:59:43", ".10"};
  std::mt19937 rng(20261122);
  std::uniform_int_distribution<std::size_t> count(1, 8), pick(0, tokens.size() - 1);
  for (int i = 0; i < 40000; ++i) {
    std::string s;
    for (std::size_t n = count(rng); n > 0; --n) s += tokens[pick(rng)];
    agree(s);
  }
  // Known spellings of each kind.
  for (const char* s : {"1e3", "1.0e+3", "-.5", ".5", "190:20:30.15", "+685_230", "0o14", "014", "0b1010_0111",
                        "0xC", "190:20:30", "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10 -5",
                        "2001-12-15 2:59:43.10", "2002-12-14", "1:60", "1:99", "12:3.", "Yes", "yEs", "nul", ".NaN"})
    agree(s);
  CHECK(checked > 50000);
  CHECK(non_strings > 1000);  // the corpus reaches the non-string side often
}
