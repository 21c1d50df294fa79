#pragma once
// Definitions of <volt/cli/lightning_cli.hpp>: included by the header in header-only mode,
// compiled once under VOLT_SEPARATE_COMPILATION (include/volt/impl/src_cli.hpp, volt::compiled's
// second TU).
#include <volt/cli/lightning_cli.hpp>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <system_error>

#include <fmt/format.h>

#include <volt/core/seed.hpp>

extern char** environ;  // POSIX: the process's environment, for the VOLT_* variables

namespace volt::cli::detail {

VOLT_INLINE std::optional<Subcommand> subcommand_named(std::string_view s) {
  for (auto c : {Subcommand::fit, Subcommand::validate, Subcommand::test, Subcommand::predict})
    if (to_string(c) == s) return c;
  return std::nullopt;
}

VOLT_INLINE std::pair<Subcommand, std::size_t> pick_subcommand(const std::vector<std::string>& args,
                                                               const Settings& settings) {
  if (!args.empty() && !args[0].starts_with("-")) {
    const auto sub = subcommand_named(args[0]);
    if (!sub)
      throw Error(fmt::format("volt: cli: unknown subcommand \"{}\"; the closest is \"{}\" (choose one of fit, "
                              "validate, test, predict).",
                              args[0], closest_key(args[0], {"fit", "validate", "test", "predict"})));
    return {*sub, 1};
  }
  if (settings.default_subcommand) return {*settings.default_subcommand, 0};
  if (args.empty() || (args[0] != "--help" && args[0] != "-h"))
    throw Error("volt: cli: give a subcommand: fit, validate, test or predict (--help lists the options).");
  return {Subcommand::fit, 0};
}

VOLT_INLINE Arguments split_arguments(const std::vector<std::string>& args, std::size_t first,
                                      const std::vector<OptionInfo>& options) {
  const auto type_of = [&](const std::string& key) -> std::string {
    for (const auto& o : options)
      if (o.key == key) return o.type;
    return {};
  };
  Arguments out;
  for (std::size_t i = first; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      out.help = true;
      return out;
    }
    if (arg == "--print_config") {
      out.print_config = true;
      continue;
    }
    if (!arg.starts_with("--"))
      throw Error(fmt::format("volt: cli: unexpected argument \"{}\"; options are written --key value.", arg));
    std::string key = arg.substr(2);
    std::optional<std::string> value;
    if (const auto eq = key.find('='); eq != std::string::npos) {
      value = key.substr(eq + 1);
      key.resize(eq);
    }
    if (!value) {
      const bool next_is_value = i + 1 < args.size() && !args[i + 1].starts_with("--");
      if (next_is_value) value = args[++i];
      else if (type_of(key) == "bool" || type_of(key) == "bool | null") value = "true";  // --trainer.barebones
      else if (key == "config" || !type_of(key).empty())
        throw Error(fmt::format("volt: cli: command line: --{} needs a value.", key));
    }
    if (key == "config") out.files.push_back(*value);
    else out.flags.emplace_back(key, value.value_or(""));
  }
  return out;
}

VOLT_INLINE std::vector<std::string> with_aliases(std::vector<std::string> args, const Settings& settings) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    const auto alias = std::find_if(settings.aliases.begin(), settings.aliases.end(), [&](const auto& a) {
      return arg == a.first || arg.starts_with(a.first + "=");
    });
    if (alias == settings.aliases.end()) {
      out.push_back(arg);
      continue;
    }
    const auto& [old_flag, replacement] = *alias;
    if (replacement.find('=') != std::string::npos) {  // a complete flag: takes no value
      out.push_back(replacement);
      continue;
    }
    std::optional<std::string> value;
    if (arg.size() > old_flag.size()) value = arg.substr(old_flag.size() + 1);
    else if (i + 1 < args.size()) value = args[++i];
    std::istringstream targets(replacement);
    for (std::string target; targets >> target;) out.push_back(value ? target + "=" + *value : target);
  }
  return out;
}

VOLT_INLINE std::map<std::string, std::string> environment(const std::string& prefix) {
  std::map<std::string, std::string> out;
  for (char** e = environ; e && *e; ++e) {
    const std::string_view entry(*e);
    const auto eq = entry.find('=');
    if (eq != std::string_view::npos && entry.starts_with(prefix + "_"))
      out.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
  }
  return out;
}

