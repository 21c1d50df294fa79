#pragma once
// volt::cli::LightningCLI: Lightning's LightningCLI for a volt program. From the Trainer's type
// it knows the Module (its `hp` struct is `model`), the DataModule (its options are `data`), the
// callbacks and loggers (each with an `Options` struct is a group named by
// cli::component_name); TrainerOptions is `trainer`. It gives the program
//
//   prog [fit|validate|test|predict] [--config c.yaml]... [--print_config] [--help]
//        [--seed_everything S] [--ckpt_path P] [--trainer.max_epochs 3] [--model.lr 1e-3] ...
//
// with values from defaults < --config files (YAML or JSON, in order) < VOLT_TRAINER__MAX_EPOCHS
// style environment variables < flags. Errors (unknown key, wrong type, out of range, a bad
// option combination) end the program with status 2 before anything runs. The merged config is
// saved as config.yaml in the run's log folder on global rank 0, never over another run's.
//
// An optional std::variant of BOOST_HANA option structs (each with a static cli_name) is the
// `optimizer` group (`--optimizer SGD --optimizer.lr 0.1`), handed to the Module's constructor
// after its hp: Module(hp, optimizer).
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <volt/checkpoint/checkpoint_file.hpp>
#include <volt/checkpoint/module_state.hpp>
#include <volt/cli/config.hpp>
#include <volt/cli/options_reflection.hpp>
#include <volt/cli/value.hpp>
#include <volt/core/seed.hpp>
#include <volt/trainer.hpp>

extern char** environ;  // POSIX: the process's environment, for the VOLT_* variables

namespace volt::cli {

enum class Subcommand { fit, validate, test, predict };

constexpr std::string_view to_string(Subcommand s) noexcept {
  constexpr std::string_view names[] = {"fit", "validate", "test", "predict"};
  return names[static_cast<int>(s)];
}

// How the program's command line behaves (the values themselves come from LightningCLI::Values).
struct Settings {
  std::string description{};
  // The subcommand run when the first argument is not one (LightningCLI has none; a program that
  // trained without arguments before keeps doing so with "fit").
  std::optional<Subcommand> default_subcommand{};
  bool default_env = true;           // read VOLT_<GROUP>__<FIELD> variables
  std::string env_prefix = "VOLT";
  bool save_config = true;           // write config.yaml into the run's log folder
  std::string config_filename = "config.yaml";
  bool overwrite_config = false;     // LightningCLI's save_config_kwargs={"overwrite": True}
  // Older flags kept working: {"--epochs", "--trainer.max_epochs"}; a replacement with '=' takes
  // no value ({"--resume", "--ckpt_path=last"}); one naming several flags gives each the value
  // ({"--seed", "--seed_everything --data.seed"}).
  std::vector<std::pair<std::string, std::string>> aliases{};
};

// What a subcommand produced, for the program's own code after it (LightningCLI's after_fit etc.).
struct Outcome {
  Subcommand subcommand = Subcommand::fit;
  FitResult fit{};                          // fit
  std::map<std::string, double> metrics{};  // validate / test
  std::filesystem::path config_path{};      // where config.yaml went (empty: not saved)
};

namespace detail {

template <class M>
using model_options_t = std::remove_cvref_t<decltype(std::declval<M&>().hp)>;

template <class Cb>
struct callback_options {
  using type = std::monostate;  // not configurable: built with its default constructor
};
template <class Cb>
  requires requires { typename Cb::Options; }
struct callback_options<Cb> {
  using type = typename Cb::Options;
};

template <class M, class D, class LoaderHook, class StepHook>
constexpr bool has_step() {
  using L = loader_or_void_t<D, LoaderHook>;
  if constexpr (!std::is_void_v<L>) {
    if constexpr (BatchLoader<L>)
      return hooks::has<StepHook, M, const batch_type_t<L>&, std::int64_t> ||
             (std::is_same_v<StepHook, hooks::predict_step_t> && hooks::has<hooks::forward_t, M, const batch_type_t<L>&>);
  }
  return false;
}

inline std::optional<Subcommand> subcommand_named(std::string_view s) {
  for (auto c : {Subcommand::fit, Subcommand::validate, Subcommand::test, Subcommand::predict})
    if (to_string(c) == s) return c;
  return std::nullopt;
}

}  // namespace detail

template <class TrainerT, class OptimizerChoice = void>
class LightningCLI;

template <class M, class D, class S, class P, class... Cbs, class OptimizerChoice>
class LightningCLI<Trainer<M, D, S, P, Cbs...>, OptimizerChoice> {
 public:
  using trainer_type = Trainer<M, D, S, P, Cbs...>;
  using model_options = detail::model_options_t<M>;
  using data_options = typename datamodule_options<D>::type;
  using optimizer_choice = std::conditional_t<std::is_void_v<OptimizerChoice>, std::monostate, OptimizerChoice>;
  using callback_options = std::tuple<typename detail::callback_options<Cbs>::type...>;

