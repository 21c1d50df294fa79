#pragma once
// Definitions of <volt/checkpoint/safetensors.hpp>: included by the header in header-only mode, compiled once
// into volt::compiled under VOLT_SEPARATE_COMPILATION (include/volt/impl/src.hpp).
#include <volt/checkpoint/safetensors.hpp>

#include <nlohmann/json.hpp>

namespace volt::checkpoint {

namespace detail {

VOLT_INLINE const SafetensorsDtype* safetensors_dtype(std::string_view name) noexcept {
  for (const auto& d : safetensors_dtypes)
    if (d.name == name) return &d;
  return nullptr;
}

VOLT_INLINE const SafetensorsDtype* safetensors_dtype(torch::ScalarType type) noexcept {
  for (const auto& d : safetensors_dtypes)
    if (d.type == type) return &d;
  return nullptr;
}

VOLT_INLINE std::string supported_dtype_names() {
  std::string out;
  for (const auto& d : safetensors_dtypes) out += (out.empty() ? "" : ", ") + std::string(d.name);
  return out;
}

VOLT_INLINE CheckpointError Subject::error(std::string_view problem) const {
  return CheckpointError(file, fmt::format("volt: {} {}", text, problem));
}

VOLT_INLINE std::string shape_text(const std::vector<std::int64_t>& shape) {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}

VOLT_INLINE SafetensorsIndex parse_safetensors_header(std::string_view header, std::uint64_t buffer_size,
                                                 std::uint64_t buffer_offset, const Subject& subject) {
  using json = nlohmann::json;
  const auto invalid = [&](std::string_view problem) {
    return subject.error(fmt::format("is not a valid safetensors file: {}", problem));
  };
  if (header.empty() || header.front() != '{') throw invalid("its JSON header does not start with '{'");

  // JSON parsers keep the last of duplicate keys; the spec forbids duplicates, so find them here.
  std::vector<std::set<std::string>> open_objects;
  std::optional<std::string> duplicate;
  const json::parser_callback_t find_duplicates = [&](int, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::object_start) {
      open_objects.emplace_back();
    } else if (event == json::parse_event_t::object_end) {
      if (!open_objects.empty()) open_objects.pop_back();
    } else if (event == json::parse_event_t::key && !open_objects.empty() && !duplicate) {
      if (!open_objects.back().insert(parsed.get<std::string>()).second) duplicate = parsed.get<std::string>();
    }
    return true;
  };
  json root;
  try {
    root = json::parse(header.begin(), header.end(), find_duplicates);
  } catch (const json::exception& e) {
    throw invalid(fmt::format("its header is not valid JSON ({})", e.what()));
  }
  if (duplicate) throw invalid(fmt::format("its header has the key \"{}\" twice", *duplicate));
  if (!root.is_object()) throw invalid("its header is not a JSON object");

  SafetensorsIndex index;
  for (const auto& [name, info] : root.items()) {
    if (name == "__metadata__") {
      if (!info.is_object()) throw invalid("\"__metadata__\" is not a JSON object");
      for (const auto& [key, value] : info.items()) {
        if (!value.is_string()) throw invalid(fmt::format("\"__metadata__\" value \"{}\" is not a string", key));
        index.metadata.emplace(key, value.get<std::string>());
      }
      continue;
    }
    const auto bad = [&](std::string_view problem) { return invalid(fmt::format("tensor \"{}\" {}", name, problem)); };
    if (!info.is_object()) throw bad("is not described by a JSON object");
    const auto dtype_it = info.find("dtype");
    const auto shape_it = info.find("shape");
    const auto offsets_it = info.find("data_offsets");
    if (dtype_it == info.end() || shape_it == info.end() || offsets_it == info.end())
      throw bad("lacks one of \"dtype\", \"shape\", \"data_offsets\"");
    if (!dtype_it->is_string()) throw bad("has a \"dtype\" that is not a string");
    SafetensorsEntry entry;
    entry.name = name;
    entry.dtype = safetensors_dtype(dtype_it->get<std::string>());
    if (entry.dtype == nullptr)
      throw subject.error(fmt::format("holds tensor \"{}\" of dtype \"{}\", which volt cannot load (it reads {})", name,
                                      dtype_it->get<std::string>(), supported_dtype_names()));
    if (!shape_it->is_array()) throw bad("has a \"shape\" that is not an array");
    // numel must fit int64 (torch's size type) even when a zero dimension makes it 0.
    std::uint64_t numel = 1, product_of_nonzero = 1;
    constexpr auto int64_max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    for (const auto& dim : *shape_it) {
      if (!dim.is_number_unsigned()) throw bad("has a \"shape\" entry that is not a non-negative integer");
      const auto d = dim.get<std::uint64_t>();
      if (d > int64_max || (d != 0 && product_of_nonzero > int64_max / d))
        throw bad("has a shape too large to address");
      if (d != 0) product_of_nonzero *= d;
      numel *= d;
      entry.shape.push_back(static_cast<std::int64_t>(d));
    }
    if (!offsets_it->is_array() || offsets_it->size() != 2 || !(*offsets_it)[0].is_number_unsigned() ||
        !(*offsets_it)[1].is_number_unsigned())
      throw bad("has \"data_offsets\" that are not two non-negative integers");
    entry.begin = (*offsets_it)[0].get<std::uint64_t>();
    entry.end = (*offsets_it)[1].get<std::uint64_t>();
    if (entry.end < entry.begin)
      throw bad(fmt::format("has data_offsets [{}, {}] that end before they begin", entry.begin, entry.end));
    if (numel > std::numeric_limits<std::uint64_t>::max() / entry.dtype->size)
      throw bad("has a shape too large to address");
    const std::uint64_t nbytes = numel * entry.dtype->size;
    if (entry.end - entry.begin != nbytes)
      throw bad(fmt::format("has shape {} of {} ({} bytes), but its data_offsets [{}, {}] span {} bytes",
                            shape_text(entry.shape), entry.dtype->name, nbytes, entry.begin, entry.end,
                            entry.end - entry.begin));
    if (entry.end > buffer_size)
      throw subject.error(fmt::format(
          "is truncated: tensor \"{}\" needs bytes {}..{} but the file has {}; it may have been cut short while it "
          "was written or copied — write or copy it again",
          name, buffer_offset + entry.begin, buffer_offset + entry.end, buffer_offset + buffer_size));
    index.entries.push_back(std::move(entry));
  }

