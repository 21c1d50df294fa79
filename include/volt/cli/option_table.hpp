#pragma once
// An options struct as a table of its leaves: the one walk of a BOOST_HANA struct's fields that
// the CLI does per struct type. Each entry is a nested struct's heading or a leaf: its dotted key,
// its field name, its depth and a typed pointer to the field, one of a fixed set of types (a
// std::variant of pointers; an enum is its names, its values as integers and its bytes). Every
// operation on the options (listing them for --help, reading YAML, flags and environment
// variables, writing the config back) is then non-template code over the table, compiled once
// (cli/impl/option_table.ipp), instead of a template instantiated per field and per operation.
//
// A struct with a field the table has no type for (a std::variant of structs, a short, an
// optional enum, ...) is not tabled: cli::Config walks it with its own templates (config.hpp).
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <boost/hana/accessors.hpp>
#include <boost/hana/first.hpp>
#include <boost/hana/for_each.hpp>
#include <boost/hana/pair.hpp>
#include <boost/hana/second.hpp>
#include <boost/hana/string.hpp>
#include <boost/hana/tuple.hpp>

#include <volt/cli/value.hpp>
#include <volt/detail/config.hpp>

namespace volt::cli {

struct OptionInfo;

namespace detail {

// An enum field: its names and values (as integers) in enum_names' order, and its object's bytes
// (read and written with memcpy through an integer of the same size and signedness).
struct EnumLeaf {
  std::span<const std::string_view> names;
  std::span<const std::int64_t> values;
  std::byte* object = nullptr;
  std::size_t size = 0;
  bool is_signed = true;
};

using Seconds = std::chrono::duration<double>;

// The leaf types a table holds, each by pointer to the user's field.
using LeafRef =
    std::variant<bool*, int*, long*, long long*, unsigned*, unsigned long*, unsigned long long*, float*, double*,
                 std::string*, std::filesystem::path*, BatchCount*, FastDevRun*, SeedEverything*, Seconds*,
                 std::optional<bool>*, std::optional<int>*, std::optional<long>*, std::optional<long long>*,
                 std::optional<unsigned>*, std::optional<unsigned long>*, std::optional<unsigned long long>*,
                 std::optional<float>*, std::optional<double>*, std::optional<std::string>*,
                 std::optional<std::filesystem::path>*, std::optional<Seconds>*, EnumLeaf>;

template <class T, class V>
struct is_leaf_alternative;
template <class T, class... A>
struct is_leaf_alternative<T, std::variant<A...>> : std::bool_constant<(std::is_same_v<T*, A> || ...)> {};

template <class E>
constexpr auto enum_value_list() {
  constexpr auto& values = enum_names<E>::values;
  std::array<std::int64_t, std::size(values)> out{};
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<std::int64_t>(values[i].second);
  return out;
}
template <class E>
inline constexpr auto enum_value_list_v = enum_value_list<E>();

// A leaf's value as YAML, its type as --help shows it, whether it takes a flag's text as it is,
// and reading it from a node: value.hpp's templates, for the table's fixed types.
VOLT_INLINE std::string leaf_text(const LeafRef& leaf);
VOLT_INLINE std::string leaf_type(const LeafRef& leaf);
VOLT_INLINE bool leaf_takes_raw_text(const LeafRef& leaf);
VOLT_INLINE void read_leaf(const YAML::Node& n, const LeafRef& leaf, const std::string& key, const Source& src);
VOLT_INLINE std::int64_t enum_integer(const EnumLeaf& e);
VOLT_INLINE void set_enum_integer(const EnumLeaf& e, std::int64_t value);

template <class T>
constexpr bool tableable();

// From the type of hana::accessors<T>() alone: no algorithm, no lambda is instantiated.
template <class T, class... Names, class... Accessors>
constexpr bool fields_tableable(const boost::hana::tuple<boost::hana::pair<Names, Accessors>...>*) {
  return (tableable<std::remove_cvref_t<std::invoke_result_t<const Accessors&, T&>>>() && ...);
}
template <class T>
constexpr bool struct_tableable() {
  return fields_tableable<T>(static_cast<const decltype(boost::hana::accessors<T>())*>(nullptr));
}

// Whether the table holds T: a leaf of its fixed types, or a struct of such fields.
template <class T>
constexpr bool tableable() {
  if constexpr (HanaStruct<T>) return struct_tableable<T>();
  else if constexpr (NamedEnum<T>) return sizeof(T) <= sizeof(std::int64_t);
  else return is_leaf_alternative<T, LeafRef>::value;
}

}  // namespace detail

// One entry: a struct's heading (no leaf) or a leaf.
struct OptionEntry {
  std::string key;        // "trainer.max_epochs"
  std::string name;       // "max_epochs" (a group's root: its group name)
  int depth = 0;          // 0: a group's root
  std::optional<detail::LeafRef> leaf;
};

// The entries of the tabled groups, each group's root followed by its fields, depth first.
class OptionTable {
 public:
  // Walks `value` once: the group `name`'s root and, for a struct, its fields. Defined below the
  // class, not inline, so that `extern template` keeps a TU from walking volt's own options
  // structs again (cli/options_reflection.hpp; volt::compiled walks them once).
  template <class T>
  void add_group(const std::string& name, T& value);

