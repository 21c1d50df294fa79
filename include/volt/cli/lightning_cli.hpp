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
//
// What does not depend on the Trainer's types (splitting the command line, the aliases, the
// environment, --help's text, the error messages, config.yaml's path) is in non-template
// functions (cli/impl/lightning_cli.ipp, compiled once in the separately compiled mode).
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <volt/checkpoint/checkpoint_file.hpp>
#include <volt/checkpoint/module_state.hpp>
#include <volt/cli/config.hpp>
#include <volt/cli/options_reflection.hpp>
#include <volt/cli/value.hpp>
#include <volt/detail/config.hpp>
#include <volt/trainer.hpp>

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

// Whether a callback's options go into the option table (none: nothing to add).
template <class Cb>
constexpr bool tabled_callback() {
  using O = typename callback_options<Cb>::type;
  if constexpr (std::is_same_v<O, std::monostate>) return true;
  else return tableable<O>();
}

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

VOLT_INLINE std::optional<Subcommand> subcommand_named(std::string_view s);

// The subcommand args[0] names (then the options start at 1), else the default one; cli::Error
// when there is neither (a lone --help needs none).
VOLT_INLINE std::pair<Subcommand, std::size_t> pick_subcommand(const std::vector<std::string>& args,
                                                               const Settings& settings);

// The command line after the subcommand: --config files and --key value flags in order, up to a
// --help. cli::Error for an argument that is not an option or an option that lacks its value.
struct Arguments {
  std::vector<std::string> files;
  std::vector<std::pair<std::string, std::string>> flags;  // key, value
  bool print_config = false;
  bool help = false;
};
VOLT_INLINE Arguments split_arguments(const std::vector<std::string>& args, std::size_t first,
                                      const std::vector<OptionInfo>& options);

// An old flag becomes its replacement; one that names several flags ("--a --b") gives each the value.
VOLT_INLINE std::vector<std::string> with_aliases(std::vector<std::string> args, const Settings& settings);

// The process's <prefix>_* environment variables.
VOLT_INLINE std::map<std::string, std::string> environment(const std::string& prefix);

VOLT_INLINE std::string help_text(std::string_view program, const Settings& settings,
                                  const std::vector<OptionInfo>& options);

// An options check's message, with where the option it names was set.
VOLT_INLINE std::string with_provenance(const std::string& message,
                                        const std::map<std::string, std::string>& provenance);

VOLT_INLINE Error cannot_run(Subcommand s);

// Lightning's seed_everything: true picks a seed (recorded in the saved config), then seeds.
VOLT_INLINE void apply_seed(SeedEverything& seed);

// Whether this process is global rank 0 (RANK unset or "0"): only it writes config.yaml.
VOLT_INLINE bool writes_config();
// config.yaml's path in `dir`, the folder made; cli::Error when another run's file is there.
VOLT_INLINE std::filesystem::path prepare_config_path(const std::filesystem::path& dir, const Settings& settings);
VOLT_INLINE void write_text(const std::filesystem::path& path, const std::string& text);

