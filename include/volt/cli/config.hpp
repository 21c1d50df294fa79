#pragma once
// The CLI's configuration as a tree of named groups (`trainer`, `model`, `data`, one per
// callback, ...), each a BOOST_HANA-reflected options struct: every key is known at compile
// time, so options are listed, read from YAML / JSON files, the environment and flags, and
// written back as YAML by walking the structs, with no table of names kept by hand.
//
// Precedence, as the caller applies the layers: the structs' defaults, then each --config file
// in order, then VOLT_<GROUP>__<FIELD> environment variables, then --<group>.<field> flags.
// An unknown key, a value of the wrong type or out of range throws cli::Error naming the key,
// where it came from (file:line, variable, flag) and the closest valid key.
//
// What does not depend on the groups' types (reading a node's entries, the error messages, the
// environment's names, a YAML line) is in non-template functions (cli/impl/config.ipp). A group
// whose leaves all have one of cli::OptionTable's types is walked once into that table, and every
// operation on it is non-template code (cli/impl/option_table.ipp); the templates here walk only
// the other groups (a std::variant of structs, a field type the table lacks), once per
// operation. They only name YAML::Node, which value.hpp forward-declares.
#include <algorithm>
#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <boost/hana/accessors.hpp>
#include <boost/hana/first.hpp>
#include <boost/hana/for_each.hpp>
#include <boost/hana/second.hpp>
#include <boost/hana/string.hpp>
#include <fmt/format.h>

#include <volt/cli/option_table.hpp>
#include <volt/cli/value.hpp>
#include <volt/detail/config.hpp>