  // No holes, no overlaps, nothing after the last tensor: the buffer is exactly the tensors.
  std::stable_sort(index.entries.begin(), index.entries.end(), [](const auto& a, const auto& b) {
    return a.begin < b.begin || (a.begin == b.begin && a.end < b.end);
  });
  std::uint64_t covered = 0;
  for (const auto& e : index.entries) {
    if (e.begin != covered)
      throw invalid(
          fmt::format("tensor \"{}\" starts at byte {} of the data buffer but the tensors before it end at "
                      "byte {} (the spec allows no holes or overlaps)",
                      e.name, e.begin, covered));
    covered = e.end;
  }
  if (covered != buffer_size)
    throw invalid(
        fmt::format("the tensors cover {} bytes of data but the file has {} bytes after the header "
                    "(trailing bytes are not allowed)",
                    covered, buffer_size));
  return index;
}

VOLT_INLINE void check_bool_bytes(const SafetensorsEntry& e, const unsigned char* data, const Subject& subject) {
  if (e.dtype->type != torch::kBool) return;
  for (std::uint64_t i = 0; i < e.end - e.begin; ++i)
    if (data[i] > 1)
      throw subject.error(
          fmt::format("is not a valid safetensors file: BOOL tensor \"{}\" holds the byte {} (only 0 "
                      "and 1 are booleans)",
                      e.name, static_cast<int>(data[i])));
}

VOLT_INLINE const SafetensorsDtype& check_writable(const std::string& name, const torch::Tensor& t, std::string_view where) {
  if (!t.defined())
    throw std::invalid_argument(fmt::format("volt: cannot write tensor \"{}\" to {}: it is undefined", name, where));
  if (t.layout() != torch::kStrided || t.is_quantized())
    throw std::invalid_argument(
        fmt::format("volt: cannot write tensor \"{}\" to {}: only dense tensors can be stored", name, where));
  const auto* dtype = safetensors_dtype(t.scalar_type());
  if (dtype == nullptr)
    throw std::invalid_argument(fmt::format("volt: cannot write tensor \"{}\" to {}: its dtype {} is not one of {}",
                                            name, where, c10::toString(t.scalar_type()), supported_dtype_names()));
  return *dtype;
}

VOLT_INLINE void write_safetensors_image(std::ostream& out, const NamedTensors& tensors,
                                    const std::map<std::string, std::string>& metadata, std::string_view where) {
  // The header is written as text, in the tensors' order and with the keys in the order the
  // reference implementation writes them ("__metadata__" first; dtype, shape, data_offsets), so
  // files are byte for byte what safetensors writes. nlohmann::json spells (and checks) the
  // strings only.
  std::string text = "{";
  const auto quoted = [&](const std::string& s) {
    try {
      return nlohmann::json(s).dump();
    } catch (const nlohmann::json::exception& e) {
      throw std::invalid_argument(fmt::format(
          "volt: cannot write {}: a tensor name or metadata text is not valid UTF-8 ({})", where, e.what()));
    }
  };
  if (!metadata.empty()) {
    text += "\"__metadata__\":{";
    for (const auto& [key, value] : metadata) text += quoted(key) + ':' + quoted(value) + ',';
    text.back() = '}';
    text += ',';
  }
  std::set<std::string_view> seen;
  std::uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    if (name == "__metadata__")
      throw std::invalid_argument(
          fmt::format("volt: cannot write a tensor named \"__metadata__\" to {}: the name is "
                      "reserved by the safetensors format",
                      where));
    if (!seen.insert(name).second)
      throw std::invalid_argument(fmt::format("volt: cannot write {}: two tensors are named \"{}\"", where, name));
    const SafetensorsDtype& dtype = check_writable(name, t, where);
    const auto nbytes = static_cast<std::uint64_t>(t.numel()) * dtype.size;
    text += fmt::format(R"({}:{{"dtype":"{}","shape":[{}],"data_offsets":[{},{}]}},)", quoted(name), dtype.name,
                        fmt::join(t.sizes(), ","), offset, offset + nbytes);
    offset += nbytes;
  }
  if (text.size() > 1) text.pop_back();  // the last ','
  text += '}';
  text.append((8 - text.size() % 8) % 8, ' ');
  std::string size;
  append_le(size, static_cast<std::uint64_t>(text.size()));
  out.write(size.data(), static_cast<std::streamsize>(size.size()));
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
  for (const auto& [name, t] : tensors) {
    // One tensor at a time on the CPU, so a model on the GPU is not copied to host memory whole.
    const torch::Tensor bytes = t.detach().to(torch::kCPU).contiguous();
    out.write(static_cast<const char*>(bytes.data_ptr()), static_cast<std::streamsize>(bytes.nbytes()));
  }
}

