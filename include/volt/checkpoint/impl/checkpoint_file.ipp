#pragma once
// Definitions of <volt/checkpoint/checkpoint_file.hpp>: included by the header in header-only mode, compiled once
// into volt::compiled under VOLT_SEPARATE_COMPILATION (include/volt/impl/src.hpp).
#include <volt/checkpoint/checkpoint_file.hpp>

#include <nlohmann/json.hpp>

namespace volt::checkpoint {

namespace detail {

VOLT_INLINE std::uint32_t crc32_update(std::uint32_t crc, std::string_view bytes) noexcept {
  uLong c = crc;
  while (!bytes.empty()) {  // zlib takes uInt lengths
    const std::size_t n = std::min<std::size_t>(bytes.size(), std::size_t{1} << 30);
    c = ::crc32(c, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<uInt>(n));
    bytes.remove_prefix(n);
  }
  return static_cast<std::uint32_t>(c);
}

VOLT_INLINE std::string sum_text(std::uint64_t a, std::uint64_t b, std::uint64_t c) {
  unsigned __int128 v = static_cast<unsigned __int128>(a) + b + c;
  std::string digits;
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  } while (v != 0);
  return digits;
}

VOLT_INLINE std::optional<SectionKind> section_kind(std::string_view name) noexcept {
  for (auto k : {SectionKind::tensors, SectionKind::json, SectionKind::bytes, SectionKind::torch_archive})
    if (to_string(k) == name) return k;
  return std::nullopt;
}

}  // namespace detail

VOLT_INLINE void CheckpointWriter::add_tensors(std::string name, const NamedTensors& tensors) {
  check_new_name(name);
  const std::string where = fmt::format("checkpoint section \"{}\"", name);
  std::ostringstream image;
  detail::write_safetensors_image(image, tensors, {}, where);
  sections_.push_back({std::move(name), SectionKind::tensors, std::move(image).str()});
}

VOLT_INLINE void CheckpointWriter::add_json(std::string name, const nlohmann::json& value) {
  check_new_name(name);
  std::string text;
  try {
    text = value.dump();
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(fmt::format("volt: cannot write checkpoint section \"{}\": {}", name, e.what()));
  }
  sections_.push_back({std::move(name), SectionKind::json, std::move(text)});
}

VOLT_INLINE void CheckpointWriter::add_bytes(std::string name, std::string bytes) {
  check_new_name(name);
  sections_.push_back({std::move(name), SectionKind::bytes, std::move(bytes)});
}

VOLT_INLINE void CheckpointWriter::add_archive(std::string name, torch::serialize::OutputArchive& archive) {
  check_new_name(name);
  std::ostringstream bytes;
  archive.save_to(bytes);
  sections_.push_back({std::move(name), SectionKind::torch_archive, std::move(bytes).str()});
}

VOLT_INLINE bool CheckpointWriter::has(std::string_view name) const noexcept {
  return std::any_of(sections_.begin(), sections_.end(), [&](const auto& s) { return s.name == name; });
}

VOLT_INLINE void CheckpointWriter::write_to(std::ostream& out) const {
  // (nlohmann::json, not ordered_json: one json type instantiated per TU; readers look fields up.)
  nlohmann::json list = nlohmann::json::array();
  std::uint64_t offset = 0;
  for (const auto& s : sections_) {
    list.push_back({{"name", s.name},
                    {"kind", std::string(to_string(s.kind))},
                    {"offset", offset},
                    {"length", static_cast<std::uint64_t>(s.payload.size())},
                    {"crc32", detail::crc32_update(0, s.payload)}});
    offset += s.payload.size();
  }
  const nlohmann::json header_json = {
      {"format", "volt-checkpoint"}, {"volt_version", volt::version}, {"sections", std::move(list)}};
  const std::string header = header_json.dump();
  std::string preamble(checkpoint_magic);
  detail::append_le(preamble, checkpoint_format_version);
  detail::append_le(preamble, static_cast<std::uint64_t>(header.size()));
  const std::uint32_t header_crc =
      detail::crc32_update(detail::crc32_update(0, std::string_view(preamble).substr(8, 12)), header);
  detail::append_le(preamble, header_crc);
  out.write(preamble.data(), static_cast<std::streamsize>(preamble.size()));
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  for (const auto& s : sections_) out.write(s.payload.data(), static_cast<std::streamsize>(s.payload.size()));
}