// LightningCLI::parse's type-independent part for a TabledConfig `config` of the values: the
// aliases, the subcommand, then --help, or the layers (--config files, the environment, flags).
struct ParseResult {
  Subcommand subcommand = Subcommand::fit;
  std::optional<std::string> output{};
  std::map<std::string, std::string> provenance{};
};
VOLT_INLINE ParseResult parse_tabled(TabledConfig& config, std::vector<std::string> args,
                                     const std::map<std::string, std::string>& env, std::string_view program,
                                     const Settings& settings);

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

  // Whether every group goes into the option table (no optimizer choice, every options struct of
  // the table's field types): the configuration is then a TabledConfig, parsed by non-template code.
  static constexpr bool tabled = detail::tableable<TrainerOptions>() && detail::tableable<model_options>() &&
                                 detail::tableable<data_options>() && (detail::tabled_callback<Cbs>() && ...) &&
                                 std::is_void_v<OptimizerChoice>;

  // The configuration of `values` (the groups refer to it).
  static auto config_of(Values& v) {
    if constexpr (tabled) {
      TabledConfig config;
      config.add("seed_everything", v.seed_everything);
      config.add("trainer", v.trainer);
      config.add("model", v.model);
      config.add("data", v.data);
      add_callback_groups(config, v, std::index_sequence_for<Cbs...>{});
      config.add("ckpt_path", v.ckpt_path);
      return config;
    } else {
      return config_of_groups(v);
    }
  }

  // args: the command line without the program name. Throws cli::Error.
  Parsed parse(std::vector<std::string> args, const std::map<std::string, std::string>& env = {},
               std::string_view program = "prog") const {
    if constexpr (tabled) {
      Parsed out;
      out.values = defaults_;
      auto config = config_of(out.values);
      auto result = detail::parse_tabled(config, std::move(args), env, program, settings_);
      out.subcommand = result.subcommand;
      out.output = std::move(result.output);
      out.provenance = std::move(result.provenance);
      return out;
    } else {
      return parse_groups(std::move(args), env, program);
    }
  }

 private:
  template <std::size_t... I>
  static void add_callback_groups(TabledConfig& config, Values& v, std::index_sequence<I...>) {
    (add_callback_group<Cbs>(config, std::get<I>(v.callbacks)), ...);
  }
  template <class Cb, class O>
  static void add_callback_group(TabledConfig& config, O& options) {
    if constexpr (!std::is_same_v<O, std::monostate>) config.add(std::string(component_name<Cb>::value), options);
  }

  // A configuration with a group the table does not hold: cli::Config's templates walk it.
  static auto config_of_groups(Values& v) {
    auto groups = std::tuple_cat(
        std::tuple<Named<SeedEverything>, Named<TrainerOptions>, Named<model_options>, Named<data_options>>{
            {"seed_everything", v.seed_everything}, {"trainer", v.trainer}, {"model", v.model}, {"data", v.data}},
        callback_groups(v, std::index_sequence_for<Cbs...>{}), optimizer_group(v),
        std::tuple<Named<std::optional<std::string>>>{{"ckpt_path", v.ckpt_path}});
    return std::apply([](auto&... g) { return Config(g...); }, groups);
  }

  Parsed parse_groups(std::vector<std::string> args, const std::map<std::string, std::string>& env,
                     std::string_view program) const {
    args = detail::with_aliases(std::move(args), settings_);
    Parsed out;
    out.values = defaults_;
    const auto [subcommand, first] = detail::pick_subcommand(args, settings_);
    out.subcommand = subcommand;
    auto config = config_of(out.values);
    const auto arguments = detail::split_arguments(args, first, config.options());
    if (arguments.help) {
      out.output = detail::help_text(program, settings_, config.options());
      return out;
    }
    for (const auto& file : arguments.files) config.apply_file(*detail::load_config_file(file), file);
    if (settings_.default_env) config.apply_env(env, settings_.env_prefix);
    for (const auto& [key, value] : arguments.flags) config.apply_text(key, value, {"command line --" + key});
    out.provenance = config.provenance();
    if (arguments.print_config) out.output = config.yaml();
    return out;
  }

 public:
  // Parses, then runs the subcommand; `after(outcome, trainer, model, data)` runs after it when
  // given. Returns the program's exit status: 0, 2 for a configuration error, 1 when the run failed.
  template <class After = std::nullptr_t>
  int run(int argc, char** argv, After&& after = nullptr) const {
    std::vector<std::string> args(argv + 1, argv + argc);
    const std::string program = argc > 0 ? std::filesystem::path(argv[0]).filename().string() : "prog";
    Parsed parsed;  // not a std::optional<Parsed>: its layers would be instantiated for every CLI
    try {
      parsed = parse(std::move(args), detail::environment(settings_.env_prefix), program);
    } catch (const Error& e) {
      std::cerr << e.what() << std::endl;
      return 2;
    }
    if (parsed.output) {
      std::cout << *parsed.output << std::flush;
      return 0;
    }
    try {
      execute(parsed, std::forward<After>(after));
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
    detail::apply_seed(v.seed_everything);

    auto built = [&](auto&& make) {
      try {
        return make();
      } catch (const std::invalid_argument& e) {
        throw Error(detail::with_provenance(e.what(), parsed.provenance));
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
    return detail::help_text(program, settings_, config_of(v).options());
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

  void check_subcommand(Subcommand s) const {
    const bool ok = s == Subcommand::fit || (s == Subcommand::validate && can_validate) ||
                    (s == Subcommand::test && can_test) || (s == Subcommand::predict && can_predict);
    if (!ok) throw detail::cannot_run(s);
  }

  // LightningCLI's SaveConfigCallback: config.yaml in the run's log folder, on global rank 0,
  // refusing to replace another run's file.
  std::filesystem::path save_config(trainer_type& trainer, Parsed& parsed) const {
    if (!detail::writes_config()) return {};
    const auto path = detail::prepare_config_path(trainer.log_dir(), settings_);
    detail::write_text(path, config_of(parsed.values).yaml());  // config_of only reads them
    return path;
  }

  Values defaults_;
  Settings settings_;
  P precision_;
};

}  // namespace volt::cli

#if !defined(VOLT_SEPARATE_COMPILATION)
#include <volt/cli/impl/lightning_cli.ipp>
#endif