namespace volt::cli {

namespace detail {
// A field name as a template argument, so a diagnostic's note prints it: fixed_string<3>{"lr"}.
template <std::size_t N>
struct fixed_string {
  char chars[N];
};
template <class HanaString>
struct field_name;
template <char... c>
struct field_name<boost::hana::string<c...>> {
  static constexpr fixed_string<sizeof...(c) + 1> value{{c..., '\0'}};
};
}  // namespace detail

namespace diagnostic {
// Declared here so g++'s note names the struct, the field and the field's type.
template <class Struct, detail::fixed_string Field, class FieldType>
struct cli_cannot_read_field {
  static constexpr bool value = false;
};
}  // namespace diagnostic

// One group of the configuration: `trainer`, `model`, `model_checkpoint`, ...
template <class T>
struct Named {
  std::string name;
  T& value;
};

// One option as --help lists it.
struct OptionInfo {
  std::string key;      // "trainer.max_epochs"
  std::string type;     // "int | null"
  std::string value;    // the current (default) value as YAML
  std::string note;     // e.g. the alternatives a variant field belongs to
};

namespace detail {

template <class Struct, class F>
void for_each_field(Struct& s, F&& f) {
  using S = std::remove_const_t<Struct>;
  boost::hana::for_each(boost::hana::accessors<S>(), [&](auto accessor) {
    using Name = std::remove_cvref_t<decltype(boost::hana::first(accessor))>;
    auto& field = boost::hana::second(accessor)(s);
    using Field = std::remove_cvref_t<decltype(field)>;
    if constexpr (is_supported_field<Field>()) {
      f(std::string_view(boost::hana::to<const char*>(Name{})), field);
    } else {
      static_assert(diagnostic::cli_cannot_read_field<S, field_name<Name>::value, Field>::value,
                    "volt: cli: this options field's type cannot be read from the command line or a config file "
                    "(the note names the struct, the field and its type). Use bool, an integer, a floating-point "
                    "number, std::string, std::filesystem::path, an enum with volt::cli::enum_names, std::optional "
                    "of those, volt::BatchCount, volt::FastDevRun, std::chrono::duration, a nested BOOST_HANA "
                    "struct, or a std::variant of BOOST_HANA structs that each have a static cli_name.");
    }
  });
}

VOLT_INLINE std::string join(const std::string& prefix, std::string_view name);

VOLT_INLINE std::size_t edit_distance(std::string_view a, std::string_view b);

template <class T>
std::string_view alternative_name() {
  return T::cli_name;
}

// "Adam" or a LightningCLI class_path such as "torch.optim.Adam": its last component.
VOLT_INLINE std::string_view class_name(std::string_view class_path);

template <class... A>
std::string alternative_names(const std::variant<A...>*) {
  std::string out;
  ((out += fmt::format("{}{}", out.empty() ? "" : ", ", alternative_name<A>())), ...);
  return out;
}

// Sets `v` to the alternative called `name`, keeping its values when it already holds it.
template <class... A>
void select_alternative(std::variant<A...>& v, std::string_view name, const std::string& key, const Source& src) {
  bool found = false;
  auto try_one = [&]<class Alt>(Alt*) {
    if (found || alternative_name<Alt>() != class_name(name)) return;
    found = true;
    if (!std::holds_alternative<Alt>(v)) v = Alt{};
  };
  (try_one(static_cast<A*>(nullptr)), ...);
  if (!found)
    throw Error(fmt::format("volt: cli: {}: key \"{}\": \"{}\" is not one of the choices: {}.", src.where, key, name,
                            alternative_names(&v)));
}

}  // namespace detail

// The closest of `candidates` to `key`, for "did you mean" (empty when none is near).
VOLT_INLINE std::string closest_key(std::string_view key, const std::vector<std::string>& candidates);

namespace detail {

// LightningCLI's default_env name of a key: VOLT_TRAINER__MAX_EPOCHS for trainer.max_epochs.
VOLT_INLINE std::string env_name(const std::string& prefix, const std::string& key);
// "unknown key ...; the closest valid key is ..." among the options at the key's depth.
VOLT_INLINE Error unknown_key(const std::vector<OptionInfo>& options, const std::string& key, const Source& src);
// A config file's root: null (nothing to apply), else it must be a mapping.
VOLT_INLINE bool check_config_root(const YAML::Node& root, const std::string& file);
// The environment variables that set options, in the options' order: key, value, source.
struct EnvValue {
  std::string key, value;
  Source source;
};
VOLT_INLINE std::vector<EnvValue> env_values(const std::vector<OptionInfo>& options,
                                             const std::map<std::string, std::string>& env, const std::string& prefix);
// A variable that starts like a group (VOLT_TRAINER__...) but names no option throws cli::Error.
VOLT_INLINE void check_env_names(const std::vector<OptionInfo>& options, const std::map<std::string, std::string>& env,
                                 const std::string& prefix, const std::vector<std::string>& groups);
// A variant's {class_path:, init_args:} mapping may hold nothing else.
VOLT_INLINE void check_class_path_keys(const YAML::Node& n, const std::string& key, const std::string& file);
// One more option, as --help lists it.
VOLT_INLINE void add_option(std::vector<OptionInfo>& options, const std::string& key, std::string type,
                            std::string value);
// One line of the YAML output, and a struct's block (`name: {}` when it has no fields).
VOLT_INLINE void emit_line(std::string& out, int indent, std::string_view name, const std::string& value);
VOLT_INLINE void emit_block(std::string& out, int indent, std::string_view name, const std::string& body);
// The dotted keys of `options`, in order (TabledConfig and Config list the same way).
VOLT_INLINE std::vector<std::string> option_keys(const std::vector<OptionInfo>& options);

}  // namespace detail

// A configuration whose groups all go into the option table (no std::variant of structs), added
// one by one: no tuple of the groups, and every operation non-template. It behaves as cli::Config
// of the same groups (LightningCLI builds one when its groups allow).
class TabledConfig {
 public:
  template <class T>
  void add(const std::string& name, T& value) {
    table_.add_group(name, value);
    table_.describe(table_.root(name), options_);
  }

  const std::vector<OptionInfo>& options() const noexcept { return options_; }
  std::vector<std::string> keys() const { return detail::option_keys(options_); }
  const std::map<std::string, std::string>& provenance() const noexcept { return provenance_; }
  static std::string env_name(const std::string& prefix, const std::string& key) { return detail::env_name(prefix, key); }
  void apply_file(const YAML::Node& root, const std::string& file) {
    table_.apply_file(root, file, options_, provenance_);
  }
  void apply_text(const std::string& key, const std::string& text, const Source& src) {
    table_.apply_flag(key, text, src, options_, provenance_);
  }
  void apply_env(const std::map<std::string, std::string>& env, const std::string& prefix) {
    table_.apply_env(env, prefix, options_, provenance_);
  }
  std::string yaml() const { return table_.yaml(); }