VOLT_INLINE std::string CheckpointWriter::to_bytes() const {
  std::ostringstream out;
  write_to(out);
  return std::move(out).str();
}

VOLT_INLINE void CheckpointWriter::write(const std::filesystem::path& path) const {
  write_atomically(path, [&](std::ostream& out) { write_to(out); });
}

VOLT_INLINE void CheckpointWriter::check_new_name(const std::string& name) const {
  if (name.empty()) throw std::invalid_argument("volt: a checkpoint section needs a non-empty name");
  if (has(name))
    throw std::invalid_argument(fmt::format("volt: the checkpoint already has a section named \"{}\"", name));
}

VOLT_INLINE CheckpointReader CheckpointReader::open(const std::filesystem::path& path) {
  const auto fail = [&](std::string_view problem) {
    return CheckpointError(path, fmt::format("volt: checkpoint \"{}\" {}", path.string(), problem));
  };
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw fail("does not exist");
  if (std::filesystem::is_directory(path, ec)) throw fail("is a directory, not a file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw fail("cannot be opened for reading");
  std::string bytes;
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  in.seekg(0, std::ios::beg);
  if (size >= 0 && in) {  // a regular file: one read of the known size
    bytes.resize(static_cast<std::size_t>(size));
    in.read(bytes.data(), size);
    if (in.gcount() != size) throw fail("could not be read in full (did it change while it was read?)");
  } else {  // a pipe or other stream without a size
    in.clear();
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (in.bad()) throw fail("could not be read");
  }
  return from_bytes(std::move(bytes), path);
}

VOLT_INLINE CheckpointReader CheckpointReader::from_bytes(std::string bytes, const std::filesystem::path& path) {
  CheckpointReader reader;
  reader.path_ = path;
  reader.data_ = std::make_shared<const std::string>(std::move(bytes));
  reader.validate();
  return reader;
}

VOLT_INLINE NamedTensors CheckpointReader::tensors(std::string_view name) const {
  const Section& s = get(name, SectionKind::tensors);
  NamedTensors out;
  out.reserve(s.tensors.entries.size());
  for (const auto& e : s.tensors.entries) {
    torch::Tensor t = torch::empty(e.shape, torch::TensorOptions().dtype(e.dtype->type));
    if (e.end > e.begin) std::memcpy(t.data_ptr(), s.tensor_data.data() + e.begin, e.end - e.begin);
    out.emplace_back(e.name, std::move(t));
  }
  return out;
}

VOLT_INLINE const nlohmann::json& CheckpointReader::json(std::string_view name) const& {
  return *get(name, SectionKind::json).json;
}

VOLT_INLINE nlohmann::json CheckpointReader::json(std::string_view name) const&& {
  return *get(name, SectionKind::json).json;
}

VOLT_INLINE JsonDocument::JsonDocument() : value_(std::make_unique<nlohmann::json>()) {}

VOLT_INLINE JsonDocument::~JsonDocument() = default;

VOLT_INLINE bool JsonDocument::is_null() const noexcept { return value_->is_null(); }

VOLT_INLINE torch::serialize::InputArchive CheckpointReader::archive(std::string_view name, std::optional<torch::Device> device) const {
  const Section& s = get(name, SectionKind::torch_archive);
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(s.payload.data(), s.payload.size(),
                      device ? c10::optional<torch::Device>(*device) : c10::optional<torch::Device>());
  } catch (const c10::Error& e) {
    throw error(fmt::format("section \"{}\" is not a readable torch archive ({})", name, e.what_without_backtrace()));
  }
  return archive;
}

VOLT_INLINE CheckpointError CheckpointReader::error(std::string_view problem) const {
  return CheckpointError(path_, fmt::format("volt: checkpoint \"{}\" {}", path_.string(), problem));
}

VOLT_INLINE const CheckpointReader::Section* CheckpointReader::find(std::string_view name) const noexcept {
  for (const auto& s : parsed_)
    if (s.info.name == name) return &s;
  return nullptr;
}

VOLT_INLINE const CheckpointReader::Section& CheckpointReader::get(std::string_view name, SectionKind kind) const {
  const Section* s = find(name);
  if (s == nullptr) {
    std::string names;
    for (const auto& x : sections_) names += fmt::format("{}\"{}\"", names.empty() ? "" : ", ", x.name);
    throw error(fmt::format("has no section \"{}\" (it has: {})", name, names.empty() ? "none" : names));
  }
  if (s->info.kind != kind)
    throw error(fmt::format("section \"{}\" holds {}, not {}", name, to_string(s->info.kind), to_string(kind)));
  return *s;
}