VOLT_INLINE NamedTensors in_reference_order(const NamedTensors& tensors, std::string_view where) {
  NamedTensors sorted = tensors;
  for (const auto& [name, t] : sorted) (void)check_writable(name, t, where);
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    const int ra = safetensors_dtype(a.second.scalar_type())->reference_rank;
    const int rb = safetensors_dtype(b.second.scalar_type())->reference_rank;
    return ra != rb ? ra > rb : a.first < b.first;
  });
  return sorted;
}

}  // namespace detail

VOLT_INLINE void save_safetensors(const std::filesystem::path& path, const NamedTensors& tensors,
                             const std::map<std::string, std::string>& metadata) {
  const std::string where = fmt::format("safetensors file \"{}\"", path.string());
  const NamedTensors ordered = detail::in_reference_order(tensors, where);
  write_atomically(path, [&](std::ostream& out) { detail::write_safetensors_image(out, ordered, metadata, where); });
}

VOLT_INLINE SafetensorsContents read_safetensors(const std::filesystem::path& path) {
  const detail::Subject subject{path, fmt::format("safetensors file \"{}\"", path.string())};
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw subject.error("does not exist");
  if (std::filesystem::is_directory(path, ec)) throw subject.error("is a directory, not a file");
  const std::uint64_t file_size = std::filesystem::file_size(path, ec);
  if (ec) throw subject.error(fmt::format("cannot be read ({})", ec.message()));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw subject.error("cannot be opened for reading");
  const auto read_exactly = [&](void* dst, std::uint64_t n, std::uint64_t at) {
    if (!in.read(static_cast<char*>(dst), static_cast<std::streamsize>(n)) ||
        static_cast<std::uint64_t>(in.gcount()) != n)
      throw subject.error(
          fmt::format("could not be read at bytes {}..{} (did it change while it was read?)", at, at + n));
  };

  if (file_size < 8)
    throw subject.error(fmt::format("is truncated: it has {} bytes, fewer than the 8 of the header size", file_size));
  std::string size_bytes(8, '\0');
  read_exactly(size_bytes.data(), 8, 0);
  const auto header_size = detail::load_le<std::uint64_t>(size_bytes, 0);
  if (header_size > detail::safetensors_max_header)
    throw subject.error(
        fmt::format("is not a valid safetensors file: its header size field says {} bytes, more than "
                    "the format's limit of {}",
                    header_size, detail::safetensors_max_header));
  if (header_size > file_size - 8)
    throw subject.error(
        fmt::format("is truncated: its header needs bytes 8..{} but the file has {}; it may have been "
                    "cut short while it was written or copied — write or copy it again",
                    8 + header_size, file_size));
  std::string header(header_size, '\0');
  read_exactly(header.data(), header_size, 8);
  const std::uint64_t buffer_offset = 8 + header_size;
  const auto index = detail::parse_safetensors_header(header, file_size - buffer_offset, buffer_offset, subject);

  SafetensorsContents contents;
  contents.metadata = index.metadata;
  contents.tensors.reserve(index.entries.size());
  for (const auto& e : index.entries) {  // in offset order: one sequential pass over the file
    torch::Tensor t = torch::empty(e.shape, torch::TensorOptions().dtype(e.dtype->type));
    if (e.end > e.begin) read_exactly(t.data_ptr(), e.end - e.begin, buffer_offset + e.begin);
    detail::check_bool_bytes(e, static_cast<const unsigned char*>(t.data_ptr()), subject);
    contents.tensors.emplace_back(e.name, std::move(t));
  }
  return contents;
}

}  // namespace volt::checkpoint