 private:
  OptionTable table_;
  std::vector<OptionInfo> options_;
  std::map<std::string, std::string> provenance_;
};

// The whole configuration: a tuple of Named groups, walked in order.
template <class... Groups>
class Config {
 public:
  // Every group is in the table (the usual case: no std::variant of structs): the layers and the
  // output are then OptionTable's non-template operations, and the walks below are not instantiated.
  static constexpr bool all_tabled = (detail::tableable<Groups>() && ...);

  explicit Config(Named<Groups>... groups) : groups_(std::move(groups)...) {
    std::apply([&](auto&... g) { (add_group(g), ...); }, groups_);
  }

  const std::vector<OptionInfo>& options() const noexcept { return options_; }
  std::vector<std::string> keys() const { return detail::option_keys(options_); }
  // Where each key's value came from (the latest layer that set it).
  const std::map<std::string, std::string>& provenance() const noexcept { return provenance_; }

  // ---- layers ----

  // A parsed config file (YAML or JSON): a mapping of group names.
  void apply_file(const YAML::Node& root, const std::string& file) {
    if constexpr (all_tabled) {
      table_.apply_file(root, file, options_, provenance_);
    } else {
      if (!detail::check_config_root(root, file)) return;
      for (const auto& entry : detail::map_entries(root)) {
        const std::string& name = entry.name;
        bool found = false;
        std::apply(
            [&](auto&... g) {
              ((!found && g.name == name ? (found = true, apply_group_node(g, *entry.value, file), 0) : 0), ...);
            },
            groups_);
        if (!found) throw unknown(name, Source::file(file, *entry.key));
      }
    }
  }

  // One value from a flag (--trainer.max_epochs 3) or an environment variable.
  void apply_text(const std::string& key, const std::string& text, const Source& src) {
    if constexpr (all_tabled) {
      table_.apply_flag(key, text, src, options_, provenance_);
    } else {
      const auto dot = key.find('.');
      const std::string head = key.substr(0, dot);
      const std::string rest = dot == std::string::npos ? std::string{} : key.substr(dot + 1);
      bool found = false;
      std::apply(
          [&](auto&... g) {
            ((!found && g.name == head ? (found = true, apply_group_text(g, rest, key, text, src), 0) : 0), ...);
          },
          groups_);
      if (!found) throw unknown(key, src);
    }
  }

  // LightningCLI's default_env: VOLT_TRAINER__MAX_EPOCHS=3 is --trainer.max_epochs 3. A variable
  // that starts like a group (VOLT_TRAINER__...) but names no option is an error.
  void apply_env(const std::map<std::string, std::string>& env, const std::string& prefix) {
    if constexpr (all_tabled) {
      table_.apply_env(env, prefix, options_, provenance_);
    } else {
      for (const auto& [key, value, source] : detail::env_values(options_, env, prefix)) apply_text(key, value, source);
      detail::check_env_names(options_, env, prefix,
                              std::apply([](const auto&... g) { return std::vector<std::string>{g.name...}; }, groups_));
    }
  }

  static std::string env_name(const std::string& prefix, const std::string& key) { return detail::env_name(prefix, key); }

  // ---- output ----

  // The configuration as YAML, in LightningCLI's layout: groups in order, fields in declaration
  // order, two-space indentation, PyYAML's scalars.
  std::string yaml() const {
    if constexpr (all_tabled) {
      return table_.yaml();
    } else {
      std::string out;
      std::apply([&](const auto&... g) { (emit_group(out, g), ...); }, groups_);
      return out;
    }
  }

 private:
  Error unknown(const std::string& key, const Source& src) const { return detail::unknown_key(options_, key, src); }