VOLT_INLINE void CheckpointReader::validate() {
  const std::string_view file(*data_);
  const auto size = static_cast<std::uint64_t>(file.size());
  constexpr std::string_view earlier = "use an earlier checkpoint";
  const auto truncated = [&](std::string_view what) {
    return error(fmt::format("is truncated: {}; it may have been cut short by a crash — {}", what, earlier));
  };
  const auto corrupt = [&](std::string_view what) {
    return error(
        fmt::format("is corrupt: {}; the file was damaged after it was written (disk, copy or another "
                    "writer) — {}",
                    what, earlier));
  };

  // Preamble.
  const std::size_t magic_bytes = std::min<std::size_t>(file.size(), checkpoint_magic.size());
  if (file.substr(0, magic_bytes) != checkpoint_magic.substr(0, magic_bytes)) {
    const bool zip = file.substr(0, 4) == std::string_view("PK\x03\x04", 4);
    throw error(fmt::format("is not a volt checkpoint: it does not start with \"VOLTCKPT\"{}",
                            zip ? " (it is a zip archive, as torch::save writes)" : ""));
  }
  if (size < checkpoint_preamble_size)
    throw truncated(fmt::format("it has {} bytes, fewer than the {}-byte preamble", size, checkpoint_preamble_size));
  const auto version = detail::load_le<std::uint32_t>(file, 8);
  if (version > checkpoint_format_version)
    throw error(
        fmt::format("has format version {}, but this volt ({}) reads version {}: it was written by a newer "
                    "volt; upgrade volt to load it",
                    version, volt::version, checkpoint_format_version));
  if (version != checkpoint_format_version)
    throw corrupt(fmt::format("its format version is {}, which no volt has written", version));
  const auto header_length = detail::load_le<std::uint64_t>(file, 12);
  if (header_length > size - checkpoint_preamble_size)
    throw truncated(fmt::format("its header needs bytes {}..{} but the file has {}", checkpoint_preamble_size,
                                detail::sum_text(header_length, checkpoint_preamble_size), size));
  const std::string_view header = file.substr(checkpoint_preamble_size, header_length);
  const auto stored_header_crc = detail::load_le<std::uint32_t>(file, 20);
  const auto header_crc = detail::crc32_update(detail::crc32_update(0, file.substr(8, 12)), header);
  if (header_crc != stored_header_crc)
    throw corrupt(fmt::format("its header (bytes {}..{}) has CRC32 {:08x} but the file says {:08x}",
                              checkpoint_preamble_size, checkpoint_preamble_size + header_length, header_crc,
                              stored_header_crc));

  // Header JSON. Past the CRC this can only fail for a file no volt wrote; still, no crash.
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(header);
  } catch (const nlohmann::json::exception& e) {
    throw corrupt(fmt::format("its header is not valid JSON ({})", e.what()));
  }
  const auto bad_header = [&](std::string_view what) { return corrupt(fmt::format("its header {}", what)); };
  if (!root.is_object() || !root.contains("sections") || !root["sections"].is_array())
    throw bad_header("has no \"sections\" list");
  if (root.contains("volt_version") && root["volt_version"].is_string())
    volt_version_ = root["volt_version"].get<std::string>();
  std::set<std::string> names;
  for (const auto& entry : root["sections"]) {
    if (!entry.is_object()) throw bad_header("lists a section that is not a JSON object");
    const auto field = [&](const char* key) -> const nlohmann::json& {
      static const nlohmann::json missing;
      const auto it = entry.find(key);
      return it == entry.end() ? missing : *it;
    };
    SectionInfo info;
    if (!field("name").is_string() || field("name").get<std::string>().empty())
      throw bad_header("lists a section without a name");
    info.name = field("name").get<std::string>();
    if (!names.insert(info.name).second) throw bad_header(fmt::format("lists section \"{}\" twice", info.name));
    const auto kind =
        field("kind").is_string() ? detail::section_kind(field("kind").get<std::string>()) : std::nullopt;
    if (!kind) throw bad_header(fmt::format("gives section \"{}\" an unknown kind", info.name));
    info.kind = *kind;
    if (!field("offset").is_number_unsigned() || !field("length").is_number_unsigned() ||
        !field("crc32").is_number_unsigned() || field("crc32").get<std::uint64_t>() > 0xFFFFFFFFu)
      throw bad_header(fmt::format("gives section \"{}\" no valid offset, length and crc32", info.name));
    info.offset = field("offset").get<std::uint64_t>();
    info.length = field("length").get<std::uint64_t>();
    info.crc32 = static_cast<std::uint32_t>(field("crc32").get<std::uint64_t>());
    sections_.push_back(std::move(info));
  }

  // Every section inside the file, and the sections tiling the payload area exactly.
  const std::uint64_t payload_start = checkpoint_preamble_size + header_length;
  const std::uint64_t payload_size = size - payload_start;
  const auto file_range = [&](const SectionInfo& s) {
    return fmt::format("{}..{}", detail::sum_text(payload_start, s.offset),
                       detail::sum_text(payload_start, s.offset, s.length));
  };
  for (const auto& s : sections_)
    if (s.offset > payload_size || s.length > payload_size - s.offset)
      throw truncated(fmt::format("section \"{}\" needs bytes {} but the file has {}", s.name, file_range(s), size));
  std::uint64_t expected_offset = 0;
  for (const auto& s : sections_) {
    if (s.offset != expected_offset)
      throw bad_header(fmt::format("places section \"{}\" at bytes {}, but the section before it ends at byte {}",
                                   s.name, file_range(s), payload_start + expected_offset));
    expected_offset += s.length;
  }
  if (expected_offset != payload_size)
    throw corrupt(fmt::format("it has {} bytes after its last section (at byte {}); a complete checkpoint ends there",
                              payload_size - expected_offset, payload_start + expected_offset));

  // Every payload's CRC, then its own format.
  for (const auto& s : sections_) {
    const std::string_view payload = file.substr(payload_start + s.offset, s.length);
    const std::uint32_t crc = detail::crc32_update(0, payload);
    if (crc != s.crc32)
      throw corrupt(fmt::format("section \"{}\" (bytes {}) has CRC32 {:08x} but the header says {:08x}", s.name,
                                file_range(s), crc, s.crc32));
    Section parsed{s, payload, {}, {}, {}};
    if (s.kind == SectionKind::json) {
      try {
        parsed.json = std::make_shared<const nlohmann::json>(nlohmann::json::parse(payload));
      } catch (const nlohmann::json::exception& e) {
        throw corrupt(fmt::format("section \"{}\" is not valid JSON ({})", s.name, e.what()));
      }
    } else if (s.kind == SectionKind::tensors) {
      parse_tensor_section(parsed, payload_start);
    }
    parsed_.push_back(std::move(parsed));
  }
}