  // Every value the CLI sets, with the program's defaults. LightningCLI's top-level keys, in its order.
  struct Values {
    SeedEverything seed_everything{};
    TrainerOptions trainer{};
    model_options model{};
    data_options data{};
    callback_options callbacks{};  // one Options per configurable callback / logger, in the Trainer's order
    optimizer_choice optimizer{};
    std::optional<std::string> ckpt_path{};  // fit: resume from it ("last", "best" or a file); else: load its weights
  };

  struct Parsed {
    Subcommand subcommand = Subcommand::fit;
    Values values{};
    std::optional<std::string> output{};  // --help or --print_config: print it, run nothing
    std::map<std::string, std::string> provenance{};
  };

  // `precision`: the Trainer's precision policy, copied into the Trainer it builds (e.g. a
  // precision::Runtime chosen by the program's --precision); P{} by default.
  explicit LightningCLI(Values defaults = {}, Settings settings = {}, P precision = P{})
      : defaults_(std::move(defaults)), settings_(std::move(settings)), precision_(std::move(precision)) {}

  // The configuration of `values` (the groups refer to it).
  static auto config_of(Values& v) {
    auto groups = std::tuple_cat(
        std::tuple<Named<SeedEverything>, Named<TrainerOptions>, Named<model_options>, Named<data_options>>{
            {"seed_everything", v.seed_everything}, {"trainer", v.trainer}, {"model", v.model}, {"data", v.data}},
        callback_groups(v, std::index_sequence_for<Cbs...>{}), optimizer_group(v),
        std::tuple<Named<std::optional<std::string>>>{{"ckpt_path", v.ckpt_path}});
    return std::apply([](auto&... g) { return Config(g...); }, groups);
  }

