#pragma once
// Lightning's `Module.load_from_checkpoint(path)` for inference: build the module and load the
// checkpoint's weights into it. Lightning calls __init__(**hparams); volt does the same when the
// module keeps its hyper-parameters in a member `hp` and has a constructor taking them, and
// otherwise constructs it from the arguments given (or default-constructs it).
//
//   auto model = volt::load_from_checkpoint<FashionCNN>("runs/best.ckpt");       // FashionCNN(hp)
//   auto hp = volt::read_hparams<HParams>("runs/best.ckpt"); hp.dropout = 0;        // override one
//   auto other = volt::load_from_checkpoint<FashionCNN>("runs/best.ckpt", hp);
//
// Works with full and weights-only checkpoints. The weights are checked against the module in
// full before anything is copied (strict: the same names, shapes and dtypes); the module is
// returned in training mode, as Lightning returns it: call eval() for inference.
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json_fwd.hpp>
#include <torch/torch.h>

#include <volt/checkpoint/checkpoint_file.hpp>
#include <volt/checkpoint/error.hpp>
#include <volt/checkpoint/module_state.hpp>
#include <volt/reflect/hparams.hpp>

namespace volt {

namespace detail {
template <class M> struct cannot_construct_for_checkpoint : std::false_type {};

template <class M>
using module_hparams_t = std::remove_cvref_t<decltype(std::declval<M&>().hp)>;

// From an opened (and so already checked) checkpoint: load_from_checkpoint reads the file once.
template <class HParams>
HParams read_hparams(const checkpoint::CheckpointReader& reader, const std::filesystem::path& path) {
  if (!reader.has("hparams"))
    throw checkpoint::CheckpointError(
        path, fmt::format("volt: checkpoint \"{}\" holds no hyperparameters: the module that saved it had no member "
                          "`hp`. Construct the module yourself and pass its constructor arguments to "
                          "load_from_checkpoint<Module>(path, args...).",
                          path.string()));
  try {
    return reflect::from_hparams<HParams>(reflect::hparams_from_json(reader.json("hparams")));
  } catch (const std::invalid_argument& e) {
    throw checkpoint::CheckpointError(
        path, fmt::format("volt: cannot read the hyperparameters of checkpoint \"{}\": {}. Was it saved by a module "
                          "with another hyper-parameter struct?",
                          path.string(), e.what()));
  }
}
}  // namespace detail

// The hyper-parameters stored in the checkpoint at `path`, as `HParams` (a Hana struct or a
// map). Throws CheckpointError naming the file and the first field that is missing or of
// another kind.
template <class HParams>
HParams read_hparams(const std::filesystem::path& path) {
  return detail::read_hparams<HParams>(checkpoint::CheckpointReader::open(path), path);
}

template <class Module, class... Args>
std::shared_ptr<Module> load_from_checkpoint(const std::filesystem::path& path, Args&&... args) {
  static_assert(std::is_base_of_v<torch::nn::Module, Module>,
                "volt: load_from_checkpoint<Module>: Module must derive from torch::nn::Module.");
  const checkpoint::CheckpointReader reader = checkpoint::CheckpointReader::open(path);
  std::shared_ptr<Module> module;
  if constexpr (sizeof...(Args) > 0) {
    static_assert(std::is_constructible_v<Module, Args&&...>,
                  "volt: load_from_checkpoint<Module>(path, args...): Module has no constructor taking these "
                  "arguments.");
    module = std::make_shared<Module>(std::forward<Args>(args)...);
  } else if constexpr (requires { std::declval<Module&>().hp; } &&
                       std::is_constructible_v<Module, detail::module_hparams_t<Module>>) {
    auto hparams = detail::read_hparams<detail::module_hparams_t<Module>>(reader, path);
    try {
      module = std::make_shared<Module>(std::move(hparams));
    } catch (const std::exception& e) {  // e.g. a constructor that validates its hyper-parameters
      throw checkpoint::CheckpointError(
          path, fmt::format("volt: load_from_checkpoint(\"{}\"): the module's constructor rejected the "
                            "hyper-parameters stored in the checkpoint: {}. Pass constructor arguments that it "
                            "accepts: load_from_checkpoint<Module>(path, args...).",
                            path.string(), e.what()));
    }
  } else if constexpr (std::is_default_constructible_v<Module>) {
    module = std::make_shared<Module>();
  } else {
    static_assert(detail::cannot_construct_for_checkpoint<Module>::value,
                  "volt: load_from_checkpoint<Module>(path): volt cannot build the Module. Give it a member `hp` "
                  "(a BOOST_HANA_DEFINE_STRUCT struct, saved in every checkpoint) and a constructor taking it, or "
                  "pass the constructor arguments: load_from_checkpoint<Module>(path, args...).");
  }
  checkpoint::load_state_dict(*module, reader.tensors("state_dict"), path);
  return module;
}

// Lightning's LightningDataModule.load_from_checkpoint for inference: the DataModule's state
// (what its state_dict() saved: normalization statistics, category maps) from the checkpoint at
// `path`, given back to `data` through its load_state_dict().
template <class DataModule>
  requires requires(DataModule& d, const nlohmann::json& j) { d.load_state_dict(j); }
void load_datamodule_state(const std::filesystem::path& path, DataModule& data) {
  const checkpoint::CheckpointReader reader = checkpoint::CheckpointReader::open(path);
  if (!reader.has("datamodule"))
    throw checkpoint::CheckpointError(
        path, fmt::format("volt: checkpoint \"{}\" holds no DataModule state: the DataModule of the run that saved "
                          "it had no state_dict().",
                          path.string()));
  try {
    data.load_state_dict(reader.json("datamodule"));
  } catch (const std::invalid_argument& e) {
    throw checkpoint::CheckpointError(path, fmt::format("volt: cannot restore the DataModule state of checkpoint "
                                                        "\"{}\": {}",
                                                        path.string(), e.what()));
  }
}

}  // namespace volt