  const std::vector<OptionEntry>& entries() const noexcept { return entries_; }

  // The root entry of group `name` (entries().size() when it is not tabled).
  VOLT_INLINE std::size_t root(std::string_view name) const;

  // ---- the operations, non-template (cli/impl/option_table.ipp) ----

  // The group's leaves as --help lists them, appended to `options`.
  VOLT_INLINE void describe(std::size_t root, std::vector<OptionInfo>& options) const;
  // A YAML node for the entry at `index` (a group's root or a field), from file (or flag) `file`;
  // `provenance` gets each key it sets. `unknown_key` errors name the closest of `options`.
  VOLT_INLINE void apply_node(std::size_t index, const YAML::Node& n, const std::string& key, const std::string& file,
                              const std::vector<OptionInfo>& options,
                              std::map<std::string, std::string>& provenance) const;
  // One flag's or environment variable's text for `key` inside the group at `root`.
  VOLT_INLINE void apply_text(std::size_t root, const std::string& key, std::string_view rest, const std::string& text,
                              const Source& src, const std::vector<OptionInfo>& options,
                              std::map<std::string, std::string>& provenance) const;
  // The group as YAML at `indent`.
  VOLT_INLINE void emit(std::size_t index, std::string& out, int indent) const;

  // ---- a whole configuration whose groups are all tabled: cli::Config's layers and output ----
  // (the groups are then the table's roots, in order; errors as cli::Config's own walk gives them).

  // A parsed config file: a mapping of group names.
  VOLT_INLINE void apply_file(const YAML::Node& root, const std::string& file, const std::vector<OptionInfo>& options,
                              std::map<std::string, std::string>& provenance) const;
  // A flag's (or an environment variable's) value for `key` (group.field...).
  VOLT_INLINE void apply_flag(const std::string& key, const std::string& text, const Source& src,
                              const std::vector<OptionInfo>& options,
                              std::map<std::string, std::string>& provenance) const;
  // The <prefix>_* variables of `env` that name options, then the check of the others.
  VOLT_INLINE void apply_env(const std::map<std::string, std::string>& env, const std::string& prefix,
                             const std::vector<OptionInfo>& options,
                             std::map<std::string, std::string>& provenance) const;
  // Every group as YAML, in order.
  VOLT_INLINE std::string yaml() const;

 private:
  static constexpr std::size_t no_parent = static_cast<std::size_t>(-1);

  // The only per-field code: a field's name and its typed pointer, handed to push_leaf (defined
  // in the .ipp for the LeafRef types and, in the separately compiled mode, instantiated there only).
  template <class T>
  void add_fields(std::size_t parent, T& value) {
    boost::hana::for_each(boost::hana::accessors<T>(), [&](auto accessor) {
      const char* name = boost::hana::to<const char*>(boost::hana::first(accessor));
      auto& field = boost::hana::second(accessor)(value);
      if constexpr (detail::HanaStruct<std::remove_cvref_t<decltype(field)>>)
        add_fields(push_heading(parent, name), field);
      else
        add_leaf(parent, name, field);
    });
  }
  template <class T>
  void add_leaf(std::size_t parent, const char* name, T& value) {
    if constexpr (detail::NamedEnum<T>)
      push_enum(parent, name,
                detail::EnumLeaf{detail::enum_name_list_v<T>, detail::enum_value_list_v<T>,
                                 reinterpret_cast<std::byte*>(&value), sizeof(T),
                                 std::is_signed_v<std::underlying_type_t<T>>});
    else
      push_leaf(parent, name, &value);
  }
  // Appends an entry under `parent` (no_parent: a group's root); returns its index.
  VOLT_INLINE std::size_t push(std::size_t parent, const char* name, std::optional<detail::LeafRef> leaf);
  VOLT_INLINE std::size_t push_heading(std::size_t parent, const char* name);
  VOLT_INLINE void push_enum(std::size_t parent, const char* name, const detail::EnumLeaf& leaf);
  template <class P>
  void push_leaf(std::size_t parent, const char* name, P* field);
  // The children of the struct entry at `index`, by name (entries().size() when none is called so).
  VOLT_INLINE std::size_t child(std::size_t index, std::string_view name) const;

  std::vector<OptionEntry> entries_;
};

template <class T>
void OptionTable::add_group(const std::string& name, T& value) {
  static_assert(detail::tableable<T>());
  if constexpr (detail::HanaStruct<T>) add_fields(push_heading(no_parent, name.c_str()), value);
  else add_leaf(no_parent, name.c_str(), value);
}

#if defined(VOLT_SEPARATE_COMPILATION)
// The groups every LightningCLI has besides the structs: compiled once (cli/impl/option_table.ipp).
extern template void OptionTable::add_group(const std::string&, SeedEverything&);
extern template void OptionTable::add_group(const std::string&, std::optional<std::string>&);
#endif

}  // namespace volt::cli

// The operations' definitions use the CLI's messages and YAML layout: header-only mode gets them
// with config.hpp's (which includes this header first).
#if !defined(VOLT_SEPARATE_COMPILATION)
#include <volt/cli/config.hpp>
#endif