  // A group whose fields all have the table's types is walked once into table_ and handled by
  // its non-template operations; any other (a std::variant of structs) by the templates below.
  template <class T>
  void add_group(Named<T>& g) {
    if constexpr (detail::tableable<T>()) {
      table_.add_group(g.name, g.value);
      table_.describe(table_.root(g.name), options_);
    } else {
      describe(g.name, g.value);
    }
  }
  template <class T>
  void apply_group_node(Named<T>& g, const YAML::Node& n, const std::string& file) {
    if constexpr (detail::tableable<T>()) table_.apply_node(table_.root(g.name), n, g.name, file, options_, provenance_);
    else apply_node(g.value, n, g.name, file);
  }
  template <class T>
  void apply_group_text(Named<T>& g, const std::string& rest, const std::string& key, const std::string& text,
                        const Source& src) {
    if constexpr (detail::tableable<T>()) table_.apply_text(table_.root(g.name), key, rest, text, src, options_, provenance_);
    else apply_path(g.value, rest, g.name, key, text, src);
  }
  template <class T>
  void emit_group(std::string& out, const Named<T>& g) const {
    if constexpr (detail::tableable<T>()) table_.emit(table_.root(g.name), out, 0);
    else emit(out, 0, g.name, g.value);
  }

  template <class T>
  void describe(const std::string& key, const T& v) {
    if constexpr (detail::HanaStruct<T>) {
      detail::for_each_field(v, [&](std::string_view name, const auto& field) { describe(detail::join(key, name), field); });
    } else if constexpr (detail::is_variant<T>::value) {
      options_.push_back({key, detail::alternative_names(&v), std::string(std::visit(
                                                                   [](const auto& a) {
                                                                     return detail::alternative_name<
                                                                         std::remove_cvref_t<decltype(a)>>();
                                                                   },
                                                                   v)),
                          "the choice"});
      describe_alternatives(key, v);
    } else {
      detail::add_option(options_, key, type_name<T>(), scalar_text(v));
    }
  }

  template <class... A>
  void describe_alternatives(const std::string& key, const std::variant<A...>& v) {
    auto one = [&]<class Alt>(Alt*) {
      const Alt shown_value = std::holds_alternative<Alt>(v) ? std::get<Alt>(v) : Alt{};
      detail::for_each_field(shown_value, [&](std::string_view name, const auto& field) {
        const std::string field_key = detail::join(key, name);
        const auto it = std::find_if(options_.begin(), options_.end(), [&](const OptionInfo& o) { return o.key == field_key; });
        if (it != options_.end()) {
          it->note += fmt::format(", {}", detail::alternative_name<Alt>());
          if (std::holds_alternative<Alt>(v)) it->value = scalar_text(field);
        } else {
          using F = std::remove_cvref_t<decltype(field)>;
          options_.push_back({field_key, type_name<F>(), scalar_text(field), fmt::format("of {}", detail::alternative_name<Alt>())});
        }
      });
    };
    (one(static_cast<A*>(nullptr)), ...);
  }

  template <class T>
  void apply_node(T& v, const YAML::Node& n, const std::string& key, const std::string& file) {
    if constexpr (detail::HanaStruct<T>) {
      if (detail::is_null(n)) return;
      if (!detail::is_map(n)) throw detail::wrong_type(key, Source::file(file, n), n, "a mapping of its options");
      for (const auto& entry : detail::map_entries(n)) {
        const std::string& name = entry.name;
        bool found = false;
        detail::for_each_field(v, [&](std::string_view field_name, auto& field) {
          if (found || field_name != name) return;
          found = true;
          apply_node(field, *entry.value, detail::join(key, name), file);
        });
        if (!found) throw unknown(detail::join(key, name), Source::file(file, *entry.key));
      }
    } else if constexpr (detail::is_variant<T>::value) {
      // "Adam", or LightningCLI's {class_path: torch.optim.Adam, init_args: {lr: 0.001}}.
      if (detail::is_scalar(n)) {
        detail::select_alternative(v, detail::scalar(n), key, Source::file(file, n));
        record(key, Source::file(file, n));
        return;
      }
      if (!detail::is_map(n)) throw detail::wrong_type(key, Source::file(file, n), n, "a class name or class_path / init_args");
      detail::check_class_path_keys(n, key, file);
      if (const auto class_path = detail::child(n, "class_path")) {
        detail::select_alternative(v, detail::scalar(**class_path), key, Source::file(file, **class_path));
        record(key, Source::file(file, **class_path));
      }
      if (const auto init_args = detail::child(n, "init_args"))
        std::visit([&](auto& alt) { apply_node(alt, **init_args, key, file); }, v);
    } else {
      const Source src = Source::file(file, n);
      read_scalar(n, v, key, src);
      record(key, src);
    }
  }