  // args: the command line without the program name. Throws cli::Error.
  Parsed parse(std::vector<std::string> args, const std::map<std::string, std::string>& env = {},
               std::string_view program = "prog") const {
    args = with_aliases(std::move(args));
    Parsed out;
    out.values = defaults_;
    std::size_t i = 0;
    if (!args.empty() && !args[0].starts_with("-")) {
      const auto sub = detail::subcommand_named(args[0]);
      if (!sub)
        throw Error(fmt::format("volt: cli: unknown subcommand \"{}\"; the closest is \"{}\" (choose one of fit, "
                                "validate, test, predict).",
                                args[0], closest_key(args[0], {"fit", "validate", "test", "predict"})));
      out.subcommand = *sub;
      i = 1;
    } else if (settings_.default_subcommand) {
      out.subcommand = *settings_.default_subcommand;
    } else if (args.empty() || (args[0] != "--help" && args[0] != "-h")) {
      throw Error("volt: cli: give a subcommand: fit, validate, test or predict (--help lists the options).");
    }
    auto config = config_of(out.values);
    const auto& options = config.options();
    const auto type_of = [&](const std::string& key) -> std::string {
      for (const auto& o : options)
        if (o.key == key) return o.type;
      return {};
    };

    std::vector<std::string> files;
    std::vector<std::pair<std::string, std::string>> flags;  // key, value
    bool print_config = false;
    for (; i < args.size(); ++i) {
      const std::string& arg = args[i];
      if (arg == "--help" || arg == "-h") {
        out.output = help(program, config);
        return out;
      }
      if (arg == "--print_config") {
        print_config = true;
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
      if (key == "config") files.push_back(*value);
      else flags.emplace_back(key, value.value_or(""));
    }

    for (const auto& file : files) config.apply_file(load_file(file), file);
    if (settings_.default_env) config.apply_env(env, settings_.env_prefix);
    for (const auto& [key, value] : flags) config.apply_text(key, value, {fmt::format("command line --{}", key)});
    out.provenance = config.provenance();
    if (print_config) out.output = config.yaml();
    return out;
  }

  // Parses, then runs the subcommand; `after(outcome, trainer, model, data)` runs after it when
  // given. Returns the program's exit status: 0, 2 for a configuration error, 1 when the run failed.
  template <class After = std::nullptr_t>
  int run(int argc, char** argv, After&& after = nullptr) const {
    std::vector<std::string> args(argv + 1, argv + argc);
    const std::string program = argc > 0 ? std::filesystem::path(argv[0]).filename().string() : "prog";
    std::optional<Parsed> parsed;
    try {
      parsed = parse(std::move(args), environment(settings_.env_prefix), program);
    } catch (const Error& e) {
      std::cerr << e.what() << std::endl;
      return 2;
    }
    if (parsed->output) {
      std::cout << *parsed->output << std::flush;
      return 0;
    }
    try {
      execute(*parsed, std::forward<After>(after));
    } catch (const Error& e) {
      std::cerr << e.what() << std::endl;
      return 2;
    } catch (const std::exception& e) {
      std::cerr << program << ": " << e.what() << std::endl;
      return 1;
    }
    return 0;
  }

  // Builds everything from `parsed` and runs its subcommand. Throws cli::Error for a bad
  // configuration (before anything runs), other exceptions from the run itself.
  template <class After = std::nullptr_t>
  Outcome execute(Parsed& parsed, After&& after = nullptr) const {
    if constexpr (std::is_void_v<OptimizerChoice>)
      static_assert(std::is_constructible_v<M, const model_options&>,
                    "volt: cli: LightningCLI builds the Module as Module(hp), from the type of its `hp` member; give "
                    "the Module a constructor taking its hyper-parameter struct: explicit Module(HParams hp).");
    else
      static_assert(std::is_constructible_v<M, const model_options&, const OptimizerChoice&>,
                    "volt: cli: LightningCLI<Trainer, OptimizerChoice> builds the Module as Module(hp, optimizer); give "
                    "the Module a constructor taking its hyper-parameter struct and the optimizer choice.");
    static_assert(std::is_constructible_v<D, const data_options&>,
                  "volt: cli: LightningCLI builds the DataModule as DataModule(options); give it a constructor taking "
                  "its options struct.");
    Values& v = parsed.values;
    Outcome outcome{.subcommand = parsed.subcommand};
    check_subcommand(parsed.subcommand);
    // Lightning: seed_everything: true picks a seed, which the saved config then records.
    if (const bool* on = std::get_if<bool>(&v.seed_everything.value); on && *on)
      v.seed_everything = static_cast<std::int64_t>(std::random_device{}() & 0x7FFFFFFF);
    if (const auto* seed = std::get_if<std::int64_t>(&v.seed_everything.value))
      volt::seed_everything(static_cast<std::uint64_t>(*seed));

    auto built = [&](auto&& make) {
      try {
        return make();
      } catch (const std::invalid_argument& e) {
        throw Error(with_provenance(e.what(), parsed.provenance));
      }
    };
    // The options are checked as the objects are built, before anything runs or is written.
    auto trainer = built([&] {
      return std::apply(
          [&](auto&... options) {
            return std::make_unique<trainer_type>(v.trainer, S{}, P(precision_), make_callback<Cbs>(options)...);
          },
          v.callbacks);
    });
    auto model = built([&] {
      if constexpr (std::is_void_v<OptimizerChoice>) return std::make_shared<M>(v.model);
      else return std::make_shared<M>(v.model, v.optimizer);
    });
    auto data = built([&] { return std::make_unique<D>(v.data); });

    if (settings_.save_config) outcome.config_path = save_config(*trainer, parsed);
    if (parsed.subcommand != Subcommand::fit && v.ckpt_path) {
      const auto reader = checkpoint::CheckpointReader::open(*v.ckpt_path);
      checkpoint::load_state_dict(*model, reader.tensors("state_dict"), *v.ckpt_path);
    }
    switch (parsed.subcommand) {
      case Subcommand::fit:
        outcome.fit = trainer->fit(*model, *data, {.ckpt_path = v.ckpt_path});
        break;
      case Subcommand::validate:
        if constexpr (can_validate) outcome.metrics = trainer->validate(*model, *data);
        break;
      case Subcommand::test:
        if constexpr (can_test) outcome.metrics = trainer->test(*model, *data);
        break;
      case Subcommand::predict:
        if constexpr (can_predict) (void)trainer->predict(*model, *data);
        break;
    }
    if constexpr (!std::is_same_v<std::remove_cvref_t<After>, std::nullptr_t>) after(outcome, *trainer, *model, *data);
    return outcome;
  }

  // --help: every option with its type and default.
  std::string help(std::string_view program) const {
    Values v = defaults_;
    return help(program, config_of(v));
  }

  const Values& defaults() const noexcept { return defaults_; }
  const Settings& settings() const noexcept { return settings_; }

  static constexpr bool can_validate = detail::has_step<M, D, hooks::val_dataloader_t, hooks::validation_step_t>();
  static constexpr bool can_test = detail::has_step<M, D, hooks::test_dataloader_t, hooks::test_step_t>();
  static constexpr bool can_predict = detail::has_step<M, D, hooks::predict_dataloader_t, hooks::predict_step_t>();

 private:
  template <std::size_t... I>
  static auto callback_groups(Values& v, std::index_sequence<I...>) {
    return std::tuple_cat(callback_group<Cbs>(std::get<I>(v.callbacks))...);
  }
  template <class Cb, class O>
  static auto callback_group(O& options) {
    if constexpr (std::is_same_v<O, std::monostate>) {
      return std::tuple<>{};
    } else {
      static_assert(detail::HanaStruct<O>,
                    "volt: cli: a callback or logger among the Trainer's has an Options struct that is not "
                    "reflected; reflect it with BOOST_HANA_DEFINE_STRUCT inside or BOOST_HANA_ADAPT_STRUCT outside "
                    "(see volt/cli/options_reflection.hpp), so its fields become --<name>.<field> options.");
      return std::tuple<Named<O>>{{std::string(component_name<Cb>::value), options}};
    }
  }
  static auto optimizer_group(Values& v) {
    if constexpr (std::is_void_v<OptimizerChoice>) return std::tuple<>{};
    else return std::tuple<Named<OptimizerChoice>>{{"optimizer", v.optimizer}};
  }
  template <class Cb, class O>
  static Cb make_callback(const O& options) {
    if constexpr (std::is_same_v<O, std::monostate>) return Cb{};
    else return Cb(options);
  }

  static std::map<std::string, std::string> environment(const std::string& prefix) {
    std::map<std::string, std::string> out;
    for (char** e = environ; e && *e; ++e) {
      const std::string_view entry(*e);
      const auto eq = entry.find('=');
      if (eq != std::string_view::npos && entry.starts_with(prefix + "_"))
        out.emplace(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
    }
    return out;
  }

  // An old flag becomes its replacement; one that names several flags ("--a --b") gives each the value.
  std::vector<std::string> with_aliases(std::vector<std::string> args) const {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < args.size(); ++i) {
      const std::string& arg = args[i];
      const auto alias = std::find_if(settings_.aliases.begin(), settings_.aliases.end(), [&](const auto& a) {
        return arg == a.first || arg.starts_with(a.first + "=");
      });
      if (alias == settings_.aliases.end()) {
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

  static YAML::Node load_file(const std::string& file) {
    std::ifstream in(file);
    if (!in) throw Error(fmt::format("volt: cli: --config {}: the file cannot be read.", file));
    try {
      return YAML::Load(in);
    } catch (const YAML::ParserException& e) {
      throw Error(fmt::format("volt: cli: {}:{}: not valid YAML or JSON: {}.", file, e.mark.line + 1, e.msg));
    }
  }

  template <class Cfg>
  std::string help(std::string_view program, const Cfg& config) const {
    std::string out = fmt::format("usage: {} [fit|validate|test|predict] [--config FILE]... [--print_config] [--KEY VALUE]...\n", program);
    if (!settings_.description.empty()) out += fmt::format("\n{}\n", settings_.description);
    out += fmt::format("\nsubcommands: fit, validate, test, predict{}\n",
                       settings_.default_subcommand
                           ? fmt::format(" (default: {})", to_string(*settings_.default_subcommand))
                           : std::string{});
    out += "\noptions (precedence: defaults < --config files < environment < flags):\n";
    out += "  --config FILE        a YAML or JSON config file; repeatable, later files win\n";
    out += "  --print_config       print the merged configuration as YAML and exit\n";
    out += "  --help               this text\n";
    for (const auto& o : config.options())
      out += fmt::format("  --{} {}  (default: {}){}\n", o.key, o.type, o.value,
                         o.note.empty() ? std::string{} : fmt::format("  [{}]", o.note));
    if (settings_.default_env)
      out += fmt::format("\nEvery option can also come from the environment: {} sets --trainer.max_epochs.\n",
                         Cfg::env_name(settings_.env_prefix, "trainer.max_epochs") + "=3");
    for (const auto& [old_flag, new_flag] : settings_.aliases)
      out += fmt::format("{}  {} is {}\n", &old_flag == &settings_.aliases.front().first ? "\nolder flags:\n" : "",
                         old_flag, new_flag);
    return out;
  }

  static std::string with_provenance(const std::string& message, const std::map<std::string, std::string>& provenance) {
    for (const auto& [key, where] : provenance) {
      const auto field = key.substr(key.rfind('.') + 1);
      if (message.find(field + "=") != std::string::npos)
        return fmt::format("{} (--{} was set by {})", message, key, where);
    }
    return message;
  }

  void check_subcommand(Subcommand s) const {
    const bool ok = s == Subcommand::fit || (s == Subcommand::validate && can_validate) ||
                    (s == Subcommand::test && can_test) || (s == Subcommand::predict && can_predict);
    if (!ok)
      throw Error(fmt::format("volt: cli: this program cannot {}: its Module or DataModule lacks the {} step or "
                              "loader.",
                              to_string(s), to_string(s)));
  }

  // LightningCLI's SaveConfigCallback: config.yaml in the run's log folder, on global rank 0,
  // refusing to replace another run's file.
  std::filesystem::path save_config(trainer_type& trainer, Parsed& parsed) const {
    if (const char* rank = std::getenv("RANK"); rank && std::string_view(rank) != "0") return {};
    const auto dir = trainer.log_dir();
    const auto path = dir / settings_.config_filename;
    std::error_code ec;
    if (std::filesystem::exists(path, ec) && !settings_.overwrite_config)
      throw Error(fmt::format(
          "volt: cli: {} already exists: another run wrote it. Aborting to avoid overwriting its results; use "
          "another log folder (--trainer.default_root_dir), delete the file, or set Settings.overwrite_config.",
          path.string()));
    std::filesystem::create_directories(dir);
    Values copy = parsed.values;
    const std::string text = config_of(copy).yaml();
    std::ofstream(path) << text;
    return path;
  }

  Values defaults_;
  Settings settings_;
  P precision_;
};

}  // namespace volt::cli
