#pragma once
// Definitions of <volt/callbacks/model_summary.hpp>: included by the header in header-only mode, compiled once
// into volt::compiled under VOLT_SEPARATE_COMPILATION (include/volt/impl/src.hpp).
#include <volt/callbacks/model_summary.hpp>

namespace volt {

VOLT_INLINE std::string human_readable_count(std::int64_t number) {
  static constexpr std::string_view labels[] = {" ", "K", "M", "B", "T"};
  if (number < 0) number = 0;
  std::int64_t digits = 1;
  for (std::int64_t n = number; n >= 10; n /= 10) ++digits;
  std::int64_t groups = (digits + 2) / 3;
  if (groups > 5) groups = 5;  // no abbreviation beyond trillions
  const std::size_t index = static_cast<std::size_t>(groups - 1);
  // Lightning scales by the float 10**-3k; the same double keeps its roundings.
  const double scaled = static_cast<double>(number) * std::pow(10.0, -3.0 * static_cast<double>(index));
  if (index < 1 || scaled >= 100)
    return detail::group_thousands(std::to_string(static_cast<std::int64_t>(scaled))) + " " +
           std::string(labels[index]);
  return fmt::format("{:.1f} {}", scaled, labels[index]);
}

VOLT_INLINE std::string module_type_name(const torch::nn::Module& module) {
  const std::string& full = module.name();
  // The last "::" outside template arguments and parentheses ("(anonymous namespace)::Net").
  std::size_t start = 0;
  int depth = 0;
  for (std::size_t i = 0; i + 1 < full.size(); ++i) {
    const char c = full[i];
    if (c == '<' || c == '(') ++depth;
    else if (c == '>' || c == ')') --depth;
    else if (depth == 0 && c == ':' && full[i + 1] == ':') start = i + 2;
  }
  std::string name = full.substr(start);
  const std::size_t base_end = std::min(name.find('<'), name.size());
  if (base_end > 4 && std::string_view(name).substr(base_end - 4, 4) == "Impl") name.erase(base_end - 4, 4);
  return name;
}

VOLT_INLINE std::int64_t parameter_bytes(const torch::nn::Module& module) {
  return detail::sum_over_parameters(module, [](const torch::Tensor&) { return true; },
                                     [](const torch::Tensor& p) { return p.numel() * p.element_size(); });
}

VOLT_INLINE std::string summarize(const torch::nn::Module& module, int max_depth,
                             const std::vector<LayerSizes>& layer_sizes) {
  std::vector<std::string> index, names, types, params, in_sizes, out_sizes;
  if (max_depth != 0) {
    for (const auto& item : module.named_modules(/*name_prefix=*/"", /*include_self=*/false)) {
      const auto dots = static_cast<int>(std::count(item.key().begin(), item.key().end(), '.'));
      if (max_depth > 0 && dots >= max_depth) continue;
      index.push_back(std::to_string(names.size()));
      names.push_back(item.key());
      types.push_back(module_type_name(*item.value()));
      params.push_back(human_readable_count(detail::count_parameters(*item.value(), [](const auto&) { return true; })));
      const auto sized = std::find_if(layer_sizes.begin(), layer_sizes.end(),
                                      [&](const LayerSizes& l) { return l.name == item.key(); });
      in_sizes.push_back(sized == layer_sizes.end() ? "?" : sized->in);
      out_sizes.push_back(sized == layer_sizes.end() ? "?" : sized->out);
    }
  }
  const std::int64_t total = detail::count_parameters(module, [](const auto&) { return true; });
  const std::int64_t trainable = detail::count_parameters(module, [](const auto& p) { return p.requires_grad(); });
  // Lightning estimates from the Trainer's precision setting; volt sizes each parameter by its
  // dtype, which the precision set before the summary runs (mixed policies: fp32 parameters).
  const double megabytes = static_cast<double>(parameter_bytes(module)) / 1e6;

  // Lightning's _format_summary_table, including its divider width (sum of widths + 3 per
  // column, counting one column more than there are).
  std::vector<std::pair<std::string, const std::vector<std::string>*>> cols = {
      {" ", &index}, {"Name", &names}, {"Type", &types}, {"Params", &params}};
  if (!layer_sizes.empty()) {
    cols.emplace_back("In sizes", &in_sizes);
    cols.emplace_back("Out sizes", &out_sizes);
  }
  std::vector<std::size_t> widths;
  std::size_t total_width = 3 * (cols.size() + 1);
  for (const auto& [header, cells] : cols) {
    std::size_t w = header.size();
    for (const auto& c : *cells) w = std::max(w, c.size());
    widths.push_back(w);
    total_width += w;
  }
  auto row = [&](auto cell) {
    std::string line;
    for (std::size_t c = 0; c < cols.size(); ++c) {
      if (c) line += " | ";
      line += fmt::format("{:<{}}", cell(c), widths[c]);
    }
    return line;
  };
  const std::string divider(total_width, '-');
  std::string out = row([&](std::size_t c) { return cols[c].first; });
  out += '\n';
  out += divider;
  for (std::size_t r = 0; r < names.size(); ++r) {
    out += '\n';
    out += row([&](std::size_t c) { return (*cols[c].second)[r]; });
  }
  out += '\n';
  out += divider;
  out += fmt::format("\n{:<10}Trainable params", human_readable_count(trainable));
  out += fmt::format("\n{:<10}Non-trainable params", human_readable_count(total - trainable));
  out += fmt::format("\n{:<10}Total params", human_readable_count(total));
  out += fmt::format("\n{:<10}Total estimated model params size (MB)",
                     detail::group_thousands(fmt::format("{:.3f}", megabytes)));
  return out;
}

VOLT_INLINE std::string ModelSummary::summarize(const torch::nn::Module& module, int max_depth) {
  return volt::summarize(module, max_depth);
}

VOLT_INLINE void ModelSummary::on_fit_start(Context& ctx) const {
  if (options_.max_depth == 0 || !ctx.is_global_zero() || !options_.out) return;
  const auto& layers = ctx.state().example_layer_sizes;
  *options_.out << volt::summarize(ctx.module(), options_.max_depth, layers ? layers() : std::vector<LayerSizes>{})
                << '\n';
  // Lightning's In sizes / Out sizes, for a module with an example_input_array (core/example_input.hpp).
  if (const auto& sizes = ctx.state().example_input_sizes) *options_.out << sizes() << '\n';
  options_.out->flush();
}

}  // namespace volt