  template <class T>
  void apply_path(T& v, std::string_view rest, const std::string& prefix, const std::string& key,
                  const std::string& text, const Source& src) {
    if (rest.empty()) {
      const detail::OwnedNode owned = detail::value_node(text, detail::takes_raw_text<T>(), key, src);
      const YAML::Node& node = *owned;
      if constexpr (detail::HanaStruct<T> || detail::is_variant<T>::value) {
        if constexpr (detail::is_variant<T>::value) {
          if (detail::is_scalar(node)) {
            detail::select_alternative(v, detail::scalar(node), key, src);
            record(key, src);
            return;
          }
        }
        apply_node(v, node, key, src.where);
      } else {
        read_scalar(node, v, key, src);
        record(key, src);
      }
      return;
    }
    const auto dot = rest.find('.');
    const std::string_view head = rest.substr(0, dot);
    const std::string_view tail = dot == std::string_view::npos ? std::string_view{} : rest.substr(dot + 1);
    const std::string here = detail::join(prefix, head);
    if constexpr (detail::HanaStruct<T>) {
      bool found = false;
      detail::for_each_field(v, [&](std::string_view name, auto& field) {
        if (found || name != head) return;
        found = true;
        apply_path(field, tail, here, key, text, src);
      });
      if (!found) throw unknown(key, src);
    } else if constexpr (detail::is_variant<T>::value) {
      bool found = false;
      std::visit(
          [&](auto& alt) {
            detail::for_each_field(alt, [&](std::string_view name, auto& field) {
              if (found || name != head) return;
              found = true;
              apply_path(field, tail, here, key, text, src);
            });
          },
          v);
      if (!found) {
        const auto chosen = std::visit([](const auto& a) { return detail::alternative_name<std::remove_cvref_t<decltype(a)>>(); }, v);
        if (std::any_of(options_.begin(), options_.end(), [&](const OptionInfo& o) { return o.key == key; }))
          throw Error(fmt::format("volt: cli: {}: key \"{}\" is not an option of {}, the chosen {} (choose another "
                                  "with --{} <name>; the choices: {}).",
                                  src.where, key, chosen, prefix, prefix, detail::alternative_names(&v)));
        throw unknown(key, src);
      }
    } else {
      throw unknown(key, src);
    }
  }

  void record(const std::string& key, const Source& src) { provenance_[key] = src.where; }

  template <class T>
  static void emit(std::string& out, int indent, std::string_view name, const T& v) {
    if constexpr (detail::HanaStruct<T>) {
      std::string body;
      detail::for_each_field(v, [&](std::string_view field_name, const auto& field) { emit(body, indent + 2, field_name, field); });
      detail::emit_block(out, indent, name, body);
    } else if constexpr (detail::is_variant<T>::value) {
      std::string body;
      std::visit(
          [&](const auto& alt) {
            detail::emit_line(body, indent + 2, "class_path",
                              std::string(detail::alternative_name<std::remove_cvref_t<decltype(alt)>>()));
            emit(body, indent + 2, "init_args", alt);
          },
          v);
      detail::emit_block(out, indent, name, body);
    } else {
      detail::emit_line(out, indent, name, scalar_text(v));
    }
  }

  std::tuple<Named<Groups>...> groups_;
  OptionTable table_;
  std::vector<OptionInfo> options_;
  std::map<std::string, std::string> provenance_;
};

}  // namespace volt::cli

#if !defined(VOLT_SEPARATE_COMPILATION)
#include <volt/cli/impl/config.ipp>
#include <volt/cli/impl/option_table.ipp>
#endif
