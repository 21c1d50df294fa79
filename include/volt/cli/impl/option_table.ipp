#pragma once
// Definitions of <volt/cli/option_table.hpp>: included by the header in header-only mode, compiled
// once under VOLT_SEPARATE_COMPILATION (include/volt/impl/src_cli.hpp, volt::compiled's second TU).
// Each operation visits a leaf's typed pointer and calls value.hpp's read_scalar / scalar_text /
// type_name for that type, so they are instantiated here, once, for the table's fixed types.
#include <volt/cli/option_table.hpp>

#include <cstring>

#include <fmt/format.h>

#include <volt/cli/config.hpp>

namespace volt::cli {

namespace detail {



VOLT_INLINE std::int64_t enum_integer(const EnumLeaf& e) {
  auto read = [&]<class I>(I) {
    I v{};
    std::memcpy(&v, e.object, sizeof(I));
    return static_cast<std::int64_t>(v);
  };
  switch (e.size) {
    case 1: return e.is_signed ? read(std::int8_t{}) : read(std::uint8_t{});
    case 2: return e.is_signed ? read(std::int16_t{}) : read(std::uint16_t{});
    case 4: return e.is_signed ? read(std::int32_t{}) : read(std::uint32_t{});
    default: return e.is_signed ? read(std::int64_t{}) : read(std::uint64_t{});
  }
}

VOLT_INLINE void set_enum_integer(const EnumLeaf& e, std::int64_t value) {
  auto write = [&]<class I>(I) {
    const I v = static_cast<I>(value);
    std::memcpy(e.object, &v, sizeof(I));
  };
  switch (e.size) {
    case 1: return e.is_signed ? write(std::int8_t{}) : write(std::uint8_t{});
    case 2: return e.is_signed ? write(std::int16_t{}) : write(std::uint16_t{});
    case 4: return e.is_signed ? write(std::int32_t{}) : write(std::uint32_t{});
    default: return e.is_signed ? write(std::int64_t{}) : write(std::uint64_t{});
  }
}

VOLT_INLINE std::string leaf_text(const LeafRef& leaf) {
  return std::visit(
      [](const auto& p) -> std::string {
        if constexpr (std::is_same_v<std::remove_cvref_t<decltype(p)>, EnumLeaf>) {
          const std::int64_t v = enum_integer(p);
          for (std::size_t i = 0; i < p.values.size(); ++i)
            if (p.values[i] == v) return std::string(p.names[i]);
          return "null";
        } else {
          return scalar_text(*p);
        }
      },
      leaf);
}

VOLT_INLINE std::string leaf_type(const LeafRef& leaf) {
  return std::visit(
      [](const auto& p) -> std::string {
        using P = std::remove_cvref_t<decltype(p)>;
        if constexpr (std::is_same_v<P, EnumLeaf>) return join_names(p.names, "|");
        else return type_name<std::remove_pointer_t<P>>();
      },
      leaf);
}

VOLT_INLINE bool leaf_takes_raw_text(const LeafRef& leaf) {
  return std::visit(
      [](const auto& p) {
        using P = std::remove_cvref_t<decltype(p)>;
        if constexpr (std::is_same_v<P, EnumLeaf>) return false;
        else return takes_raw_text<std::remove_pointer_t<P>>();
      },
      leaf);
}

VOLT_INLINE void read_leaf(const YAML::Node& n, const LeafRef& leaf, const std::string& key, const Source& src) {
  std::visit(
      [&](const auto& p) {
        if constexpr (std::is_same_v<std::remove_cvref_t<decltype(p)>, EnumLeaf>)
          set_enum_integer(p, p.values[read_choice(n, key, src, p.names)]);
        else
          read_scalar(n, *p, key, src);
      },
      leaf);
}



}  // namespace detail

VOLT_INLINE std::size_t OptionTable::push(std::size_t parent, const char* name, std::optional<detail::LeafRef> leaf) {
  if (parent == no_parent) entries_.push_back({name, name, 0, std::move(leaf)});
  else entries_.push_back({detail::join(entries_[parent].key, name), name, entries_[parent].depth + 1, std::move(leaf)});
  return entries_.size() - 1;
}

VOLT_INLINE std::size_t OptionTable::push_heading(std::size_t parent, const char* name) {
  return push(parent, name, std::nullopt);
}

VOLT_INLINE void OptionTable::push_enum(std::size_t parent, const char* name, const detail::EnumLeaf& leaf) {
  push(parent, name, detail::LeafRef(leaf));
}

template <class P>
void OptionTable::push_leaf(std::size_t parent, const char* name, P* field) {
  push(parent, name, detail::LeafRef(std::in_place_type<P*>, field));
}

// The separately compiled mode's TU defines push_leaf for each of LeafRef's pointer types; a
// user's TU sees only its declaration, and calls it.
#if defined(VOLT_SEPARATE_COMPILATION)
template void OptionTable::push_leaf(std::size_t, const char*, bool*);
template void OptionTable::push_leaf(std::size_t, const char*, int*);
template void OptionTable::push_leaf(std::size_t, const char*, long*);
template void OptionTable::push_leaf(std::size_t, const char*, long long*);
template void OptionTable::push_leaf(std::size_t, const char*, unsigned*);
template void OptionTable::push_leaf(std::size_t, const char*, unsigned long*);
template void OptionTable::push_leaf(std::size_t, const char*, unsigned long long*);
template void OptionTable::push_leaf(std::size_t, const char*, float*);
template void OptionTable::push_leaf(std::size_t, const char*, double*);
template void OptionTable::push_leaf(std::size_t, const char*, std::string*);
template void OptionTable::push_leaf(std::size_t, const char*, std::filesystem::path*);
template void OptionTable::push_leaf(std::size_t, const char*, BatchCount*);
template void OptionTable::push_leaf(std::size_t, const char*, FastDevRun*);
template void OptionTable::push_leaf(std::size_t, const char*, SeedEverything*);
template void OptionTable::push_leaf(std::size_t, const char*, detail::Seconds*);
template void OptionTable::push_leaf(std::size_t, const char*, std::optional<bool>*);
template void OptionTable::push_leaf(std::size_t, const char*, std::optional<int>*);
template void OptionTable::push_leaf(std::size_t, const char*, std::optional<long>*);
template void OptionTable::push_leaf(std::size_t, const char*, std::optional<long long>*);
template void OptionTable::push_leaf(std::size_t, const char*, std::optional<unsigned>*);
template void OptionTable::push_leaf(std::size_t, const char*, std::optional<unsigned long>*);
template void OptionTable::push_leaf(std::size_t, const char*, std::optional<unsigned long long>*);
template void OptionTable::push_leaf(std::size_t, const char*, std::optional<float>*);
template void OptionTable::push_leaf(std::size_t, const char*, std::optional<double>*);
template void OptionTable::push_leaf(std::size_t, const char*, std::optional<std::string>*);
template void OptionTable::push_leaf(std::size_t, const char*, std::optional<std::filesystem::path>*);
template void OptionTable::push_leaf(std::size_t, const char*, std::optional<detail::Seconds>*);
template void OptionTable::add_group(const std::string&, SeedEverything&);
template void OptionTable::add_group(const std::string&, std::optional<std::string>&);
#endif

VOLT_INLINE std::size_t OptionTable::root(std::string_view name) const {
  for (std::size_t i = 0; i < entries_.size(); ++i)
    if (entries_[i].depth == 0 && entries_[i].name == name) return i;
  return entries_.size();
}

VOLT_INLINE std::size_t OptionTable::child(std::size_t index, std::string_view name) const {
  const int depth = entries_[index].depth;
  for (std::size_t i = index + 1; i < entries_.size() && entries_[i].depth > depth; ++i)
    if (entries_[i].depth == depth + 1 && entries_[i].name == name) return i;
  return entries_.size();
}

VOLT_INLINE void OptionTable::describe(std::size_t root, std::vector<OptionInfo>& options) const {
  const int depth = entries_[root].depth;
  for (std::size_t i = root; i < entries_.size() && (i == root || entries_[i].depth > depth); ++i)
    if (entries_[i].leaf)
      detail::add_option(options, entries_[i].key, detail::leaf_type(*entries_[i].leaf),
                         detail::leaf_text(*entries_[i].leaf));
}

VOLT_INLINE void OptionTable::apply_node(std::size_t index, const YAML::Node& n, const std::string& key,
                                         const std::string& file, const std::vector<OptionInfo>& options,
                                         std::map<std::string, std::string>& provenance) const {
  const OptionEntry& entry = entries_[index];
  if (entry.leaf) {
    const Source src = Source::file(file, n);
    detail::read_leaf(n, *entry.leaf, key, src);
    provenance[key] = src.where;
    return;
  }
  if (detail::is_null(n)) return;
  if (!detail::is_map(n)) throw detail::wrong_type(key, Source::file(file, n), n, "a mapping of its options");
  for (const auto& e : detail::map_entries(n)) {
    const std::size_t field = child(index, e.name);
    if (field == entries_.size()) throw detail::unknown_key(options, detail::join(key, e.name), Source::file(file, *e.key));
    apply_node(field, *e.value, detail::join(key, e.name), file, options, provenance);
  }
}

VOLT_INLINE void OptionTable::apply_text(std::size_t root, const std::string& key, std::string_view rest,
                                         const std::string& text, const Source& src,
                                         const std::vector<OptionInfo>& options,
                                         std::map<std::string, std::string>& provenance) const {
  std::size_t index = root;
  while (!rest.empty()) {
    if (entries_[index].leaf) throw detail::unknown_key(options, key, src);
    const auto dot = rest.find('.');
    index = child(index, rest.substr(0, dot));
    if (index == entries_.size()) throw detail::unknown_key(options, key, src);
    rest = dot == std::string_view::npos ? std::string_view{} : rest.substr(dot + 1);
  }
  const OptionEntry& entry = entries_[index];
  const detail::OwnedNode owned =
      detail::value_node(text, entry.leaf && detail::leaf_takes_raw_text(*entry.leaf), key, src);
  if (entry.leaf) {
    detail::read_leaf(*owned, *entry.leaf, key, src);
    provenance[key] = src.where;
  } else {
    apply_node(index, *owned, key, src.where, options, provenance);
  }
}

VOLT_INLINE void OptionTable::apply_file(const YAML::Node& root, const std::string& file,
                                         const std::vector<OptionInfo>& options,
                                         std::map<std::string, std::string>& provenance) const {
  if (!detail::check_config_root(root, file)) return;
  for (const auto& entry : detail::map_entries(root)) {
    const std::size_t index = this->root(entry.name);
    if (index == entries_.size()) throw detail::unknown_key(options, entry.name, Source::file(file, *entry.key));
    apply_node(index, *entry.value, entry.name, file, options, provenance);
  }
}

VOLT_INLINE void OptionTable::apply_flag(const std::string& key, const std::string& text, const Source& src,
                                         const std::vector<OptionInfo>& options,
                                         std::map<std::string, std::string>& provenance) const {
  const auto dot = key.find('.');
  const std::size_t index = root(std::string_view(key).substr(0, dot));
  if (index == entries_.size()) throw detail::unknown_key(options, key, src);
  const std::string rest = dot == std::string::npos ? std::string{} : key.substr(dot + 1);
  apply_text(index, key, rest, text, src, options, provenance);
}

VOLT_INLINE void OptionTable::apply_env(const std::map<std::string, std::string>& env, const std::string& prefix,
                                        const std::vector<OptionInfo>& options,
                                        std::map<std::string, std::string>& provenance) const {
  for (const auto& [key, value, source] : detail::env_values(options, env, prefix))
    apply_flag(key, value, source, options, provenance);
  std::vector<std::string> groups;
  for (const auto& e : entries_)
    if (e.depth == 0) groups.push_back(e.name);
  detail::check_env_names(options, env, prefix, groups);
}

VOLT_INLINE std::string OptionTable::yaml() const {
  std::string out;
  for (std::size_t i = 0; i < entries_.size(); ++i)
    if (entries_[i].depth == 0) emit(i, out, 0);
  return out;
}

VOLT_INLINE void OptionTable::emit(std::size_t index, std::string& out, int indent) const {
  const OptionEntry& entry = entries_[index];
  if (entry.leaf) {
    detail::emit_line(out, indent, entry.name, detail::leaf_text(*entry.leaf));
    return;
  }
  std::string body;
  for (std::size_t i = index + 1; i < entries_.size() && entries_[i].depth > entry.depth; ++i)
    if (entries_[i].depth == entry.depth + 1) emit(i, body, indent + 2);
  detail::emit_block(out, indent, entry.name, body);
}

}  // namespace volt::cli