VOLT_INLINE void CheckpointReader::parse_tensor_section(Section& s, std::uint64_t payload_start) const {
  const detail::Subject subject{path_, fmt::format("checkpoint \"{}\" section \"{}\"", path_.string(), s.info.name)};
  const std::string_view image = s.payload;
  if (image.size() < 8) throw subject.error("is not a valid safetensors image: it is shorter than 8 bytes");
  const auto header_size = detail::load_le<std::uint64_t>(image, 0);
  if (header_size > image.size() - 8)
    throw subject.error(
        fmt::format("is not a valid safetensors image: its header size {} exceeds the section's {} bytes",
                    header_size, image.size()));
  const std::uint64_t buffer_offset = payload_start + s.info.offset + 8 + header_size;
  s.tensors = detail::parse_safetensors_header(image.substr(8, header_size), image.size() - 8 - header_size,
                                               buffer_offset, subject);
  s.tensor_data = image.substr(8 + header_size);
  for (const auto& e : s.tensors.entries)
    detail::check_bool_bytes(e, reinterpret_cast<const unsigned char*>(s.tensor_data.data()) + e.begin, subject);
}

VOLT_INLINE CheckpointReader::CheckpointReader() = default;
VOLT_INLINE CheckpointReader::CheckpointReader(const CheckpointReader&) = default;
VOLT_INLINE CheckpointReader::CheckpointReader(CheckpointReader&&) noexcept = default;
VOLT_INLINE CheckpointReader& CheckpointReader::operator=(const CheckpointReader&) = default;
VOLT_INLINE CheckpointReader& CheckpointReader::operator=(CheckpointReader&&) noexcept = default;
VOLT_INLINE CheckpointReader::~CheckpointReader() = default;

}  // namespace volt::checkpoint