VOLT_INLINE std::string help_text(std::string_view program, const Settings& settings,
                                  const std::vector<OptionInfo>& options) {
  std::string out = fmt::format("usage: {} [fit|validate|test|predict] [--config FILE]... [--print_config] [--KEY VALUE]...\n", program);
  if (!settings.description.empty()) out += fmt::format("\n{}\n", settings.description);
  out += fmt::format("\nsubcommands: fit, validate, test, predict{}\n",
                     settings.default_subcommand ? fmt::format(" (default: {})", to_string(*settings.default_subcommand))
                                                 : std::string{});
  out += "\noptions (precedence: defaults < --config files < environment < flags):\n";
  out += "  --config FILE        a YAML or JSON config file; repeatable, later files win\n";
  out += "  --print_config       print the merged configuration as YAML and exit\n";
  out += "  --help               this text\n";
  for (const auto& o : options)
    out += fmt::format("  --{} {}  (default: {}){}\n", o.key, o.type, o.value,
                       o.note.empty() ? std::string{} : fmt::format("  [{}]", o.note));
  if (settings.default_env)
    out += fmt::format("\nEvery option can also come from the environment: {} sets --trainer.max_epochs.\n",
                       env_name(settings.env_prefix, "trainer.max_epochs") + "=3");
  for (const auto& [old_flag, new_flag] : settings.aliases)
    out += fmt::format("{}  {} is {}\n", &old_flag == &settings.aliases.front().first ? "\nolder flags:\n" : "",
                       old_flag, new_flag);
  return out;
}

VOLT_INLINE std::string with_provenance(const std::string& message,
                                        const std::map<std::string, std::string>& provenance) {
  for (const auto& [key, where] : provenance) {
    const auto field = key.substr(key.rfind('.') + 1);
    if (message.find(field + "=") != std::string::npos) return fmt::format("{} (--{} was set by {})", message, key, where);
  }
  return message;
}

VOLT_INLINE Error cannot_run(Subcommand s) {
  return Error(fmt::format("volt: cli: this program cannot {}: its Module or DataModule lacks the {} step or loader.",
                           to_string(s), to_string(s)));
}

VOLT_INLINE void apply_seed(SeedEverything& seed) {
  if (const bool* on = std::get_if<bool>(&seed.value); on && *on)
    seed = static_cast<std::int64_t>(std::random_device{}() & 0x7FFFFFFF);
  if (const auto* value = std::get_if<std::int64_t>(&seed.value))
    volt::seed_everything(static_cast<std::uint64_t>(*value));
}

VOLT_INLINE bool writes_config() {
  const char* rank = std::getenv("RANK");
  return !rank || std::string_view(rank) == "0";
}

VOLT_INLINE std::filesystem::path prepare_config_path(const std::filesystem::path& dir, const Settings& settings) {
  const auto path = dir / settings.config_filename;
  std::error_code ec;
  if (std::filesystem::exists(path, ec) && !settings.overwrite_config)
    throw Error(fmt::format(
        "volt: cli: {} already exists: another run wrote it. Aborting to avoid overwriting its results; use "
        "another log folder (--trainer.default_root_dir), delete the file, or set Settings.overwrite_config.",
        path.string()));
  std::filesystem::create_directories(dir);
  return path;
}

VOLT_INLINE void write_text(const std::filesystem::path& path, const std::string& text) { std::ofstream(path) << text; }

VOLT_INLINE ParseResult parse_tabled(TabledConfig& config, std::vector<std::string> args,
                                     const std::map<std::string, std::string>& env, std::string_view program,
                                     const Settings& settings) {
  args = with_aliases(std::move(args), settings);
  ParseResult out;
  const auto [subcommand, first] = pick_subcommand(args, settings);
  out.subcommand = subcommand;
  const auto arguments = split_arguments(args, first, config.options());
  if (arguments.help) {
    out.output = help_text(program, settings, config.options());
    return out;
  }
  for (const auto& file : arguments.files) config.apply_file(*load_config_file(file), file);
  if (settings.default_env) config.apply_env(env, settings.env_prefix);
  for (const auto& [key, value] : arguments.flags) config.apply_text(key, value, {"command line --" + key});
  out.provenance = config.provenance();
  if (arguments.print_config) out.output = config.yaml();
  return out;
}

}  // namespace volt::cli::detail
