#pragma once
// Definitions of <volt/cli/config.hpp>: included by the header in header-only mode, compiled once
// under VOLT_SEPARATE_COMPILATION (include/volt/impl/src_cli.hpp, volt::compiled's second TU).
#include <volt/cli/config.hpp>

#include <algorithm>
#include <cctype>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

namespace volt::cli {

namespace detail {

VOLT_INLINE std::string join(const std::string& prefix, std::string_view name) {
  return prefix.empty() ? std::string(name) : fmt::format("{}.{}", prefix, name);
}

VOLT_INLINE std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

VOLT_INLINE std::string_view class_name(std::string_view class_path) {
  const auto dot = class_path.rfind('.');
  return dot == std::string_view::npos ? class_path : class_path.substr(dot + 1);
}

}  // namespace detail

VOLT_INLINE std::string closest_key(std::string_view key, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_distance = std::string::npos;
  for (const auto& c : candidates) {
    const auto d = detail::edit_distance(key, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  return best;
}

namespace detail {

VOLT_INLINE std::string env_name(const std::string& prefix, const std::string& key) {
  std::string out = prefix + "_";
  for (const char c : key) {
    if (c == '.') out += "__";
    else out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

VOLT_INLINE Error unknown_key(const std::vector<OptionInfo>& options, const std::string& key, const Source& src) {
  // Candidates at the key's depth: "trainr" is near "trainer", not near "trainer.logger".
  const auto depth = std::count(key.begin(), key.end(), '.');
  std::vector<std::string> candidates;
  for (const auto& o : options) {
    std::size_t end = 0;
    for (auto d = depth; end != std::string::npos && d >= 0; --d) end = o.key.find('.', end == 0 ? 0 : end + 1);
    std::string k = o.key.substr(0, end);
    if (std::find(candidates.begin(), candidates.end(), k) == candidates.end()) candidates.push_back(std::move(k));
  }
  const auto near = closest_key(key, candidates);
  return Error(fmt::format("volt: cli: {}: unknown key \"{}\"; the closest valid key is \"{}\" (--help lists all).",
                           src.where, key, near));
}

VOLT_INLINE bool check_config_root(const YAML::Node& root, const std::string& file) {
  if (root.IsNull()) return false;
  if (!root.IsMap())
    throw Error(fmt::format("volt: cli: {}: a config file must be a mapping of keys such as trainer:, model:, "
                            "data:; got {}.",
                            Source::file(file, root).where, shown(root)));
  return true;
}

VOLT_INLINE std::vector<EnvValue> env_values(const std::vector<OptionInfo>& options,
                                             const std::map<std::string, std::string>& env, const std::string& prefix) {
  std::vector<EnvValue> out;
  for (const auto& o : options)
    if (const auto it = env.find(env_name(prefix, o.key)); it != env.end())
      out.push_back({o.key, it->second, {fmt::format("environment variable {}", it->first)}});
  return out;
}

VOLT_INLINE void check_env_names(const std::vector<OptionInfo>& options, const std::map<std::string, std::string>& env,
                                 const std::string& prefix, const std::vector<std::string>& groups) {
  std::map<std::string, std::string> names;  // variable -> key
  for (const auto& o : options) names.emplace(env_name(prefix, o.key), o.key);
  std::vector<std::string> known;
  for (const auto& [name, key] : names) known.push_back(name);
  for (const auto& group : groups) {
    const std::string group_prefix = env_name(prefix, group) + "__";
    for (const auto& [var, value] : env)
      if (var.rfind(group_prefix, 0) == 0 && !names.contains(var))
        throw Error(fmt::format("volt: cli: environment variable {} names no option; the closest valid one is {}.", var,
                                closest_key(var, known)));
  }
}

VOLT_INLINE void check_class_path_keys(const YAML::Node& n, const std::string& key, const std::string& file) {
  for (auto it = n.begin(); it != n.end(); ++it) {
    const std::string name = it->first.Scalar();
    if (name != "class_path" && name != "init_args") {
      const std::vector<std::string> valid{join(key, "class_path"), join(key, "init_args")};
      throw Error(fmt::format("volt: cli: {}: unknown key \"{}\"; the closest valid key is \"{}\".",
                              Source::file(file, it->first).where, join(key, name), closest_key(join(key, name), valid)));
    }
  }
}

VOLT_INLINE void add_option(std::vector<OptionInfo>& options, const std::string& key, std::string type,
                            std::string value) {
  options.push_back({key, std::move(type), std::move(value), ""});
}

VOLT_INLINE void emit_line(std::string& out, int indent, std::string_view name, const std::string& value) {
  out += fmt::format("{}{}: {}\n", std::string(static_cast<std::size_t>(indent), ' '), name, value);
}

VOLT_INLINE std::vector<std::string> option_keys(const std::vector<OptionInfo>& options) {
  std::vector<std::string> out;
  out.reserve(options.size());
  for (const auto& o : options) out.push_back(o.key);
  return out;
}

VOLT_INLINE void emit_block(std::string& out, int indent, std::string_view name, const std::string& body) {
  const std::string pad(static_cast<std::size_t>(indent), ' ');
  out += body.empty() ? fmt::format("{}{}: {{}}\n", pad, name) : fmt::format("{}{}:\n{}", pad, name, body);
}

}  // namespace detail

}  // namespace volt::cli
